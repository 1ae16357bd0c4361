package b2bua

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

// A call's state is three small machines, each changed only in this file's
// transitions or at the point the comment names:
//
//	callState (the call as the caller sees it):
//
//	  early ──2xx sent to the caller──► answered ──caller's ACK──► confirmed
//	    │                                  │                           │
//	    └── fail: final ≥300, CANCEL ──► ended ◄── hangup: BYE, timeout ┘
//
//	offerState (where SDP offer/answer stands, RFC 3264):
//
//	  callerOffer ─► stable ◄─► relaying   (a re-INVITE's offer sent on, answer due)
//	  lateOffer ─► inAck ─► stable         (caller's INVITE had no SDP: we offered the
//	                                        callee, our 2xx offers the caller, ACK answers)
//
//	bridgeState (media between the legs):
//
//	  idle ──first answer (early media or 2xx)──► running ──end──► stopped
type callState int

const (
	// stateEarly: the caller's INVITE has no final response; forks ring.
	stateEarly callState = iota
	// stateAnswered: a 2xx went to the caller; its ACK is due.
	stateAnswered
	// stateConfirmed: the caller ACKed; both dialogs are confirmed.
	stateConfirmed
	// stateEnded: the record is written; the call lingers for late responses.
	stateEnded
)

var callStateNames = [...]string{"early", "answered", "confirmed", "ended"}

func (s callState) String() string { return callStateNames[s] }

// up reports whether the call is answered (ACKed or not) and not ended.
func (s callState) up() bool { return s == stateAnswered || s == stateConfirmed }

// offerState is where offer/answer stands on the call (RFC 3264).
type offerState int

const (
	// offerCaller: the caller's INVITE offered; the forks' answers are due.
	offerCaller offerState = iota
	// offerLate: the caller's INVITE had no SDP (RFC 3261 §13.2.1); we
	// offered our codecs to the callee.
	offerLate
	// offerInAck: our 2xx offered the callee's choice to the caller; the
	// answer comes in the caller's ACK.
	offerInAck
	// offerStable: no negotiation in progress.
	offerStable
	// offerRelaying: a re-INVITE's offer went to the other leg; its answer
	// is due. Another offer meanwhile is glare (491).
	offerRelaying
)

// bridgeState says whether media flows between the legs.
type bridgeState int

const (
	// bridgeIdle: endpoints are open, nothing is relayed yet.
	bridgeIdle bridgeState = iota
	// bridgeRunning: relaying (early media or answered).
	bridgeRunning
	// bridgeStopped: the call ended.
	bridgeStopped
)

// outState is where one client INVITE (a fork or a re-INVITE) stands.
type outState int

const (
	// outPending: sent, no final response.
	outPending outState = iota
	// outEarly: a fork whose early media (183 with SDP) is bridged.
	outEarly
	// outCancelled: a fork we CANCELled (it may still answer: ACK and BYE).
	outCancelled
	// outAnswered: a 2xx came and was ACKed.
	outAnswered
)

// answered is the transition early → answered: the 2xx to the caller
// went out.
func (c *Call) answered() {
	c.state = stateAnswered
	c.startRecording() // recording.go
	c.rec.Answer = time.Now()
	c.records.Up(&c.rec)
	c.disarm(timerRing)
}

// confirmed is the transition answered → confirmed: the caller's ACK.
func (c *Call) confirmed() {
	if c.state == stateAnswered {
		c.state = stateConfirmed
	}
}

// startBridge is the transition idle → running.
func (c *Call) startBridge() {
	if c.bridgeState != bridgeIdle {
		return
	}
	c.bridgeState = bridgeRunning
	c.bridge.Start(func(reason string) { go c.post(evMediaTimeout{reason: reason}) })
}

// ---- endings: every way to stateEnded ----

// fail ends a call that was never answered: final status to the caller,
// CANCEL to pending forks. side and disposition are cdr constants
// (disposition "" derives it from the status).
func (c *Call) fail(code int, side, reason, disposition string) {
	c.log.Info("call failed", "leg", "both", "status", code, "reason", reason)
	c.respondA(code, nil)
	c.cancelForks(nil)
	c.end(code, side, reason, disposition)
}

// hangup ends an answered call: BYE to every leg but from.
func (c *Call) hangup(from *Leg, side, reason string) {
	if c.state == stateEnded {
		return
	}
	if c.why.hdr == "" {
		c.why = normalClearing
	}
	for _, l := range []*Leg{c.a, c.b} {
		if l != nil && l != from {
			c.sendBye(l)
		}
	}
	c.end(c.rec.Status, side, reason, cdr.Answered)
}

// abort ends the call from Switchboard's side whatever its state.
func (c *Call) abort(code int, reason string) {
	switch c.state {
	case stateEnded:
	case stateEarly:
		c.fail(code, cdr.HangupSwitchboard, reason, cdr.Failed)
	default:
		c.hangup(nil, cdr.HangupSwitchboard, reason)
	}
}

// end marks the call over and writes its one CDR; the call lingers
// while forks may still answer.
func (c *Call) end(status int, side, reason, disposition string) {
	if c.state == stateEnded {
		return
	}
	c.state = stateEnded
	c.disarm(timerRing)
	c.disarm(timerRetransmit2xx)
	c.disarm(timerReliable1xx)
	c.disarm(timerSessionA)
	c.disarm(timerSessionB)
	c.lingerUntil = c.now().Add(64 * sip.T1)
	c.abandonTransfer()
	c.stopFailureMedia() // failure_media.go
	c.stopRingback()     // ringback.go
	if c.bridge != nil {
		c.bridge.Stop()
		c.bridgeState = bridgeStopped
	}
	c.stopStreams()     // call_streams.go
	c.stopRecording()   // recording.go
	c.leaveConference() // conference.go
	if disposition == "" {
		disposition = cdr.Disposition(status, false)
	}
	c.writeCDR(status, side, reason, disposition)
	c.host.releaseCall(c)
	if c.fraudRelease != nil {
		c.fraudRelease()
	}
	c.releaseTrunk() // trunk max_calls (trunk_policy.go)
	c.disarm(timerFailover)
	attrs := []any{"leg", "both", "status", status, "disposition", disposition, "hangup_side", side, "reason", reason}
	if q := c.rec.Quality; q != nil {
		attrs = append(attrs, q.Summary()...)
	}
	c.log.Info("call ended", attrs...)
}
