package b2bua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
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
	evCancel       struct{}
	evStray        struct{ res *sip.Response }
	evShutdown     struct{}
	evLinger       struct{} // the linger after the end is over
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
	numTimers
)

type callState int

const (
	stateEarly callState = iota
	stateAnswered
	stateEnded
)

// outTx is a client transaction the call started.
type outTx struct {
	method sip.RequestMethod
	leg    *Leg
	req    *sip.Request
	tx     sip.ClientTransaction
	// final is the final status received (0 while pending).
	final int
	// fork-only: this INVITE targets one contact of the callee.
	fork      bool
	answered  bool
	cancelled bool
	early     bool
	// settled: counted out of Call.live (final response or end of transaction).
	settled bool
	// finalSeen: a final response reached the response hook (read by the
	// transaction's end callback, which runs outside the call's lock).
	finalSeen atomic.Bool
	// origin is the request on the other leg this one relays (re-INVITE, INFO).
	origin *evRequest
	// offer is the codec list offered on leg (origin leg's payload types).
	offer []media.Codec
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
	id  string
	s   *Server
	log *slog.Logger

	mu         sync.Mutex
	over       bool          // cleaned up; events are refused
	done       chan struct{} // closed when over
	linger     *time.Timer   // ends the call's linger (see lingerUntil)
	aFinal     chan struct{} // closed when the caller's INVITE has its final response
	aFinalSent bool

	aReq *sip.Request
	aTx  sip.ServerTransaction
	a    *Leg
	b    *Leg // the answering fork's leg, once answered
	outs []*outTx
	live int // client transactions not yet ended

	caller      string // authenticated user, or "trunk:NAME"
	fromTrunk   *Trunk
	target      Target
	bridge      *media.Bridge
	bridgeStart bool
	epB         *media.Endpoint
	allowed     []string
	ptime       int
	// lateOffer: the caller's INVITE had no SDP (RFC 3261 §13.2.1). We offer
	// our codecs to the callee, send the callee's choice as the offer in the
	// 2xx, and take the caller's answer from its ACK.
	lateOffer   bool
	ackOffer    []media.Codec // what the 2xx offered the caller (callee's PTs)
	awaitAckSDP bool

	state       callState
	cancelled   bool
	timerGen    [numTimers]int
	timers      [numTimers]*time.Timer // the armed timer of each kind, stopped when disarmed
	retrans     *pending2xx
	reinvite    *outTx // the re-INVITE in flight, if any
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
		id:     id,
		s:      s,
		log:    slog.New(&lazyAttrs{h: s.log.Handler()}).With("call_id", id),
		done:   make(chan struct{}),
		aFinal: make(chan struct{}),
		aReq:   req,
		aTx:    tx,
		ref:    new(atomic.Pointer[Call]),
	}
	c.ref.Store(c)
	c.rec = cdr.Record{
		CallID:  id,
		ACallID: callIDOf(req),
		Start:   time.Now(),
		Dialled: req.Recipient.User,
	}
	if f := req.From(); f != nil {
		c.rec.From = f.Address.User + "@" + f.Address.Host
	}
	if t := req.To(); t != nil {
		c.rec.To = t.Address.User + "@" + t.Address.Host
	}
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
			c.linger = time.AfterFunc(time.Until(c.lingerUntil), func() { c.post(evLinger{}) })
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
			if !c.aFinalSent {
				c.aFinalSent = true
				close(c.aFinal)
			}
			c.s.removeCall(c, c.dialogKeys)
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
	return c.live == 0 || !time.Now().Before(c.lingerUntil)
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
		c.onCancel()
	case evStray:
		c.onStray(e.res)
	case evTimer:
		if e.gen != c.timerGen[e.kind] {
			return // a timer that was re-armed or stopped since
		}
		c.onTimer(e.kind)
	case evMediaTimeout:
		if c.state != stateEnded {
			c.log.Info("media timeout", "leg", "both", "reason", e.reason)
			c.hangup(nil, "switchboard", e.reason)
		}
	case evShutdown:
		if c.state != stateEnded {
			c.abort(503, "shutdown")
		}
	case evLinger:
		c.lingerUntil = time.Now() // finished from now on
	}
}

// arm (re)starts a timer of a kind; older timers of that kind are stopped,
// and ignored if they fired already.
func (c *Call) arm(kind timerKind, d time.Duration) {
	c.disarm(kind)
	gen := c.timerGen[kind]
	c.timers[kind] = time.AfterFunc(d, func() { c.post(evTimer{kind: kind, gen: gen}) })
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

// ---- start: caller leg, routing, media, forks ----

func (c *Call) start() {
	s := c.s
	req := c.aReq
	if s.callHook != nil {
		s.callHook(req.Recipient.User)
	}
	pol := s.policy.Load()
	c.allowed = pol.cfg.Media.Codecs

	// Caller leg (RFC 3261 §12.1.1: route set from Record-Route as is).
	l, ok := s.listenerFor(req.Transport(), req.Source())
	if !ok {
		c.fail(500, "no listener for transport", "failed")
		return
	}
	c.a = &Leg{
		Name:      "a",
		CallID:    callIDOf(req),
		LocalTag:  s.ids.hex(8),
		RemoteTag: tagOf(req.From().Params),
		LocalURI:  *req.To().Address.Clone(),
		RemoteURI: *req.From().Address.Clone(),
		RouteSet:  routeSetFromRecordRoute(req, false),
		Contact:   contactFor(l),
		Transport: req.Transport(),
		Dest:      req.Source(),
		Laddr:     sipAddr(l.addr),
		Session:   media.NewSession(),
	}
	c.a.LocalDisplay = req.To().DisplayName
	c.a.RemoteDisplay = req.From().DisplayName
	c.a.RemoteCSeq = req.CSeq().SeqNo
	c.a.setRemoteTargetFrom(req)
	c.dialogKeys = append(c.dialogKeys, c.a.matchKey())
	s.addDialog(c.a.matchKey(), c)
	c.invite = initialKey(req)
	s.addInvite(c.invite, c)
	c.log = c.log.With("from", c.rec.From, "dialled", c.rec.Dialled)

	// The transaction may outlive the call (a 2xx never ACKed keeps it for
	// sip.transaction_linger): its callback reaches the call through ref,
	// cleared at the end.
	ref := c.ref
	_ = c.aTx.OnCancel(func(*sip.Request) {
		if c := ref.Load(); c != nil {
			go c.post(evCancel{})
		}
	})
	// No 100 Trying here: the INVITE's server transaction sends one if
	// nothing else has gone out 200 ms after the INVITE arrived (RFC 3261
	// §17.2.1). A callee that answers or rings sooner saves the caller,
	// and us, a datagram.

	// Who is calling: a trusted trunk or an authenticated user.
	c.rec.Caller = c.caller
	if c.fromTrunk != nil {
		c.rec.SourceTrunk = c.fromTrunk.Name
	}
	if c.caller == "" {
		c.fail(403, "caller not identified", "failed")
		return
	}

	// The caller's offer, or ours for a late-offer INVITE.
	offer := &media.Description{Direction: media.SendRecv, Codecs: defaultCodecs(c.allowed)}
	if len(req.Body()) == 0 {
		c.lateOffer = true
	} else {
		var err error
		if offer, err = media.ParseSDP(req.Body()); err != nil {
			c.log.Info("bad SDP offer", "leg", "a", "error", err)
			c.fail(488, "bad SDP: "+err.Error(), "failed")
			return
		}
	}
	c.ptime = offer.Ptime
	filtered := media.FilterCodecs(offer.Codecs, c.allowed)
	if !hasAudio(filtered) {
		c.fail(488, "no common codec", "failed")
		return
	}

	// Route.
	target, ok := pol.router.Route(req.Recipient.User)
	if !ok {
		c.fail(404, "no route", "failed")
		return
	}
	c.target = target
	c.rec.Route = target.Rule
	switch target.Kind {
	case TargetReject:
		c.fail(target.Status, "rejected by route", "failed")
		return
	case TargetTrunk:
		if c.fromTrunk != nil {
			// Trunk-to-trunk transit is never open to unauthenticated callers.
			c.fail(403, "trunk to trunk not allowed", "failed")
			return
		}
		c.rec.Trunk = target.Trunk.Name
	case TargetUser:
		if _, known := pol.users[target.Number]; !known {
			c.fail(404, "unknown user", "failed")
			return
		}
	}

	// Media: one endpoint facing each side, bridged.
	epA, err := s.media.NewEndpoint(c.log.With("leg", "a"))
	if err != nil {
		c.log.Error("media endpoint", "leg", "a", "error", err)
		c.fail(503, "no media ports", "failed")
		return
	}
	c.a.Endpoint = epA
	c.a.Direction = offer.Direction
	if !c.lateOffer {
		epA.SetRemote(offer.RTP())
	}
	epB, err := s.media.NewEndpoint(c.log.With("leg", "b"))
	if err != nil {
		c.log.Error("media endpoint", "leg", "b", "error", err)
		c.fail(503, "no media ports", "failed")
		return
	}
	c.epB = epB
	c.bridge = media.NewBridge(epA, epB, c.log)

	bSession := media.NewSession()
	body := bSession.Build(epB.Local(), filtered, offer.Direction, c.ptime)
	if err := c.fork(target, epB, bSession, body, filtered); err != nil {
		c.fail(errStatus(err), err.Error(), "failed")
		return
	}
	c.arm(timerRing, pol.cfg.Calls.RingTimeout)
}

// errNoContacts and friends map routing failures to statuses in one place.
var (
	errNoContacts = errors.New("user not registered")
	errNoListener = errors.New("no listener for the target's transport")
)

func errStatus(err error) int {
	switch {
	case errors.Is(err, errNoContacts):
		return 480
	case errors.Is(err, errNoListener):
		return 503
	}
	return 500
}

// defaultCodecs is Switchboard's own offer for the configured codec names,
// with their usual payload types (static, or the common dynamic ones).
func defaultCodecs(names []string) []media.Codec {
	var out []media.Codec
	for _, n := range names {
		switch strings.ToLower(n) {
		case "pcmu":
			out = append(out, media.Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1})
		case "pcma":
			out = append(out, media.Codec{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1})
		case "g722":
			out = append(out, media.Codec{PT: 9, Name: "G722", Clock: 8000, Channels: 1})
		case "opus":
			out = append(out, media.Codec{PT: 111, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "useinbandfec=1"})
		case "telephone-event":
			out = append(out, media.Codec{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-16"})
		}
	}
	return out
}

func hasAudio(cs []media.Codec) bool {
	for _, c := range cs {
		if !strings.EqualFold(c.Name, "telephone-event") && !strings.EqualFold(c.Name, "CN") {
			return true
		}
	}
	return false
}

// fork sends the callee-side INVITE: to every registered contact of a user
// (parallel fork, RFC 3261 §16.6-style), or to a trunk.
func (c *Call) fork(t Target, ep *media.Endpoint, sess *media.Session, body []byte, offer []media.Codec) error {
	s := c.s
	type dest struct {
		target    sip.Uri
		addr      string
		transport string
	}
	var dests []dest
	toURI := sip.Uri{Scheme: "sip", User: t.Number, Host: s.domain}
	switch t.Kind {
	case TargetUser:
		for _, b := range s.reg.Lookup(t.Number) {
			var u sip.Uri
			if err := sip.ParseUri(b.Contact, &u); err != nil {
				continue
			}
			dests = append(dests, dest{target: u, addr: b.Source, transport: strings.ToUpper(b.Transport)})
		}
		if len(dests) == 0 {
			return errNoContacts
		}
	case TargetTrunk:
		u := *t.Trunk.URI.Clone()
		u.User = t.Number
		toURI = sip.Uri{Scheme: "sip", User: t.Number, Host: t.Trunk.URI.Host, Port: t.Trunk.URI.Port}
		dests = append(dests, dest{target: u, addr: t.Trunk.Dest, transport: t.Trunk.Transport})
	}

	callID := s.newCallID() + "@" + s.domain
	localTag := s.ids.hex(8)
	c.rec.BCallID = callID
	fromURI := sip.Uri{Scheme: "sip", User: c.aReq.From().Address.User, Host: s.domain}
	display := c.aReq.From().DisplayName
	if u, ok := s.policy.Load().users[c.caller]; ok && u.DisplayName != "" {
		display = u.DisplayName // the operator's caller ID wins over the phone's
	}
	maxFwd := 70
	if mf := c.aReq.MaxForwards(); mf != nil {
		maxFwd = int(mf.Val()) - 1
	}
	for _, d := range dests {
		l, ok := s.listenerFor(d.transport, d.addr)
		if !ok {
			continue
		}
		leg := &Leg{
			Name:         "b",
			CallID:       callID,
			LocalTag:     localTag,
			LocalURI:     fromURI,
			LocalDisplay: display,
			RemoteURI:    toURI,
			RemoteTarget: d.target,
			Contact:      contactFor(l),
			Transport:    d.transport,
			Dest:         d.addr,
			Laddr:        sipAddr(l.addr),
			Endpoint:     ep,
			Session:      sess,
		}
		req := leg.buildRequest(s, sip.INVITE, leg.nextCSeq())
		if mf := req.MaxForwards(); mf != nil {
			*mf = sip.MaxForwardsHeader(maxFwd)
		}
		req.AppendHeader(sip.NewHeader("Allow", allowMethods))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
		out := &outTx{method: sip.INVITE, leg: leg, req: req, fork: true, offer: offer}
		if err := c.send(out); err != nil {
			c.log.Warn("fork failed", "leg", "b", "dest", d.addr, "error", err)
			continue
		}
	}
	if len(c.outs) == 0 {
		return errNoListener
	}
	key := dialogKey(callID, localTag)
	c.dialogKeys = append(c.dialogKeys, key)
	s.addDialog(key, c)
	return nil
}

// send starts a client transaction whose responses become events of the
// call, run on the goroutine that received them (sip.WithResponseHook, our
// patch to sipgo): no goroutine per transaction waits on its channel and
// hands each response over. Only the end of a transaction that never had
// a final response (timeout, transport error) is posted, from a goroutine
// of its own: sipgo reports it with its locks held.
func (c *Call) send(out *outTx) error {
	ctx := sip.WithResponseHook(context.Background(), func(res *sip.Response) {
		if res.StatusCode >= 200 {
			out.finalSeen.Store(true)
		}
		c.post(evResponse{out: out, res: res})
	})
	tx, err := c.s.client.TransactionRequest(ctx, out.req, prebuilt)
	if err != nil {
		return err
	}
	out.tx = tx
	c.outs = append(c.outs, out)
	c.live++
	if out.method == sip.INVITE {
		// A retransmitted 2xx means our ACK was lost: sipgo hands it only
		// to this hook (RFC 6026 Accepted state); onResponse ACKs it again.
		ref := c.ref
		tx.OnRetransmission(func(res *sip.Response) {
			if c := ref.Load(); c != nil && res.IsSuccess() {
				go c.post(evResponse{out: out, res: res})
			}
		})
	}
	ended := func(_ string, err error) {
		if !out.finalSeen.Load() {
			go c.post(evTxEnd{out: out, err: err})
		}
	}
	if !tx.OnTerminate(ended) {
		ended("", tx.Err()) // ended before we could ask
	}
	return nil
}

// prebuilt tells sipgo the request is complete: add nothing.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

// ---- responses to what we sent ----

func (c *Call) onTxEnd(out *outTx, err error) {
	c.settle(out)
	if out.final != 0 {
		return
	}
	// No final response: timeout or transport failure (RFC 3261 §8.1.3.1).
	code := 408
	if errors.Is(err, sip.ErrTransactionTransport) {
		code = 503
	}
	c.log.Debug("transaction ended without final response", "leg", out.leg.Name, "method", out.method, "error", err)
	c.onFinal(out, code, nil)
}

func (c *Call) onResponse(out *outTx, res *sip.Response) {
	code := res.StatusCode
	if code < 200 {
		if out.fork {
			c.onForkProvisional(out, res)
		}
		return
	}
	if out.final != 0 {
		// A 2xx retransmission: the ACK got lost, send it again.
		if code < 300 && out.method == sip.INVITE && out.answered {
			c.sendAck(out, nil)
		}
		return
	}
	c.settle(out)
	c.onFinal(out, code, res)
	c.release(out, code)
}

// release ends a client transaction once its final response leaves the
// call nothing more to take from it, instead of letting it linger for
// Timer K or M holding its request and responses (at a few thousand calls
// a second that memory, and the collector's work on it, was most of the
// heap). A non-INVITE transaction only absorbs retransmitted finals, which
// may as well be dropped; an answered fork's INVITE has been ACKed, and a
// retransmitted 2xx (our ACK got lost) still finds the call as a stray
// response and is ACKed again (onStray). A re-INVITE's 2xx is ACKed only
// once the other leg ACKs, so its transaction stays.
func (c *Call) release(out *outTx, code int) {
	if out.tx == nil {
		return
	}
	if out.method != sip.INVITE || (out.fork && out.answered && code < 300) {
		out.tx.Terminate()
	}
}

// settle counts a transaction out of live once it has its final response:
// the transaction layer keeps it for Timer D/K (32 s over UDP) after that,
// but the call needs nothing more from it.
func (c *Call) settle(out *outTx) {
	if !out.settled {
		out.settled = true
		c.live--
	}
}

func (c *Call) onForkProvisional(out *outTx, res *sip.Response) {
	if res.StatusCode == 100 || c.state != stateEarly || out.cancelled {
		return
	}
	if tag := tagOf(res.To().Params); tag != "" {
		out.leg.RemoteTag = tag
	}
	body := []byte(nil)
	if c.lateOffer {
		// No early media: the caller has made no offer yet, and an offer
		// in an unreliable provisional is not allowed (RFC 3261 §13.2.1).
	} else if len(res.Body()) > 0 && !c.bridgeStart {
		// Early media (RFC 3960 style): bridge now, through our ports.
		if b, err := c.applyAnswer(out, res.Body()); err == nil {
			body = b
			out.early = true
		} else {
			c.log.Info("bad early SDP ignored", "leg", "b", "error", err)
		}
	} else if c.bridgeStart && len(res.Body()) > 0 {
		body = c.a.Session.Build(c.a.Endpoint.Local(), c.a.Codecs, c.aAnswerDir(), c.ptime)
	}
	code := res.StatusCode
	if code != 180 && code != 183 {
		code = 183
	}
	if code == 183 && body == nil {
		code = 180 // progress without media is ringing to the caller
	}
	c.respondA(code, body)
}

func (c *Call) onFinal(out *outTx, code int, res *sip.Response) {
	out.final = code
	switch {
	case out.fork:
		c.onForkFinal(out, code, res)
	case out.method == sip.INVITE:
		c.onReinviteFinal(out, code, res)
	case out.origin != nil:
		// A relayed non-INVITE (INFO): pass the status back.
		c.answer(out.origin, relayStatus(code), nil)
	}
}

func relayStatus(code int) int {
	if code == 401 || code == 407 {
		return 403
	}
	return code
}

func (c *Call) onForkFinal(out *outTx, code int, res *sip.Response) {
	if code >= 200 && code < 300 {
		out.leg.RemoteTag = tagOf(res.To().Params)
		if c.state != stateEarly || c.b != nil {
			// Lost the race (or the call ended): ACK then BYE (RFC 3261 §13.2.2.4).
			out.answered = true
			c.confirmFork(out, res)
			c.sendAck(out, nil)
			c.sendBye(out.leg)
			return
		}
		out.answered = true
		c.confirmFork(out, res)
		c.sendAck(out, nil)
		c.b = out.leg
		c.cancelForks(out)
		if c.lateOffer {
			c.answerLateOffer(out, res)
			return
		}
		body, err := c.applyAnswer(out, res.Body())
		if err != nil {
			c.log.Info("bad SDP answer from callee", "leg", "b", "error", err)
			c.sendBye(out.leg)
			c.fail(488, "bad SDP answer", "failed")
			return
		}
		c.state = stateAnswered
		c.rec.Answer = time.Now()
		c.disarm(timerRing)
		c.respondA(200, body)
		c.log.Info("answered", "leg", "both", "codec_a", codecName(c.a.Codecs), "codec_b", codecName(c.b.Codecs))
		return
	}
	// A failure: wait for the other forks, then relay the best one.
	if c.state != stateEarly {
		return
	}
	for _, o := range c.outs {
		if o.fork && o.final == 0 {
			return
		}
	}
	var codes []int
	for _, o := range c.outs {
		if o.fork {
			codes = append(codes, o.final)
		}
	}
	best := bestFinal(codes)
	c.fail(failureToCaller(best), fmt.Sprintf("callee answered %d", best), "")
}

// confirmFork takes dialog state from the callee's 2xx (RFC 3261 §12.1.2).
func (c *Call) confirmFork(out *outTx, res *sip.Response) {
	out.leg.RouteSet = routeSetFromRecordRoute(res, true)
	out.leg.setRemoteTargetFrom(res)
}

// applyAnswer takes the callee's SDP answer for the fork's offer, wires the
// bridge and returns the SDP answer for the caller.
func (c *Call) applyAnswer(out *outTx, body []byte) ([]byte, error) {
	ans, err := media.ParseSDP(body)
	if err != nil {
		return nil, err
	}
	aToB, bToA, forA := media.MatchAnswer(out.offer, ans.Codecs)
	if !hasAudio(forA) {
		return nil, errors.New("answer has no offered codec")
	}
	b := out.leg
	b.Codecs = ans.Codecs
	b.Direction = ans.Direction
	b.Endpoint.SetRemote(ans.RTP())
	c.a.Codecs = forA
	c.bridge.SetPayloadMap(c.a.Endpoint, aToB)
	c.bridge.SetPayloadMap(b.Endpoint, bToA)
	c.rec.CodecA, c.rec.CodecB = codecName(forA), codecName(ans.Codecs)
	if !c.bridgeStart {
		c.bridgeStart = true
		c.bridge.Start(func(reason string) { go c.post(evMediaTimeout{reason: reason}) })
	}
	c.bridge.Pause(isHold(c.a.Direction) || isHold(b.Direction))
	return c.a.Session.Build(c.a.Endpoint.Local(), forA, ans.Direction, c.ptime), nil
}

func (c *Call) aAnswerDir() media.Direction {
	if c.b != nil {
		return c.b.Direction
	}
	return media.SendRecv
}

func isHold(d media.Direction) bool { return d != media.SendRecv }

func codecName(cs []media.Codec) string {
	for _, c := range cs {
		if !strings.EqualFold(c.Name, "telephone-event") && !strings.EqualFold(c.Name, "CN") {
			return c.Name
		}
	}
	return ""
}

// cancelForks CANCELs every pending fork except keep (RFC 3261 §9.1).
func (c *Call) cancelForks(keep *outTx) {
	for _, o := range c.outs {
		if !o.fork || o == keep || o.final != 0 || o.cancelled {
			continue
		}
		o.cancelled = true
		cancel := sip.NewRequest(sip.CANCEL, *o.req.Recipient.Clone())
		cancel.AppendHeader(o.req.Via().Clone())
		for _, h := range o.req.GetHeaders("Route") {
			cancel.AppendHeader(sip.HeaderClone(h))
		}
		cancel.AppendHeader(sip.HeaderClone(o.req.From()))
		cancel.AppendHeader(sip.HeaderClone(o.req.To()))
		cancel.AppendHeader(sip.HeaderClone(o.req.CallID()))
		cancel.AppendHeader(&sip.CSeqHeader{SeqNo: o.req.CSeq().SeqNo, MethodName: sip.CANCEL})
		mf := sip.MaxForwardsHeader(70)
		cancel.AppendHeader(&mf)
		cancel.SetBody(nil)
		o.leg.address(cancel)
		tx, err := c.s.client.TransactionRequest(context.Background(), cancel, prebuilt)
		if err != nil {
			c.log.Debug("CANCEL failed", "leg", "b", "error", err)
			continue
		}
		go func() { <-tx.Done() }()
	}
}

func (c *Call) sendAck(out *outTx, body []byte) {
	ack := out.leg.ack(c.s, out.req.CSeq().SeqNo, body)
	if err := c.s.client.WriteRequest(ack, prebuilt); err != nil {
		c.log.Debug("ACK failed", "leg", out.leg.Name, "error", err)
	}
}

// sendBye ends a dialog; the response is awaited in the background.
func (c *Call) sendBye(l *Leg) {
	bye := l.newRequest(c.s, sip.BYE)
	bye.SetBody(nil)
	out := &outTx{method: sip.BYE, leg: l, req: bye}
	if err := c.send(out); err != nil {
		c.log.Debug("BYE failed", "leg", l.Name, "error", err)
	}
}

// ---- the caller's INVITE ----

// respondA answers the caller's initial INVITE with our tag and Contact.
func (c *Call) respondA(code int, body []byte) {
	if c.aFinalSent {
		return
	}
	res := c.s.response(c.aReq, code, "", body)
	if code > 100 && c.a != nil {
		if to := res.To(); to != nil {
			to.Params.Add("tag", c.a.LocalTag)
		}
		if code < 300 {
			res.AppendHeader(&sip.ContactHeader{Address: *c.a.Contact.Clone()})
		}
	}
	if code >= 200 && code < 300 {
		res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	}
	if err := c.aTx.Respond(res); err != nil {
		c.log.Debug("respond to caller failed", "leg", "a", "code", code, "error", err)
	}
	if code >= 200 {
		c.aFinalSent = true
		c.rec.Status = code
		close(c.aFinal)
		if code < 300 {
			c.startRetransmit(res, c.a, c.aReq.CSeq().SeqNo)
		}
	}
}

// startRetransmit resends a 2xx with T1 doubling up to T2 until its ACK
// arrives or 64·T1 passes (RFC 3261 §13.3.1.4).
func (c *Call) startRetransmit(res *sip.Response, leg *Leg, cseq uint32) {
	c.retrans = &pending2xx{res: res, leg: leg, cseq: cseq, interval: sip.T1, deadline: time.Now().Add(64 * sip.T1)}
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
			c.log.Info("no answer", "leg", "both", "ring_timeout", c.s.policy.Load().cfg.Calls.RingTimeout)
			c.cancelForks(nil)
			c.fail(480, "ring timeout", "no-answer")
		}
	case timerRetransmit2xx:
		r := c.retrans
		if r == nil || c.state == stateEnded {
			return
		}
		if time.Now().After(r.deadline) {
			c.retrans = nil
			c.log.Info("no ACK for 2xx", "leg", r.leg.Name)
			c.hangup(nil, "switchboard", "no ACK")
			return
		}
		if err := c.s.ua.TransportLayer().WriteMsg(r.res); err != nil {
			c.log.Debug("2xx retransmit failed", "leg", r.leg.Name, "error", err)
		}
		r.interval = min(2*r.interval, sip.T2)
		c.arm(timerRetransmit2xx, r.interval)
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
	if c.awaitAckSDP && r.leg == c.a {
		c.awaitAckSDP = false
		c.takeAckAnswer(e.req)
	}
}

// answerLateOffer: the callee answered our offer; that answer's codecs
// become our offer to the caller in the 2xx.
func (c *Call) answerLateOffer(out *outTx, res *sip.Response) {
	ans, err := media.ParseSDP(res.Body())
	if err != nil || !hasAudio(ans.Codecs) {
		c.log.Info("bad SDP answer from callee", "leg", "b", "error", err)
		c.sendBye(out.leg)
		c.fail(488, "bad SDP answer", "failed")
		return
	}
	b := out.leg
	b.Codecs, b.Direction = ans.Codecs, ans.Direction
	b.Endpoint.SetRemote(ans.RTP())
	c.ackOffer = ans.Codecs
	c.awaitAckSDP = true
	c.state = stateAnswered
	c.rec.Answer = time.Now()
	c.disarm(timerRing)
	c.respondA(200, c.a.Session.Build(c.a.Endpoint.Local(), ans.Codecs, ans.Direction, c.ptime))
	c.log.Info("answered (late offer)", "leg", "both", "codec_b", codecName(ans.Codecs))
}

// takeAckAnswer completes a late-offer call with the caller's answer.
func (c *Call) takeAckAnswer(ack *sip.Request) {
	ans, err := media.ParseSDP(ack.Body())
	if err != nil {
		c.log.Info("late offer: no usable answer in ACK", "leg", "a", "error", err)
		c.hangup(nil, "switchboard", "no SDP answer in ACK")
		return
	}
	// Our offer carried the callee's payload types: in MatchAnswer's terms
	// the callee is the offering side.
	bToA, aToB, _ := media.MatchAnswer(c.ackOffer, ans.Codecs)
	if len(bToA) == 0 {
		c.hangup(nil, "switchboard", "caller's answer has no offered codec")
		return
	}
	c.a.Codecs, c.a.Direction = ans.Codecs, ans.Direction
	c.a.Endpoint.SetRemote(ans.RTP())
	c.bridge.SetPayloadMap(c.a.Endpoint, aToB)
	c.bridge.SetPayloadMap(c.b.Endpoint, bToA)
	c.rec.CodecA, c.rec.CodecB = codecName(ans.Codecs), codecName(c.b.Codecs)
	c.bridgeStart = true
	c.bridge.Start(func(reason string) { go c.post(evMediaTimeout{reason: reason}) })
	c.bridge.Pause(isHold(c.a.Direction) || isHold(c.b.Direction))
}

func (c *Call) onCancel() {
	if c.aFinalSent || c.state != stateEarly {
		return
	}
	// The transaction layer has answered the CANCEL with 200 and the INVITE
	// with 487 already.
	c.aFinalSent = true
	c.rec.Status = 487
	close(c.aFinal)
	c.cancelled = true
	c.cancelForks(nil)
	c.end(487, "caller", "cancelled", "cancelled")
}

func (c *Call) onStray(res *sip.Response) {
	for _, o := range c.outs {
		if o.fork && o.answered && o.leg.RemoteTag == tagOf(res.To().Params) {
			c.sendAck(o, nil)
			return
		}
	}
	// A 2xx from a fork we never saw answer: ACK and BYE it.
	for _, o := range c.outs {
		if o.fork {
			leg := *o.leg
			leg.RemoteTag = tagOf(res.To().Params)
			leg.RouteSet = routeSetFromRecordRoute(res, true)
			leg.setRemoteTargetFrom(res)
			tmp := &outTx{method: sip.INVITE, leg: &leg, req: o.req}
			c.sendAck(tmp, nil)
			c.sendBye(&leg)
			return
		}
	}
}

// ---- in-dialog requests ----

// legFor finds which leg an in-dialog request arrived on.
func (c *Call) legFor(key string, req *sip.Request) *Leg {
	if c.a != nil && key == c.a.matchKey() {
		return c.a
	}
	if c.b != nil && key == c.b.matchKey() && tagOf(req.From().Params) == c.b.RemoteTag {
		return c.b
	}
	return nil
}

func (c *Call) other(l *Leg) *Leg {
	if l == c.a {
		return c.b
	}
	return c.a
}

// legName names the leg an in-dialog request arrived on, for logs.
func (c *Call) legName(e *evRequest) string {
	if l := c.legFor(e.key, e.req); l != nil {
		return l.Name
	}
	return "?"
}

// answer responds to an in-dialog request and releases its handler.
func (c *Call) answer(e *evRequest, code int, body []byte) *sip.Response {
	res := c.s.response(e.req, code, "", body)
	if code >= 200 && code < 300 && e.req.IsInvite() {
		leg := c.legFor(e.key, e.req)
		if leg != nil {
			res.AppendHeader(&sip.ContactHeader{Address: *leg.Contact.Clone()})
		}
	}
	if err := e.tx.Respond(res); err != nil {
		c.log.Debug("respond failed", "leg", c.legName(e), "method", e.req.Method, "error", err)
	}
	if code >= 200 {
		close(e.done)
	}
	return res
}

func (c *Call) onRequest(e evRequest) {
	leg := c.legFor(e.key, e.req)
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		name := "?"
		if leg != nil {
			name = leg.Name
		}
		c.log.Debug("in-dialog request", "method", e.req.Method, "leg", name, "cseq", e.req.CSeq().SeqNo)
	}
	if leg == nil || c.state == stateEnded {
		c.answer(&e, 481, nil)
		return
	}
	// CSeq must grow within a dialog (RFC 3261 §12.2.2).
	if cs := e.req.CSeq(); cs != nil {
		if leg.RemoteCSeq != 0 && cs.SeqNo <= leg.RemoteCSeq && e.req.Method != sip.ACK {
			c.answer(&e, 500, nil)
			return
		}
		leg.RemoteCSeq = cs.SeqNo
	}
	switch e.req.Method {
	case sip.BYE:
		c.answer(&e, 200, nil)
		side := "caller"
		if leg == c.b {
			side = "callee"
		}
		if c.state == stateEarly {
			c.cancelForks(nil)
			c.fail(487, "caller hung up in early dialog", "cancelled")
			return
		}
		c.hangup(leg, side, "bye")
	case sip.INVITE:
		c.onReinvite(&e, leg)
	case sip.INFO:
		c.relay(&e, leg)
	case sip.PRACK:
		c.answer(&e, 481, nil) // we never send reliable provisionals yet
	default:
		c.answer(&e, 501, nil)
	}
}

// relay forwards an in-dialog non-INVITE request (INFO) to the other leg.
func (c *Call) relay(e *evRequest, from *Leg) {
	to := c.other(from)
	if to == nil || c.state != stateAnswered {
		c.answer(e, 491, nil)
		return
	}
	req := to.newRequest(c.s, e.req.Method)
	if ct := e.req.ContentType(); ct != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	req.SetBody(e.req.Body())
	out := &outTx{method: e.req.Method, leg: to, req: req, origin: e}
	if err := c.send(out); err != nil {
		c.answer(e, 500, nil)
	}
}

// onReinvite relays a re-INVITE: a new offer from one side becomes our
// offer to the other (SDP rewritten, our ports kept), and their answer
// comes back rewritten (RFC 3261 §14).
func (c *Call) onReinvite(e *evRequest, from *Leg) {
	to := c.other(from)
	if c.state != stateAnswered || to == nil {
		c.answer(e, 491, nil)
		return
	}
	if c.reinvite != nil || c.retrans != nil {
		c.answer(e, 491, nil) // RFC 3261 §14.2: glare
		return
	}
	from.setRemoteTargetFrom(e.req)
	if len(e.req.Body()) == 0 {
		// Offerless re-INVITE (a session refresh): offer what is in force;
		// the caller's answer arrives in the ACK and changes nothing we relay.
		res := c.answer(e, 200, from.Session.Build(from.Endpoint.Local(), from.Codecs, to.Direction, c.ptime))
		c.startRetransmit(res, from, e.req.CSeq().SeqNo)
		return
	}
	offer, err := media.ParseSDP(e.req.Body())
	if err != nil {
		c.answer(e, 488, nil)
		return
	}
	filtered := media.FilterCodecs(offer.Codecs, c.allowed)
	if !hasAudio(filtered) {
		c.answer(e, 488, nil)
		return
	}
	from.Endpoint.SetRemote(offer.RTP())
	from.Direction = offer.Direction
	body := to.Session.Build(to.Endpoint.Local(), filtered, offer.Direction, c.ptime)
	req := to.newRequest(c.s, sip.INVITE)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	out := &outTx{method: sip.INVITE, leg: to, req: req, origin: e, offer: filtered}
	if err := c.send(out); err != nil {
		c.answer(e, 500, nil)
		return
	}
	c.reinvite = out
}

func (c *Call) onReinviteFinal(out *outTx, code int, res *sip.Response) {
	if c.reinvite == out {
		c.reinvite = nil
	}
	e := out.origin
	if code >= 300 || res == nil {
		if code == 481 || code == 408 {
			// The other dialog is gone: the call cannot go on (RFC 5057).
			c.answer(e, relayStatus(code), nil)
			c.hangup(out.leg, "switchboard", fmt.Sprintf("re-INVITE got %d", code))
			return
		}
		c.answer(e, relayStatus(code), nil)
		return
	}
	out.answered = true
	out.leg.setRemoteTargetFrom(res)
	c.sendAck(out, nil)
	from := c.other(out.leg)
	ans, err := media.ParseSDP(res.Body())
	if err != nil {
		c.answer(e, 488, nil)
		return
	}
	fwd, back, forFrom := media.MatchAnswer(out.offer, ans.Codecs)
	to := out.leg
	to.Codecs, to.Direction = ans.Codecs, ans.Direction
	to.Endpoint.SetRemote(ans.RTP())
	from.Codecs = forFrom
	c.bridge.SetPayloadMap(from.Endpoint, fwd)
	c.bridge.SetPayloadMap(to.Endpoint, back)
	c.bridge.Pause(isHold(from.Direction) || isHold(to.Direction))
	body := from.Session.Build(from.Endpoint.Local(), forFrom, ans.Direction, c.ptime)
	r := c.answer(e, 200, body)
	c.startRetransmit(r, from, e.req.CSeq().SeqNo)
}

// ---- endings ----

// fail ends a call that was never answered: final status to the caller,
// CANCEL to pending forks.
func (c *Call) fail(code int, reason, disposition string) {
	c.log.Info("call failed", "leg", "both", "status", code, "reason", reason)
	c.respondA(code, nil)
	c.cancelForks(nil)
	side := "callee"
	if code == 408 || code == 480 && reason == "ring timeout" || code >= 500 && code < 600 {
		side = "switchboard"
	}
	if c.outs == nil {
		side = "switchboard"
	}
	c.end(code, side, reason, disposition)
}

// hangup ends an answered call: BYE to every leg but from.
func (c *Call) hangup(from *Leg, side, reason string) {
	if c.state == stateEnded {
		return
	}
	for _, l := range []*Leg{c.a, c.b} {
		if l != nil && l != from {
			c.sendBye(l)
		}
	}
	c.end(c.rec.Status, side, reason, "answered")
}

// abort ends the call from Switchboard's side whatever its state.
func (c *Call) abort(code int, reason string) {
	switch c.state {
	case stateEnded:
	case stateEarly:
		c.fail(code, reason, "failed")
	default:
		c.hangup(nil, "switchboard", reason)
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
	c.lingerUntil = time.Now().Add(64 * sip.T1)
	if c.bridge != nil {
		c.bridge.Stop()
	}
	if disposition == "" {
		disposition = cdr.Disposition(status, c.cancelled)
	}
	c.writeCDR(status, side, reason, disposition)
	c.s.releaseCall(c)
	c.log.Info("call ended", "leg", "both", "status", status, "disposition", disposition, "hangup_side", side, "reason", reason)
}

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
	r.DurationS = r.End.Sub(r.Start).Seconds()
	if !r.Answer.IsZero() {
		r.BillableS = r.End.Sub(r.Answer).Seconds()
	}
	if c.a != nil && c.a.Endpoint != nil {
		st := c.a.Endpoint.Stats()
		r.AToBPackets, r.AToBBytes = st.PacketsIn, st.BytesIn
		r.BToAPackets, r.BToABytes = st.PacketsOut, st.BytesOut
	}
	c.s.cdr.Write(*r)
}

// cleanup runs once, when the call is finished: media released, dialogs removed.
func (c *Call) cleanup() {
	c.ref.Store(nil)
	if c.state != stateEnded {
		c.end(c.rec.Status, "switchboard", "call cleaned up before it ended", "failed")
	}
	if !c.aFinalSent {
		c.aFinalSent = true
		close(c.aFinal)
	}
	for k := range c.timers {
		c.disarm(timerKind(k))
	}
	if c.a != nil && c.a.Endpoint != nil {
		_ = c.a.Endpoint.Close()
	}
	if c.epB != nil {
		_ = c.epB.Close()
	}
	c.s.removeCall(c, c.dialogKeys)
}

// lazyAttrs is a slog.Handler that keeps the attributes of Logger.With
// aside and hands them to the real handler only when a record is logged.
// A call's logger gains call_id, from, dialled and leg per call; the text
// and JSON handlers format such attributes eagerly in WithAttrs, which
// would cost every call even at a level where it logs nothing. The output
// is the same: h.WithAttrs(attrs) is applied before each Handle.
type lazyAttrs struct {
	h     slog.Handler
	attrs []slog.Attr
}

var _ slog.Handler = (*lazyAttrs)(nil)

// Enabled reports whether the real handler logs at level.
func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

// Handle logs r through the real handler with the kept attributes put
// before the record's own, which is where WithAttrs would have put them.
// (Calling WithAttrs here instead builds a handler per line: the same
// time, twice the allocations.)
func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	if len(l.attrs) == 0 {
		return l.h.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(l.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, nr)
}

// WithAttrs keeps attrs for later.
func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	return &lazyAttrs{h: l.h, attrs: append(l.attrs[:len(l.attrs):len(l.attrs)], attrs...)}
}

// WithGroup applies the kept attributes, then opens the group: attributes
// before a group stay outside it.
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	h := l.h
	if len(l.attrs) > 0 {
		h = h.WithAttrs(l.attrs)
	}
	return h.WithGroup(name)
}
