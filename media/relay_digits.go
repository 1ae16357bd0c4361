package media

import (
	"time"

	"github.com/switchboard/switchboard/media/dtmf"
	"github.com/switchboard/switchboard/media/rtp"
)

// Digits on relayed directions. A relayed direction passes its leg's
// RFC 4733 packets on unchanged; when BridgeConfig.OnDigit is set it also
// reads them on the way, so that a relayed call's digits reach its record
// and the features keyed by DTMF (recording and conference codes) as a
// processed call's do:
//
//	relay.HandleRTP ──► PT is the leg's telephone-event? ──► relayDigits.observe
//	      │                (one atomic load and a compare        └─ key released: OnDigit
//	      ▼                 per relayed packet)
//	rewrite, send (unchanged)

// relayDigits reads the telephone-events of one relayed direction. It is
// owned by the direction's reactor goroutine; Configure replaces it whole.
type relayDigits struct {
	pt      uint8 // the leg's telephone-event payload type
	clock   int   // its clock rate
	rx      *dtmf.Receiver
	start   time.Time // when the key being pressed was first reported
	onDigit func(from *Endpoint, d Digit)
}

// newRelayDigits returns the reader for a relayed direction from a leg
// of format in, or nil when there is nothing to read or no one to tell.
func newRelayDigits(in *LegFormat, onDigit func(*Endpoint, Digit)) *relayDigits {
	if onDigit == nil || !in.TelephoneEvent.present() {
		return nil
	}
	return &relayDigits{pt: in.TelephoneEvent.PT, clock: max(in.TelephoneEvent.Clock, 8000),
		rx: dtmf.NewReceiver(), onDigit: onDigit}
}

// observe reads one telephone-event packet from from (RFC 4733 §2.5.2):
// each key released is reported once, with its start and its duration
// from the event's own duration field.
func (r *relayDigits) observe(from *Endpoint, h rtp.Header, payload []byte, now int64) {
	reps, err := r.rx.Push(h, payload)
	if err != nil {
		return
	}
	for _, rep := range reps {
		if rep.Edge == dtmf.Press {
			r.start = time.Unix(0, now)
			continue
		}
		if rep.Key != 0 {
			r.onDigit(from, Digit{Key: rep.Key, Start: r.start, Duration: rep.Time(r.clock)})
		}
	}
}
