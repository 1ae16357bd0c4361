package b2bua

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/media"
)

// Replaces (RFC 3891): a dialog named by Call-ID and tags is replaced by
// another. Two ways reach it:
//
//	attended transfer: REFER on call 1 whose Refer-To carries Replaces
//	  naming the transferor's leg of call 2
//	    call 1 ──evSurrender──► call 2: BYE to the named leg, record ends
//	                            ("transferred"), the far leg handed over
//	    call 1 ◄──evAdopt────── (its dialog now leads to call 1)
//	    call 1: join (call_refer.go): BYE to the transferor, one bridge
//	  INVITE with Replaces from a phone (call pickup, attended transfer
//	  done by the phones): the new dialog takes the named leg's place in
//	  its call: 200 to the INVITE, BYE to the named leg, join.
//
// Calls hand legs over by events posted from goroutines of their own, so
// no call's lock is ever held while another's is taken.

// optionTagReplaces is the Replaces extension's option tag (RFC 3891 §6.1).
const optionTagReplaces = "replaces"

// replaces is a parsed Replaces value: the dialog's Call-ID and its tags
// as the sender sees them.
type replaces struct {
	callID, toTag, fromTag string
}

// parseReplaces reads `callid;to-tag=X;from-tag=Y` (RFC 3891 §6.1).
func parseReplaces(v string) (replaces, bool) {
	parts := strings.Split(strings.TrimSpace(v), ";")
	r := replaces{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		}
	}
	return r, r.callID != "" && r.toTag != "" && r.fromTag != ""
}

// keys are the dialog-table keys the dialog may be under: our tag is the
// to-tag for the dialog's own peer, the from-tag if the sender saw it the
// other way round.
func (r replaces) keys() []string {
	return []string{dialogKey(r.callID, r.toTag), dialogKey(r.callID, r.fromTag)}
}

// legNamed is the call's leg a Replaces names, if any.
func (c *Call) legNamed(r replaces) *Leg {
	for _, l := range []*Leg{c.a, c.b} {
		if l == nil || l.CallID != r.callID {
			continue
		}
		if (l.LocalTag == r.toTag && l.RemoteTag == r.fromTag) || (l.LocalTag == r.fromTag && l.RemoteTag == r.toTag) {
			return l
		}
	}
	return nil
}

// dialogCall is the call one of keys leads to.
func (s *Server) dialogCall(keys ...string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if c := s.dialogs[k]; c != nil {
			return c
		}
	}
	return nil
}

// Events between calls and for an INVITE with Replaces.
type (
	// evSurrender asks a call to hand the far leg of the leg rep names
	// over to call to (an attended transfer of transfer xid).
	evSurrender struct {
		to        *Call
		rep       replaces
		xid, next string
	}
	// evAdopt gives a call the leg it asked for, or the status why not.
	evAdopt struct {
		xid     string
		leg     *Leg
		dialled string
		code    int
	}
	// evReplace is an INVITE with Replaces naming one of the call's legs.
	evReplace struct {
		req    *sip.Request
		tx     sip.ServerTransaction
		rep    replaces
		caller string
		done   chan struct{}
	}
)

// onTransferEvent runs the events of this file and call_refer.go.
func (c *Call) onTransferEvent(ev any) {
	switch e := ev.(type) {
	case evSurrender:
		c.onSurrender(e)
	case evAdopt:
		c.onAdopt(e)
	case evReplace:
		c.onReplace(e)
	}
}

// attendedTransfer starts a REFER's attended transfer: the call holding
// the dialog its Replaces names is asked for its far leg. The outcome
// arrives as evAdopt and is NOTIFYed; a non-zero status refuses the REFER.
func (c *Call) attendedTransfer(x *transfer, value string) int {
	rep, ok := parseReplaces(value)
	if !ok {
		return 400
	}
	other := c.host.dialogCall(rep.keys()...)
	if other == c {
		return 403 // a call cannot be transferred to itself
	}
	ask := evSurrender{to: c, rep: rep, xid: x.id, next: x.next}
	go func() {
		if other == nil || !other.post(ask) {
			c.post(evAdopt{xid: x.id, code: 481})
		}
	}()
	return 0
}

// onSurrender hands the far leg of the leg e.rep names over to e.to: the
// named leg (the transferor's) gets BYE and this call ends in its record,
// linked to the call that goes on.
func (c *Call) onSurrender(e evSurrender) {
	named := c.legNamed(e.rep)
	var far *Leg
	if named != nil {
		far = c.other(named)
	}
	if far == nil || c.state != stateConfirmed || c.transferPending() || c.offer != offerStable || c.retrans != nil {
		go e.to.post(evAdopt{xid: e.xid, code: 481})
		return
	}
	dialled, _ := c.partyOf(far)
	c.rec.TransferID, c.rec.TransferredTo = e.xid, e.next
	c.sendBye(named)
	c.end(c.rec.Status, c.sideOf(named), "transferred", "")
	// The far leg leaves with its endpoint: cleanup must not close it.
	left := *far
	left.Endpoint = nil
	if far == c.a {
		c.a = &left
	} else {
		c.b, c.epB = &left, nil
	}
	c.host.addDialog(far.matchKey(), e.to)
	go func() {
		if !e.to.post(evAdopt{xid: e.xid, leg: far, dialled: dialled}) {
			_ = far.Endpoint.Close()
		}
	}()
}

// onAdopt takes the leg an attended transfer asked for and joins it to the
// remaining party.
func (c *Call) onAdopt(e evAdopt) {
	x := c.xfer
	if x == nil || x.done || x.id != e.xid || c.state != stateConfirmed {
		if e.leg != nil {
			// Too late: the leg has nobody to talk to.
			c.sendBye(e.leg)
			_ = e.leg.Endpoint.Close()
		}
		return
	}
	if e.leg == nil {
		c.transferFailed(x, e.code)
		return
	}
	z := e.leg
	c.dialogKeys = append(c.dialogKeys, z.matchKey())
	x.dialled = e.dialled
	toNew, fromNew, codecs := media.MatchAnswer(x.keep.Codecs, z.Codecs)
	if !hasAudio(codecs) || !sameAudio(codecs, x.keep.Codecs) {
		toNew, fromNew = nil, nil
	}
	c.notifyRefer(x, 200)
	c.join(x, z, toNew, fromNew)
}

// replacing takes an INVITE with a Replaces header (RFC 3891 §3) to the
// call whose leg it names: 481 when none does. It reports whether the
// INVITE was one (and is answered).
func (s *Server) replacing(req *sip.Request, tx sip.ServerTransaction, caller string) bool {
	h := req.GetHeader("Replaces")
	if h == nil {
		return false
	}
	rep, ok := parseReplaces(h.Value())
	if !ok {
		s.reply(req, tx, 400, "")
		return true
	}
	c := s.dialogCall(rep.keys()...)
	done := make(chan struct{})
	if c == nil || !c.post(evReplace{req: req, tx: tx, rep: rep, caller: caller, done: done}) {
		s.reply(req, tx, 481, "")
		return true
	}
	select {
	case <-done:
	case <-c.done:
	}
	return true
}

// onReplace answers an INVITE with Replaces: its dialog becomes a leg of
// this call in the place of the named one, which gets BYE. Only confirmed
// dialogs are replaced; an early one gets 481 (RFC 3891 §3 lets a UA
// refuse it).
func (c *Call) onReplace(e evReplace) {
	respond := func(code int, res *sip.Response) {
		if res == nil {
			res = c.host.response(e.req, code, "", nil)
		}
		if err := e.tx.Respond(res); err != nil {
			c.log.Debug("respond to replacing INVITE failed", "code", code, "error", err)
		}
		close(e.done)
	}
	named := c.legNamed(e.rep)
	if named == nil || c.state != stateConfirmed {
		respond(481, nil)
		return
	}
	keep := c.other(named)
	if keep == nil || c.transferPending() || c.offer != offerStable || c.retrans != nil {
		respond(491, nil)
		return
	}
	req := e.req
	offer, err := media.ParseSDP(req.Body())
	if err != nil {
		respond(488, nil)
		return
	}
	toKeep, fromKeep, forW := media.MatchAnswer(media.FilterCodecs(offer.Codecs, c.allowed), keep.Codecs)
	if !hasAudio(forW) {
		respond(488, nil)
		return
	}
	if w, k := firstAudio(forW), firstAudio(keep.Codecs); !strings.EqualFold(w.Name, k.Name) || w.Clock != k.Clock {
		toKeep, fromKeep = nil, nil
	}
	l, ok := c.host.listenerFor(req.Transport(), req.Source())
	if !ok {
		respond(500, nil)
		return
	}
	ep, err := c.media.NewEndpoint(c.log.With("leg", named.Name))
	if err != nil {
		respond(503, nil)
		return
	}
	w := &Leg{
		CallID:        callIDOf(req),
		LocalTag:      c.host.newTag(),
		RemoteTag:     tagOf(req.From().Params),
		LocalURI:      *req.To().Address.Clone(),
		LocalDisplay:  req.To().DisplayName,
		RemoteURI:     *req.From().Address.Clone(),
		RemoteDisplay: req.From().DisplayName,
		RouteSet:      routeSetFromRecordRoute(req, false),
		Contact:       contactFor(l),
		Transport:     req.Transport(),
		Dest:          req.Source(),
		Laddr:         sipAddr(l.addr),
		RemoteCSeq:    req.CSeq().SeqNo,
		Endpoint:      ep,
		Session:       media.NewSession(),
		Codecs:        forW,
		Direction:     sdpDirection(offer),
		Ptime:         offer.Ptime,
		RTCP:          offer.RTCP,
		XR:            offer.RTCPXR,
	}
	w.setRemoteTargetFrom(req)
	ep.SetRemote(offer.RTP())
	body := w.Session.Build(ep.Local(), forW, answerDirection(w.Direction, media.SendRecv), c.ptime)
	res := c.host.response(req, 200, "", body)
	if to := res.To(); to != nil {
		to.Params.Add("tag", w.LocalTag)
	}
	res.AppendHeader(&sip.ContactHeader{Address: *w.Contact.Clone()})
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	respond(200, res)
	c.dialogKeys = append(c.dialogKeys, w.matchKey())
	c.host.addDialog(w.matchKey(), c)
	c.startRetransmit(res, w, req.CSeq().SeqNo)
	dialled, _ := c.partyOf(named)
	x := &transfer{id: c.host.newCallID(), next: c.host.newCallID(), from: named, keep: keep, caller: e.caller, dialled: dialled, target: c.target}
	c.xfer = x
	c.log.Info("leg replaced", "leg", named.Name, "transfer_id", x.id)
	c.join(x, w, fromKeep, toKeep)
}

// firstAudio is a codec list's first audio codec (zero if none).
func firstAudio(cs []media.Codec) media.Codec {
	a, _ := media.FirstAudio(cs)
	return a
}
