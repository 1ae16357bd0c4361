package b2bua

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/rtcpstats"
)

// A call's accounting: its record opens with the INVITE (newRecord), the
// call's events fill it as they learn (route, trunk, codecs, answer time,
// the status sent to the caller) and end writes it exactly once
// (writeCDR), whatever way the call ended.

// newRecord starts the record of a call from the caller's INVITE.
func newRecord(id string, req *sip.Request) cdr.Record {
	r := cdr.Record{
		CallID:  id,
		ACallID: callIDOf(req),
		Start:   time.Now(),
		Dialled: req.Recipient.User,
	}
	if f := req.From(); f != nil {
		r.From = f.Address.User + "@" + f.Address.Host
	}
	if t := req.To(); t != nil {
		r.To = t.Address.User + "@" + t.Address.Host
	}
	return r
}

// writeCDR completes the record and hands it to the sink, once. side and
// disposition are cdr constants (cdr.HangupCaller, cdr.Answered, ...).
func (c *Call) writeCDR(status int, side, reason, disposition string) {
	if c.recWritten {
		return
	}
	c.recWritten = true
	r := &c.rec
	r.End = time.Now()
	if status != 0 {
		r.Status = status
	}
	r.Disposition = disposition
	r.HangupSide = side
	r.HangupReason = reason
	c.recordReason(r)
	r.DurationS = r.End.Sub(r.Start).Seconds()
	if !r.Answer.IsZero() {
		r.BillableS = r.End.Sub(r.Answer).Seconds()
	}
	if c.a != nil && c.a.Endpoint != nil {
		st := c.a.Endpoint.Stats()
		r.AToBPackets, r.AToBBytes = st.PacketsIn, st.BytesIn
		r.BToAPackets, r.BToABytes = st.PacketsOut, st.BytesOut
	}
	c.recordSRTP()     // srtp_offer.go
	c.recordStreams(r) // call_streams.go
	if c.bridgeState != bridgeIdle {
		// Every call with media leaves its quality record, relayed or
		// processed, inside its one CDR (rtcpstats.CallQuality).
		r.Quality = c.quality()
	}
	c.records.Write(*r)
}

// quality is the call's quality record so far, nil while no RTP has
// passed (a call without media has nothing to rate).
func (c *Call) quality() *rtcpstats.CallQuality {
	if c.a == nil || c.a.Endpoint == nil || c.epB == nil || !hadMedia(c.a.Endpoint, c.epB) {
		return nil
	}
	q := media.CallQuality(c.a.Endpoint, c.epB)
	return &q
}

// hadMedia reports whether RTP reached or left either endpoint.
func hadMedia(a, b *media.Endpoint) bool {
	sa, sb := a.Stats(), b.Stats()
	return sa.PacketsIn+sa.PacketsOut+sb.PacketsIn+sb.PacketsOut > 0
}
