package b2bua

import (
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo/sip"
)

// In-dialog robustness for the re-INVITEs Switchboard relays:
//
//	re-INVITE relayed to leg L ─► 491 (glare: L sent its own offer meanwhile)
//	    ─► wait (RFC 3261 §14.1): 2.1–4 s when the Call-ID of L's dialog is
//	       ours (we sent its INVITE), 0–2 s otherwise, in 10 ms units
//	    ─► the same offer sent again (once); its answer goes to the offerer
//	re-INVITE failure (other than 491 retried, 481, 408): the offerer gets
//	    the status and the session in force stays (§14.1): its leg's media
//	    address, direction and ptime are put back.
//	481 or 408 to a request on a leg: that dialog is gone; the call ends
//	    with BYE on the other leg and one record (RFC 5057 §5.1).

// glareDelay is how long to wait before retrying a re-INVITE that got
// 491 on a leg (RFC 3261 §14.1): ownsCallID when Switchboard chose the
// dialog's Call-ID.
func glareDelay(ownsCallID bool, r *rand.Rand) time.Duration {
	if ownsCallID {
		return 2100*time.Millisecond + time.Duration(r.IntN(191))*10*time.Millisecond
	}
	return time.Duration(r.IntN(201)) * 10 * time.Millisecond
}

// retryGlare arms the §14.1 timer for a relayed re-INVITE that got 491;
// false when it was a retry already (the 491 then goes to the offerer).
func (c *Call) retryGlare(out *outTx) bool {
	if out.origin == nil || out.glare || c.glareOut != nil {
		return false
	}
	c.glareOut = out
	c.offer = offerRelaying // other offers meanwhile are glare too
	d := glareDelay(out.leg.UAC, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(out.leg.CallID)))))
	c.log.Info("re-INVITE glare: retrying", "leg", out.leg.Name, "after", d)
	c.arm(timerGlare, d)
	return true
}

// onGlareTimer sends the offer again.
func (c *Call) onGlareTimer() {
	out := c.glareOut
	c.glareOut = nil
	if out == nil {
		return
	}
	if !c.state.up() {
		c.offer = offerStable
		return
	}
	req := out.leg.newRequest(c.host, sip.INVITE)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(out.req.Body())
	again := &outTx{method: sip.INVITE, leg: out.leg, req: req, origin: out.origin, offer: out.offer, undo: out.undo, glare: true}
	if err := c.send(again); err != nil {
		c.offer = offerStable
		c.reinviteFailed(again, 500)
	}
}

// keepSession snapshots what a relayed offer is about to change on the
// offerer's leg, for undo when the re-INVITE fails.
func keepSession(l *Leg) func() {
	remote, _ := l.Endpoint.Remote()
	dir, ptime, rtcp, xr := l.Direction, l.Ptime, l.RTCP, l.XR
	return func() {
		l.Endpoint.SetRemote(remote)
		l.Direction, l.Ptime, l.RTCP, l.XR = dir, ptime, rtcp, xr
	}
}

// reinviteFailed answers the offerer of a failed relayed re-INVITE and
// keeps the session in force.
func (c *Call) reinviteFailed(out *outTx, code int) {
	if out.undo != nil {
		out.undo()
	}
	c.answer(out.origin, relayStatus(code), nil)
}
