package b2bua

import (
	"errors"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
)

// ---- start: caller leg, routing, media, forks ----

func (c *Call) start() {
	s := c.host
	req := c.aReq
	s.callStarted(req.Recipient.User)
	pol := s.currentPolicy()
	// CN (RFC 3389) is always accepted: where the far leg has none,
	// Switchboard plays the SIDs as comfort noise itself (call_media.go).
	c.allowed = pol.cfg.Media.Codecs
	if !slices.ContainsFunc(c.allowed, func(n string) bool { return strings.EqualFold(n, "CN") }) {
		c.allowed = append(slices.Clip(c.allowed), "CN")
	}

	// Caller leg (RFC 3261 §12.1.1: route set from Record-Route as is).
	l, ok := s.listenerFor(req.Transport(), req.Source())
	if !ok {
		c.fail(500, cdr.HangupSwitchboard, "no listener for transport", cdr.Failed)
		return
	}
	c.a = &Leg{
		Name:      "a",
		CallID:    callIDOf(req),
		LocalTag:  s.newTag(),
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
	c.rec.TransportA = strings.ToUpper(c.a.Transport)
	c.a.LocalDisplay = req.To().DisplayName
	c.a.RemoteDisplay = req.From().DisplayName
	c.a.RemoteCSeq = req.CSeq().SeqNo
	c.a.Rel = relOf(req)
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
	_ = c.aTx.OnCancel(func(req *sip.Request) {
		if c := ref.Load(); c != nil {
			go c.post(evCancel{req: req})
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
		c.fail(403, cdr.HangupSwitchboard, "caller not identified", cdr.Failed)
		return
	}
	if c.sessionTooSmall() {
		return // 422 (RFC 4028 §8.1)
	}
	if !c.verifyIdentity(pol) {
		return // 428/436/437/438/403 by identity.reject (identity.go)
	}

	// The caller's offer, or ours for a late-offer INVITE.
	offer := &media.Description{Direction: media.SendRecv, Codecs: defaultCodecs(c.allowed)}
	if len(req.Body()) == 0 {
		c.offer = offerLate
	} else {
		var err error
		if offer, err = media.ParseSDP(req.Body()); err != nil {
			c.log.Info("bad SDP offer", "leg", "a", "error", err)
			c.fail(488, cdr.HangupSwitchboard, "bad SDP: "+err.Error(), cdr.Failed)
			return
		}
	}
	c.ptime = offer.Ptime
	refuseStreams(offer, c.a.Session) // call_streams.go
	c.a.Ptime, c.a.RTCP, c.a.XR = offer.Ptime, offer.RTCP, offer.RTCPXR
	c.opusComplexity = pol.cfg.Media.OpusComplexity
	filtered := media.FilterCodecs(offer.Codecs, c.allowed)
	c.aOffer = filtered
	if !hasAudio(filtered) {
		c.fail(488, cdr.HangupSwitchboard, "no common codec", cdr.Failed)
		return
	}

	// Route.
	target, ok := pol.router.RouteFrom(c.routingCaller(pol), req.Recipient.User)
	if !ok {
		c.fail(404, cdr.HangupSwitchboard, "no route", cdr.Failed)
		return
	}
	c.target = target
	c.rec.Route = target.Rule
	if !c.admitFraud(pol) {
		return // 403: toll-fraud limits (call_guard.go)
	}
	switch target.Kind {
	case TargetReject:
		c.fail(target.Status, cdr.HangupSwitchboard, "rejected by route", cdr.Failed)
		return
	case TargetTrunk:
		if c.fromTrunk != nil && !c.fromTrunk.mayTransitTo(target.Trunk.Name) {
			// Trunk-to-trunk transit is open only for the pairs a trunk's
			// transit_to names.
			c.fail(403, cdr.HangupSwitchboard, "trunk to trunk not allowed", cdr.Failed)
			return
		}
		c.rec.Trunk = target.Trunk.Name
		c.calleeCodecs = target.Trunk.Codecs
		if !c.takeTrunk(target.Trunk) {
			c.fail(503, cdr.HangupSwitchboard, c.trunkRefusal, cdr.Failed)
			return
		}
	case TargetUser:
		u, known := pol.users[target.Number]
		c.calleeCodecs = u.Codecs
		if !known {
			c.fail(404, cdr.HangupSwitchboard, "unknown user", cdr.Failed)
			return
		}
	}

	c.srtpPolicies(pol)   // srtp_offer.go
	c.streamPolicies(pol) // call_streams.go

	// Media: one endpoint facing each side, bridged.
	epA, err := c.media.NewEndpoint(c.log.With("leg", "a"))
	if err != nil {
		c.log.Error("media endpoint", "leg", "a", "error", err)
		c.fail(503, cdr.HangupSwitchboard, "no media ports", cdr.Failed)
		return
	}
	c.a.Endpoint = epA
	c.a.Direction = sdpDirection(offer)
	if c.offer != offerLate {
		epA.SetRemote(offer.RTP())
		if err := c.srtp.a.answerOffer(c.a.Session, epA, offer); err != nil {
			c.log.Info("SRTP offer refused", "leg", "a", "error", err)
			c.fail(488, cdr.HangupSwitchboard, err.Error(), cdr.Failed)
			return
		}
	}
	c.record = target.Kind != TargetService && c.wantRecording(pol) // recording.go
	if target.Kind == TargetService {
		c.startService() // answered here (service_call.go)
		return
	}
	epB, err := c.media.NewEndpoint(c.log.With("leg", "b"))
	if err != nil {
		c.log.Error("media endpoint", "leg", "b", "error", err)
		c.fail(503, cdr.HangupSwitchboard, "no media ports", cdr.Failed)
		return
	}
	c.epB = epB
	c.bridge = c.media.NewBridge(epA, epB, c.log)

	bSession := media.NewSession()
	bOffer := c.farOffer(filtered, true)
	if err := c.srtp.b.offer(bSession); err != nil {
		c.fail(500, cdr.HangupSwitchboard, err.Error(), cdr.Failed)
		return
	}
	if c.offer != offerLate {
		c.offerStreams(offer, c.a.Session, bSession, true) // call_streams.go
	}
	body := bSession.Build(epB.Local(), bOffer, c.a.Direction, c.ptime)
	if err := c.fork(target, epB, bSession, body, bOffer); err != nil {
		c.fail(errStatus(err), cdr.HangupSwitchboard, err.Error(), cdr.Failed)
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
	case errors.Is(err, errNoListener), errors.Is(err, errTLSUnavailable):
		return 503
	case errors.Is(err, errSIPSInsecure):
		return 480
	}
	return 500
}

// defaultCodecs is Switchboard's own offer for the configured codec names,
// with their usual payload types (static, or the common dynamic ones).
