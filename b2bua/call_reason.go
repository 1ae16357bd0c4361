package b2bua

import (
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
)

// Why a call ended, carried end to end as a Reason header (RFC 3326):
//
//	caller BYE/CANCEL ──Reason? ──► noteReason(caller) ──► our BYE/CANCEL to the callee
//	callee BYE ────────Reason? ──► noteReason(callee) ──► our BYE to the caller
//	callee 4xx-6xx ────Reason? ──► relayFailure: status (trunk's q850_to_sip),
//	                               its Reason relayed, or the Q.850 cause of the
//	                               status (trunk's sip_to_q850) ──► final to the caller
//	Switchboard's own failure ───► statusReason(code) ──► final to the caller, CANCEL
//	a fork that lost ────────────► SIP;cause=200 "Call completed elsewhere" on its CANCEL/BYE
//
// The first message that ends the call sets Call.why; every later BYE,
// CANCEL and failure response of the call carries it, and the CDR records
// its Q.850 cause, its value and whose it was. A message without a Reason
// (or with one that does not parse) ends the call with Q.850 cause 16.
// The default values are formatted once, so the usual call adds only the
// header to each message.

// endReason is the Reason that ends a call.
type endReason struct {
	// hdr is the Reason header value sent on ("" until the call ends).
	hdr string
	// q850 is its Q.850 cause; 0 when it carries none.
	q850 int
	// side is whose Reason it is: a cdr.Hangup* constant.
	side string
}

var (
	// normalClearing ends a call by BYE or CANCEL without a Reason of its
	// own: Q.850;cause=16;text="Normal call clearing" (RFC 3398 §8.2.6.1).
	normalClearing = endReason{hdr: cause.Format(cause.NormalClearing()), q850: cause.Normal, side: cdr.HangupSwitchboard}
	// completedElsewhere goes on the CANCEL (or BYE) of a fork that lost
	// to another (RFC 3326 §2).
	completedElsewhere = cause.Format(cause.CompletedElsewhere())
)

// causeNoAnswer is the Q.850 cause of a ring timeout: 19 "No answer from
// user (user alerted)", which RFC 3398 §7.2.4.1 maps to 480.
const causeNoAnswer = 19

// reasonHeader is the header name as sipgo stores it (lower case avoids
// its allocation on lookup).
const reasonHeader = "reason"

// reasonsOf parses every Reason header of a message; nil when it has none
// or one does not parse (a malformed Reason is ignored, not relayed).
func reasonsOf(m interface{ GetHeaders(string) []sip.Header }) []cause.Reason {
	var all []cause.Reason
	for _, h := range m.GetHeaders(reasonHeader) {
		rs, err := cause.ParseReason(h.Value())
		if err != nil {
			return nil
		}
		all = append(all, rs...)
	}
	return all
}

// reasonFrom is the endReason of reasons received from side (nil: def).
func reasonFrom(side string, rs []cause.Reason, def endReason) endReason {
	if len(rs) == 0 {
		return def
	}
	r := endReason{hdr: cause.Format(rs...), side: side}
	if q, ok := cause.Find(rs, cause.ProtocolQ850); ok {
		r.q850 = q.Cause
	}
	return r
}

// noteReason records the Reason of the request (BYE, CANCEL) from side
// that ends the call; the first such request wins.
func (c *Call) noteReason(side string, req *sip.Request) {
	if c.why.hdr == "" {
		c.why = reasonFrom(side, reasonsOf(req), normalClearing)
	}
}

// statusReason is the Reason Switchboard gives for a failure of its own
// with status code: the Q.850 cause of the status (RFC 3398 §8.2.6.1).
func statusReason(code int) endReason { return q850Reason(cause.FromSIP(code)) }

// q850Reason is a Reason of Switchboard's for Q.850 cause q.
func q850Reason(q int) endReason {
	return endReason{hdr: cause.Format(cause.Q850(q)), q850: q, side: cdr.HangupSwitchboard}
}

// targetCauses are the cause overrides of the trunk the call went out to
// (nil: the RFC 3398 tables).
func (c *Call) targetCauses() *cause.Overrides {
	if c.target.Kind == TargetTrunk && c.target.Trunk != nil {
		return c.target.Trunk.Causes
	}
	return nil
}

// relayFailure takes the failure status and Reasons of the callee's final
// response that is relayed to the caller (RFC 6432): it returns the status
// for the caller (the trunk's q850_to_sip entry for its Q.850 cause, if
// any, then failureToCaller) and sets why to the callee's Reason, with the
// Q.850 cause of its status (trunk's sip_to_q850) added when the callee
// gave none.
func (c *Call) relayFailure(status int, rs []cause.Reason) int {
	o := c.targetCauses()
	code := failureToCaller(o.RelayStatus(status, rs))
	q, fromReason := o.FromResponse(status, rs)
	side := cdr.HangupCallee
	if !fromReason {
		if len(rs) == 0 {
			side = cdr.HangupSwitchboard
		}
		rs = append(rs, cause.Q850(q))
	}
	c.why = endReason{hdr: cause.Format(rs...), q850: q, side: side}
	return code
}

// cancelReason is the Reason of the CANCEL to a fork: completed elsewhere
// when another fork answered, else why the call ends.
func (c *Call) cancelReason(won *outTx) string {
	if won != nil {
		return completedElsewhere
	}
	return c.endingReason()
}

// byeReason is the Reason of a BYE to leg l: completed elsewhere for a
// fork that answered after another had won, else why the call ends.
func (c *Call) byeReason(l *Leg) string {
	if c.b != nil && l != c.b && l != c.a {
		return completedElsewhere
	}
	return c.endingReason()
}

// endingReason is why's header, normal clearing until something set it.
func (c *Call) endingReason() string {
	if c.why.hdr == "" {
		return normalClearing.hdr
	}
	return c.why.hdr
}

// recordReason fills the record's cause fields from why, or from the
// status when nothing set it (an answered call: 16).
func (c *Call) recordReason(r *cdr.Record) {
	r.Reason, r.ReasonSide, r.Q850Cause = c.why.hdr, c.why.side, c.why.q850
	if r.Q850Cause == 0 {
		r.Q850Cause = c.targetCauses().FromSIP(r.Status)
	}
}
