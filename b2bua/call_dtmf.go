package b2bua

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/media/dtmf"
)

// DTMF interworking, per leg, by what the leg negotiated:
//
//	leg with telephone-event ──RFC 4733──► media
//	     ├─ far leg has telephone-event: relayed as they are (same codec
//	     │  and event clock; the relay reads them for OnDigit), or re-sent
//	     │  by media at the far leg's event clock, duration kept (8000 ↔ 48000 Hz)
//	     └─ far leg has none: OnDigit → evDigit → SIP INFO to the far leg
//	        (application/dtmf-relay, Signal and Duration)
//	leg without telephone-event: tones found in its audio (Q.24 detector)
//	     └─ sent on as RFC 4733 (the tone muted) or as SIP INFO, like events
//	SIP INFO (application/dtmf-relay or application/dtmf) from a leg
//	     ├─ far leg has telephone-event: Bridge.SendDigit → RFC 4733 out,
//	     │  the INFO answered 200 here
//	     └─ far leg has none: the INFO is relayed as it is
//
// Every digit, whichever way it came, goes into the call's record. A call
// whose legs differ in telephone-event support is processed in both
// directions (legFormat / configureMedia), so that media can both detect
// the events of one leg and generate them towards the other.

// evDigit is a DTMF key press media detected on a processing direction.
type evDigit struct {
	from *media.Endpoint
	d    media.Digit
}

// onDigit is the bridge's OnDigit callback: it runs on a reactor
// goroutine, so it only posts the event.
func (c *Call) onDigit(from *media.Endpoint, d media.Digit) {
	go c.post(evDigit{from: from, d: d})
}

// hasTelephoneEvent reports whether a leg negotiated RFC 4733 events.
func hasTelephoneEvent(l *Leg) bool {
	return l != nil && legFormat(l.Codecs, l.Ptime).TelephoneEvent.Name != ""
}

// legOf returns the leg whose endpoint is ep.
func (c *Call) legOf(ep *media.Endpoint) *Leg {
	switch {
	case c.a != nil && c.a.Endpoint == ep:
		return c.a
	case c.b != nil && c.b.Endpoint == ep:
		return c.b
	}
	return nil
}

// onDigitEvent records a digit received as RFC 4733 and sends it on as
// SIP INFO where the far leg has no telephone-event.
func (c *Call) onDigitEvent(e evDigit) {
	from := c.legOf(e.from)
	if from == nil || !c.state.up() {
		return
	}
	via := cdr.DigitRFC4733
	if e.d.Inband {
		via = cdr.DigitInband
	}
	c.recordDigit(from, e.d.Key, e.d.Start, e.d.Duration, via)
	if c.conferenceDigit(e.d.Key) { // a conference PIN (conference.go)
		return
	}
	to := c.other(from)
	if to == nil || hasTelephoneEvent(to) {
		return // media re-sent it as RFC 4733
	}
	body, err := dtmf.FormatInfo(dtmf.ContentTypeDTMFRelay, e.d.Key, e.d.Duration)
	if err != nil {
		c.log.Info("dtmf: digit not sent as INFO", "leg", from.Name, "error", err)
		return
	}
	req := to.newRequest(c.host, sip.INFO)
	req.AppendHeader(sip.NewHeader("Content-Type", dtmf.ContentTypeDTMFRelay))
	req.SetBody(body)
	if err := c.send(&outTx{method: sip.INFO, leg: to, req: req}); err != nil {
		c.log.Info("dtmf: INFO not sent", "leg", to.Name, "error", err)
	}
}

// onInfo handles an in-dialog INFO from a leg: a DTMF INFO becomes
// RFC 4733 towards a far leg with telephone-event; anything else (or
// towards a leg without events) is relayed.
func (c *Call) onInfo(e *evRequest, from *Leg) {
	ct := ""
	if h := e.req.ContentType(); h != nil {
		ct = h.Value()
	}
	if !dtmf.IsInfoType(ct) {
		c.relay(e, from)
		return
	}
	key, dur, err := dtmf.ParseInfo(ct, e.req.Body())
	if err != nil {
		c.log.Info("dtmf: bad INFO body", "leg", from.Name, "error", err)
		c.answer(e, 400, nil)
		return
	}
	c.recordDigit(from, key, time.Now(), dur, cdr.DigitInfo)
	if c.conferenceDigit(key) { // a conference PIN (conference.go)
		c.answer(e, 200, nil)
		return
	}
	to := c.other(from)
	if to != nil && c.state.up() && hasTelephoneEvent(to) && c.bridge != nil && c.bridge.SendDigit(to.Endpoint, key, dur) == nil {
		c.answer(e, 200, nil)
		return
	}
	c.relay(e, from)
}

// recordDigit adds a key press to the call's record.
func (c *Call) recordDigit(from *Leg, key byte, at time.Time, dur time.Duration, via string) {
	c.rec.Digits = append(c.rec.Digits, cdr.Digit{Leg: from.Name, Key: string(key), At: at, DurationMs: dur.Milliseconds(), Via: via})
	c.recordingKey(from, key) // a recording code (recording_dtmf.go)
}
