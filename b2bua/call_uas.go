package b2bua

import (
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

// The caller's INVITE as its server: provisional and final responses,
// the 2xx retransmitted until ACKed, CANCEL, and the call's timers.

// finalSent reports whether the caller's INVITE has its final response.
func (c *Call) finalSent() bool {
	select {
	case <-c.aFinal:
		return true
	default:
		return false
	}
}

// releaseCaller lets the caller's INVITE handler return (on the way out of
// a call that never answered it).
func (c *Call) releaseCaller() {
	if !c.finalSent() {
		close(c.aFinal)
	}
}

// respondA answers the caller's initial INVITE with our tag and Contact.
// A provisional goes reliably to a caller that offered 100rel (RFC 3262
// §3, call_prack.go); a 2xx waits for the PRACK of a reliable provisional
// that carried SDP.
func (c *Call) respondA(code int, body []byte) {
	if c.finalSent() {
		return
	}
	if code > 100 && code < 200 && c.a != nil && c.a.Rel != relNone {
		c.respondAReliable(code, body)
		return
	}
	if code >= 200 && c.prov != nil {
		if code < 300 && c.prov.sdp {
			// RFC 3262 §3: no 2xx before the PRACK of a reliable
			// provisional that carried a session description.
			c.deferred = &provisional{code: code, body: body}
			return
		}
		c.stopReliable()
	}
	res := c.callerResponse(code, body)
	if code >= 200 && code < 300 {
		res.AppendHeader(sip.NewHeader("Allow", allowMethods))
		c.sessionAnswerA(res)
	} else if code >= 300 {
		if code == 422 {
			res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(wholeSeconds(c.timerConfig().MinSE))))
		}
		// A final failure says why, as a Q.850 cause (RFC 6432): the
		// callee's Reason relayed, or the cause of our own status.
		if c.why.hdr == "" {
			c.why = statusReason(code)
		}
		res.AppendHeader(sip.NewHeader("Reason", c.why.hdr))
		if c.warning != "" {
			res.AppendHeader(sip.NewHeader("Warning", `399 switchboard "`+c.warning+`"`))
		}
	}
	if err := c.aTx.Respond(res); err != nil {
		c.log.Debug("respond to caller failed", "leg", "a", "code", code, "error", err)
	}
	if code >= 200 {
		c.rec.Status = code
		close(c.aFinal)
		if code < 300 {
			c.startRetransmit(res, c.a, c.aReq.CSeq().SeqNo)
		}
	}
}

// callerResponse builds a response to the caller's INVITE: our To tag and,
// below 300, our Contact (RFC 3261 §12.1.1).
func (c *Call) callerResponse(code int, body []byte) *sip.Response {
	res := c.host.response(c.aReq, code, "", body)
	if code > 100 && c.a != nil {
		if to := res.To(); to != nil {
			to.Params.Add("tag", c.a.LocalTag)
		}
		if code < 300 {
			res.AppendHeader(&sip.ContactHeader{Address: *c.a.Contact.Clone()})
		}
	}
	return res
}

// startRetransmit resends a 2xx with T1 doubling up to T2 until its ACK
// arrives or 64·T1 passes (RFC 3261 §13.3.1.4).
func (c *Call) startRetransmit(res *sip.Response, leg *Leg, cseq uint32) {
	c.retrans = &pending2xx{res: res, leg: leg, cseq: cseq, interval: sip.T1, deadline: c.now().Add(64 * sip.T1)}
	if sip.IsReliable(leg.Transport) {
		// Reliable transports need no retransmission; still wait for the ACK.
		c.retrans.interval = 64 * sip.T1
	}
	c.arm(timerRetransmit2xx, c.retrans.interval)
}

func (c *Call) onTimer(kind timerKind) {
	switch kind {
	case timerRing:
		if c.state == stateEarly {
			c.log.Info("no answer", "leg", "both", "ring_timeout", c.host.currentPolicy().cfg.Calls.RingTimeout)
			c.why = q850Reason(causeNoAnswer)
			c.cancelForks(nil)
			c.fail(480, cdr.HangupSwitchboard, "ring timeout", cdr.NoAnswer)
		}
	case timerFailover:
		c.onFailoverTimer()
	case timerRetransmit2xx:
		r := c.retrans
		if r == nil || c.state == stateEnded {
			return
		}
		if c.now().After(r.deadline) {
			c.retrans = nil
			c.log.Info("no ACK for 2xx", "leg", r.leg.Name)
			c.hangup(nil, cdr.HangupSwitchboard, "no ACK")
			return
		}
		if err := c.sip.writeResponse(r.res); err != nil {
			c.log.Debug("2xx retransmit failed", "leg", r.leg.Name, "error", err)
		}
		r.interval = min(2*r.interval, sip.T2)
		c.arm(timerRetransmit2xx, r.interval)
	case timerReliable1xx:
		c.onReliableTimer()
	case timerSessionA:
		c.onSessionTimer(c.a)
	case timerSessionB:
		c.onSessionTimer(c.b)
	case timerService:
		c.onServiceTimer()
	case timerGlare:
		c.onGlareTimer()
	case timerFailMedia:
		c.onFailureMediaTimer()
	}
}

func (c *Call) onAck(e evAck) {
	r := c.retrans
	if r == nil || e.key != r.leg.matchKey() || e.req.CSeq() == nil || e.req.CSeq().SeqNo != r.cseq {
		return
	}
	c.retrans = nil
	c.disarm(timerRetransmit2xx)
	if r.leg == c.a && c.aTx != nil && r.cseq == c.aReq.CSeq().SeqNo {
		// The caller has our answer: its INVITE transaction has nothing
		// left to do. A retransmitted INVITE from now on is absorbed by
		// Server.isRetransmittedInvite while the call lasts.
		c.aTx.Terminate()
	}
	if r.leg == c.a && r.cseq == c.aReq.CSeq().SeqNo {
		c.confirmed()
	}
	if c.offer == offerInAck && r.leg == c.a {
		c.takeAckAnswer(e.req)
	}
}

// answerLateOffer: the callee answered our offer; that answer's codecs
// become our offer to the caller in the 2xx.
// onCancel: the caller's CANCEL ends the call; its Reason (or normal
// clearing) goes on our CANCEL or BYE to the callee.
func (c *Call) onCancel(req *sip.Request) {
	if !c.finalSent() {
		c.noteReason(cdr.HangupCaller, req)
	}
	if d := c.deferred; d != nil && !c.finalSent() {
		// Answered by the callee, but the 2xx waited for a PRACK: the
		// caller's CANCEL wins (the transaction layer sent 487).
		c.deferred = nil
		c.stopReliable()
		c.rec.Answer = time.Time{}
		c.rec.Status = 487
		close(c.aFinal)
		if c.b != nil {
			c.sendBye(c.b)
		}
		c.end(487, cdr.HangupCaller, "cancelled", cdr.Cancelled)
		return
	}
	if c.finalSent() || c.state != stateEarly {
		return
	}
	// The transaction layer has answered the CANCEL with 200 and the INVITE
	// with 487 already.
	c.rec.Status = 487
	close(c.aFinal)
	c.cancelForks(nil)
	c.end(487, cdr.HangupCaller, "cancelled", cdr.Cancelled)
}
