package b2bua

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/recorder"
)

// Events delivered to a call (Call.post). Everything that changes a call
// arrives as one of these and runs under the call's lock.
type (
	// evRequest is an in-dialog request on one of the call's legs.
	evRequest struct {
		req  *sip.Request
		tx   sip.ServerTransaction
		key  string
		done chan struct{}
	}
	// evAck is an ACK on one of the call's dialogs.
	evAck struct {
		req *sip.Request
		key string
	}
	// evResponse is a response to a request the call sent.
	evResponse struct {
		out *outTx
		res *sip.Response
	}
	// evTxEnd says a client transaction the call started has ended.
	evTxEnd struct {
		out *outTx
		err error
	}
	// evCancel is the caller's CANCEL (already answered by the
	// transaction layer).
	evCancel       struct{ req *sip.Request }
	evStray        struct{ res *sip.Response }
	evShutdown     struct{}
	evHangup       struct{ reason string } // from the operations API
	evLinger       struct{}                // the linger after the end is over
	evMediaTimeout struct{ reason string }
	evTimer        struct {
		kind timerKind
		gen  int
	}
)

type timerKind int

const (
	timerRing timerKind = iota
	timerRetransmit2xx
	timerLinger
	timerReliable1xx // retransmits the caller's reliable provisional (RFC 3262 §3)
	timerSessionA    // leg A's session refresh or expiry (RFC 4028, call_timer.go)
	timerSessionB    // leg B's
	timerService     // checks a service's end (service_call.go)
	timerFailover    // a DNS-named trunk's silent target (trunk_dns.go)
	timerGlare       // retry of a re-INVITE that got 491 (call_glare.go)
	timerFailMedia   // a failure's early media played out (failure_media.go)
	numTimers
)

// outTx is a client transaction the call started.
type outTx struct {
	method sip.RequestMethod
	leg    *Leg
	req    *sip.Request
	tx     sip.ClientTransaction
	// final is the final status received (0 while pending).
	final int
	// fork: this INVITE targets one contact of the callee.
	fork  bool
	state outState
	// settled: counted out of Call.live (final response or end of transaction).
	settled bool
	// finalSeen: a final response reached the response hook (read by the
	// transaction's end callback, which runs outside the call's lock).
	finalSeen atomic.Bool
	// origin is the request on the other leg this one relays (re-INVITE, INFO).
	origin *evRequest
	// offer is the codec list offered on leg (origin leg's payload types).
	offer []media.Codec
	// refresh: a session refresh we sent (RFC 4028); retried: a fork's
	// INVITE sent again after 422.
	refresh, retried bool
	// reasons are the Reason headers of a fork's failure response.
	reasons []cause.Reason
	// transfer: the INVITE to a transfer's target (call_refer.go).
	transfer bool
	// glare: a relayed re-INVITE sent again after 491; undo puts the
	// offerer's session back if it fails (call_glare.go).
	glare bool
	undo  func()
	// fax: a T.38 re-INVITE (call_fax.go).
	fax bool
	// rseq is the RSeq of the last reliable provisional of a fork we
	// PRACKed (RFC 3262 §4).
	rseq uint32
}

// pending2xx is a 2xx Switchboard sent as UAS and must retransmit until
// the ACK arrives (RFC 3261 §13.3.1.4).
type pending2xx struct {
	res      *sip.Response
	leg      *Leg
	cseq     uint32
	interval time.Duration
	deadline time.Time
}

// Call owns one caller leg, the callee-side forks and one media bridge.
// Its events run one at a time under mu, on whichever goroutine delivers
// them: the SIP message's, a transaction's response pump, a timer's. An
// earlier design gave each call a goroutine fed by a channel; each event
// was then two hand-offs between goroutines (and often between cores),
// and the goroutine's stack grew for every call. Code running an event
// must never wait for another event of the same call; callbacks from
// media and from transactions post from goroutines of their own.
type Call struct {
	id      string
	host    callHost
	sip     sipSender
	media   mediaPath
	records recordSink
	log     *slog.Logger

	mu     sync.Mutex
	over   bool          // cleaned up; events are refused
	done   chan struct{} // closed when over
	linger stopper       // ends the call's linger (see lingerUntil)
	// aFinal is closed when the caller's INVITE has its final response:
	// it is the state of that transaction (see finalSent).
	aFinal chan struct{}

	aReq *sip.Request
	aTx  sip.ServerTransaction
	a    *Leg
	b    *Leg // the answering fork's leg, once answered
	outs []*outTx
	live int // client transactions not yet ended

	// Toll-fraud limits (call_guard.go): the slot to release at the end,
	// and the reason of a refusal for the caller's Warning header.
	fraudRelease func()
	warning      string
	// failover is a DNS-named trunk call's target state (trunk_dns.go).
	failover *trunkFailover
	// trunkSlot is the trunk whose max_calls this call counts in (trunk_policy.go).
	trunkSlot *Trunk
	// trunkRefusal names the limit that refused the trunk (trunk_policy.go).
	trunkRefusal string
	// ident is the call's STIR/SHAKEN verification result (identity.go).
	ident callIdentity
	// failMedia is a failure's early media playing (failure_media.go).
	failMedia *failureMedia
	// ringback is the local ringback playing (ringback.go).
	ringback mediaTerminal
	// recKeys are each leg's last keys, for recording codes (recording_dtmf.go).
	recKeys recordingKeys

	caller    string // authenticated user, or "trunk:NAME"
	fromTrunk *Trunk
	target    Target
	bridge    mediaBridge
	svc       *service // a call answered by Switchboard (service_call.go)
	// record: a policy asks for the call's recording, open while the call
	// is up (recording.go).
	record    bool
	recording *recorder.Recorder
	moh       *mohState // a hold answered with music on hold (moh.go)
	epB       *media.Endpoint
	allowed   []string
	ptime     int
	// aOffer is the caller's offer as FilterCodecs left it (its payload
	// types): the codecs the caller's side may use.
	aOffer         []media.Codec
	calleeCodecs   []string      // the target's codec preference, if it has one
	reOffer        []media.Codec // the re-INVITE offerer's filtered offer, while relaying it
	opusComplexity int
	ackOffer       []media.Codec // what the 2xx offered the caller (callee's PTs), offerInAck
	srtp           callSRTP      // each leg's SDES state (srtp_offer.go)
	streams        callStreams   // the m-lines beside audio (call_streams.go)

	// The call's states (call_state.go): where the call stands, where
	// offer/answer stands, and whether media flows.
	state       callState
	offer       offerState
	bridgeState bridgeState

	timerGen [numTimers]int
	timers   [numTimers]stopper // the armed timer of each kind, stopped when disarmed
	clock    clock              // the timers' time source (clock.go); nil is the real clock
	retrans  *pending2xx
	// prov is our reliable provisional to the caller awaiting its PRACK,
	// provNext the provisional queued behind it, deferred a final response
	// held until that PRACK (call_prack.go).
	prov     *reliable1xx
	provNext *provisional
	deferred *provisional
	// sessA and sessB are each leg's session timer (call_timer.go).
	sessA, sessB sessionTimer
	// xfer is the call's transfer, in progress or done (call_refer.go).
	xfer *transfer
	// glareOut is the re-INVITE waiting to be sent again (call_glare.go).
	glareOut *outTx
	// why is the Reason that ends the call (call_reason.go).
	why         endReason
	rec         cdr.Record
	recWritten  bool
	dialogKeys  []string
	invite      string // initialKey of the caller's INVITE
	lingerUntil time.Time
	removed     bool // guarded by Server.mu: counted out of Server.callWG
	// ref reaches the call from callbacks kept by transactions that outlive
	// it (CANCEL, 2xx retransmissions): it holds the call while it runs and
	// nil after, so those callbacks never keep an ended call in memory.
	ref *atomic.Pointer[Call]
}

func newCall(s *Server, req *sip.Request, tx sip.ServerTransaction) *Call {
	id := s.newCallID()
	c := &Call{
		id:      id,
		host:    s,
		sip:     s.sender,
		media:   s.mediaPath,
		records: s.records,
		log:     slog.New(&lazyAttrs{h: s.log.Handler()}).With("call_id", id),
		done:    make(chan struct{}),
		aFinal:  make(chan struct{}),
		aReq:    req,
		aTx:     tx,
		ref:     new(atomic.Pointer[Call]),
	}
	c.ref.Store(c)
	c.rec = newRecord(id, req)
	return c
}

// post runs an event on the call, waiting for the call's lock; false once
// the call has finished.
func (c *Call) post(ev any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.over {
		return false
	}
	c.dispatch(func() { c.handle(ev) })
	return true
}

// begin runs start as the call's first event (on the INVITE's goroutine).
func (c *Call) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dispatch(c.start)
}

// dispatch runs one event with c.mu held. A panic ends the call (500 or
// BYE) and is logged; the process keeps serving. A call that has ended is
// cleaned up once no client transaction needs it, or when its linger runs
// out (a timer then posts evLinger).
func (c *Call) dispatch(event func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in call; ending it", "leg", "both", "panic", r, "stack", string(debug.Stack()))
			c.safely(func() { c.abort(500, "internal error") })
			c.finish()
			return
		}
		if c.state != stateEnded {
			return
		}
		if c.finished() {
			c.finish()
		} else if c.linger == nil {
			c.linger = c.afterFunc(c.lingerUntil.Sub(c.now()), func() { c.post(evLinger{}) })
		}
	}()
	event()
}

// finish cleans the call up once; later events are refused.
func (c *Call) finish() {
	if c.over {
		return
	}
	c.over = true
	if c.linger != nil {
		c.linger.Stop()
	}
	c.safely(c.cleanup)
	close(c.done)
}

// safely runs f, logging instead of propagating a panic: used on the way
// out of a call that already panicked, so one broken call never takes the
// process down.
func (c *Call) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic while ending call", "leg", "both", "panic", r)
			c.releaseCaller()
			c.host.removeCall(c, c.dialogKeys)
		}
	}()
	f()
}

// finished: the call has ended and no client transaction still needs us
// (a callee may still answer a cancelled INVITE; it gets ACK and BYE).
func (c *Call) finished() bool {
	if c.state != stateEnded {
		return false
	}
	return c.live == 0 || !c.now().Before(c.lingerUntil)
}

func (c *Call) handle(ev any) {
	switch e := ev.(type) {
	case evResponse:
		c.onResponse(e.out, e.res)
	case evTxEnd:
		c.onTxEnd(e.out, e.err)
	case evRequest:
		c.onRequest(e)
	case evAck:
		c.onAck(e)
	case evCancel:
		c.onCancel(e.req)
	case evStray:
		c.onStray(e.res)
	case evTimer:
		if e.gen != c.timerGen[e.kind] {
			return // a timer that was re-armed or stopped since
		}
		c.onTimer(e.kind)
	case evDigit:
		c.onDigitEvent(e)
	case evMediaTimeout:
		if c.state != stateEnded {
			c.onMediaTimeout(e.reason)
		}
	case evConsentLost:
		c.onConsentLost(e) // webrtc_leg.go
	case evShutdown:
		if c.state != stateEnded {
			c.abort(503, "shutdown")
		}
	case evHangup:
		if c.state != stateEnded {
			c.log.Info("hung up by the operator", "leg", "both", "reason", e.reason)
			c.abort(480, e.reason)
		}
	case evRecord:
		c.onRecord(e) // recording_ondemand.go
	case evLinger:
		c.lingerUntil = c.now() // finished from now on
	case evFlowClosed:
		c.onFlowClosed(e) // websocket.go
	default:
		c.onTransferEvent(ev) // call_replaces.go
	}
}

// arm (re)starts a timer of a kind; older timers of that kind are stopped,
// and ignored if they fired already.
func (c *Call) arm(kind timerKind, d time.Duration) {
	c.disarm(kind)
	gen := c.timerGen[kind]
	c.timers[kind] = c.afterFunc(d, func() { c.post(evTimer{kind: kind, gen: gen}) })
}

// disarm stops a kind's timer. Stopping matters beyond the event it saves:
// a pending timer keeps the whole call reachable (the ring timer for
// ring_timeout after a short call ends), which the garbage collector would
// scan on every cycle.
func (c *Call) disarm(kind timerKind) {
	c.timerGen[kind]++
	if t := c.timers[kind]; t != nil {
		t.Stop()
		c.timers[kind] = nil
	}
}

// cleanup runs once, when the call is finished: media released, dialogs removed.
func (c *Call) cleanup() {
	c.ref.Store(nil)
	if c.state != stateEnded {
		c.end(c.rec.Status, cdr.HangupSwitchboard, "call cleaned up before it ended", cdr.Failed)
	}
	c.releaseCaller()
	for k := range c.timers {
		c.disarm(timerKind(k))
	}
	if c.a != nil && c.a.Endpoint != nil {
		_ = c.a.Endpoint.Close()
	}
	if c.epB != nil {
		_ = c.epB.Close()
	}
	c.closeStreams() // call_streams.go
	c.host.removeCall(c, c.dialogKeys)
}
