package b2bua

import (
	"net/url"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
)

// Call transfer (RFC 3515 REFER, RFC 3891 Replaces, RFC 5589 flows),
// performed by Switchboard on behalf of the transferor. A phone on one leg
// (the transferor) REFERs; the other leg (the remaining party) is never
// asked to do anything:
//
//	REFER on leg X ─► 202, NOTIFY "100 Trying"
//	  blind:    INVITE target (routed as a call of X's identity, From the
//	            remaining party, Referred-By X) ─► 18x: NOTIFY "180 Ringing"
//	            ─► 2xx ─► join         ≥300 ─► NOTIFY "486 Busy Here"…, the
//	                                          call stays as it was
//	  attended: Refer-To carries Replaces naming X's other call: that call
//	            hands its far leg over (evSurrender ─► evAdopt) ─► join
//	join: NOTIFY "200 OK", this call's record ends ("transferred"), BYE to
//	      X, the new leg takes X's place, a new bridge between the
//	      remaining party's endpoint and the new leg's, a new record linked
//	      to the first by transfer_id / transferred_from / transferred_to.
//
// call_replaces.go has the attended half and INVITE with Replaces.

// transfer is one transfer of the call: in progress until done.
type transfer struct {
	// id is shared by the records the transfer links (cdr transfer_id);
	// next is the call_id of the record of the call that goes on.
	id, next string
	// from is the transferor's leg (the REFER's dialog, or the leg an
	// INVITE with Replaces replaces); keep the remaining party's.
	from, keep *Leg
	// refer: the transfer came by REFER, whose implicit subscription
	// gets NOTIFYs (RFC 3515 §2.4.4).
	refer bool
	// out is the INVITE to a blind transfer's target, leg its leg.
	out *outTx
	leg *Leg
	// target is the route of the transfer target; caller the identity the
	// transfer is made for (the transferor's).
	target Target
	caller string
	// dialled is the target's number.
	dialled string
	// notified is the last sipfrag status sent; gone: the transferor hung
	// up meanwhile (the transfer goes on, RFC 5589 §6); done: joined.
	notified   int
	gone, done bool
}

// transferPending reports whether the call has a transfer in progress.
func (c *Call) transferPending() bool { return c.xfer != nil && !c.xfer.done }

// onRefer answers a REFER on leg from (RFC 3515 §2.4.2): 202 and the
// transfer, or a final failure when there is nothing to transfer to.
func (c *Call) onRefer(e *evRequest, from *Leg) {
	keep := c.other(from)
	if c.state != stateConfirmed || keep == nil || c.transferPending() || c.offer != offerStable {
		c.answer(e, 491, nil)
		return
	}
	uri, replaces, ok := referTarget(e.req)
	if !ok {
		c.answer(e, 400, nil)
		return
	}
	caller, trunk := c.identityOf(from)
	x := &transfer{id: c.host.newCallID(), next: c.host.newCallID(), from: from, keep: keep, refer: true, caller: caller, dialled: uri.User}
	if replaces != "" {
		if code := c.attendedTransfer(x, replaces); code != 0 {
			c.answer(e, code, nil)
			return
		}
	} else if code := c.blindTransfer(x, trunk); code != 0 {
		c.answer(e, code, nil)
		return
	}
	c.answer(e, 202, nil)
	c.xfer = x
	c.log.Info("transfer", "leg", from.Name, "transfer_id", x.id, "to", uri.User, "attended", replaces != "")
	c.notifyRefer(x, 100)
}

// referTarget reads the Refer-To header (RFC 3515 §2.1): the target URI
// and, for an attended transfer, the Replaces value its headers carry
// (RFC 3891 §5, URL-escaped).
func referTarget(req *sip.Request) (uri sip.Uri, replaces string, ok bool) {
	h := req.GetHeader("Refer-To")
	if h == nil {
		h = req.GetHeader("r")
	}
	if h == nil {
		return uri, "", false
	}
	v := strings.TrimSpace(h.Value())
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return uri, "", false
		}
		v = v[i+1 : i+j]
	}
	v, hdrs, _ := strings.Cut(v, "?")
	if err := sip.ParseUri(v, &uri); err != nil || uri.User == "" {
		return uri, "", false
	}
	for _, kv := range strings.Split(hdrs, "&") {
		k, val, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "Replaces") {
			if un, err := url.QueryUnescape(val); err == nil {
				replaces = un
			}
		}
	}
	return uri, replaces, true
}

// identityOf is who is behind a leg, for routing a transfer as that
// party's call: the caller's identity for leg a, the callee's (the user
// called, or the trunk) for leg b.
func (c *Call) identityOf(l *Leg) (string, *Trunk) {
	if l == c.a {
		return c.caller, c.fromTrunk
	}
	if c.target.Kind == TargetTrunk {
		return "trunk:" + c.target.Trunk.Name, c.target.Trunk
	}
	return c.target.Number, nil
}

// partyOf is the user part a leg's party is known by: the caller's From
// for leg a, the number called for leg b.
func (c *Call) partyOf(l *Leg) (user, display string) {
	if l == c.a {
		return c.aReq.From().Address.User, c.aReq.From().DisplayName
	}
	return l.RemoteURI.User, l.RemoteDisplay
}

// sideOf is the record's hangup side of a leg.
func (c *Call) sideOf(l *Leg) string {
	if l == c.a {
		return cdr.HangupCaller
	}
	return cdr.HangupCallee
}

// blindTransfer routes the Refer-To number as a call of the transferor's
// and sends the INVITE to the target; a non-zero status refuses the REFER.
func (c *Call) blindTransfer(x *transfer, trunk *Trunk) int {
	pol := c.host.currentPolicy()
	t, ok := pol.router.Route(x.dialled)
	if !ok {
		return 404
	}
	switch t.Kind {
	case TargetReject:
		return t.Status
	case TargetTrunk:
		if trunk != nil && !trunk.mayTransitTo(t.Trunk.Name) {
			return 403
		}
	case TargetUser:
		if _, known := pol.users[t.Number]; !known {
			return 404
		}
	}
	dests, toURI, err := c.destinations(t)
	if err != nil {
		return errStatus(err)
	}
	var d dest
	var l listener
	for _, d = range dests {
		if l, ok = c.host.listenerFor(d.transport, d.addr); ok {
			break
		}
	}
	if !ok {
		return 503
	}
	ep, err := c.media.NewEndpoint(c.log.With("leg", x.from.Name))
	if err != nil {
		return 503
	}
	user, display := c.partyOf(x.keep)
	s := c.host
	leg := d.leg(l, s.newCallID()+"@"+s.sipDomain(), s.newTag(), sip.Uri{Scheme: "sip", User: user, Host: s.sipDomain()},
		display, toURI, ep, media.NewSession())
	leg.Name = x.from.Name
	offer := media.WithEvents(x.keep.Codecs, defaultCodecs(c.allowed))
	req := leg.buildRequest(s, sip.INVITE, leg.nextCSeq())
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	// RFC 3892: who asked for this call. Our own URI for the transferor:
	// nothing of its leg's addresses crosses to the target.
	by, _ := c.partyOf(x.from)
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:"+by+"@"+s.sipDomain()+">"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(leg.Session.Build(ep.Local(), offer, media.SendRecv, c.ptime))
	out := &outTx{method: sip.INVITE, leg: leg, req: req, offer: offer, transfer: true}
	if err := c.send(out); err != nil {
		_ = ep.Close()
		return 503
	}
	c.dialogKeys = append(c.dialogKeys, leg.matchKey())
	s.addDialog(leg.matchKey(), c)
	x.out, x.leg, x.target = out, leg, t
	return 0
}

// notifyRefer reports the transfer's progress to the transferor as a
// message/sipfrag NOTIFY (RFC 3515 §2.4.4-2.4.5): the status line of the
// target's response; a final one ends the implicit subscription.
func (c *Call) notifyRefer(x *transfer, code int) {
	if !x.refer || x.gone || code == x.notified {
		return
	}
	x.notified = code
	l := x.from
	req := l.newRequest(c.host, sip.NOTIFY)
	req.AppendHeader(&sip.ContactHeader{Address: *l.Contact.Clone()})
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if code >= 200 {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + itoa(code) + " " + reasonPhrase(code) + "\r\n"))
	if err := c.send(&outTx{method: sip.NOTIFY, leg: l, req: req}); err != nil {
		c.log.Debug("NOTIFY failed", "leg", l.Name, "error", err)
	}
}

// onTransferProvisional passes the target's ringing on as a NOTIFY.
func (c *Call) onTransferProvisional(out *outTx, res *sip.Response) {
	x := c.xfer
	if x == nil || x.out != out || x.done || res.StatusCode == 100 {
		return
	}
	if tag := tagOf(res.To().Params); tag != "" {
		out.leg.RemoteTag = tag
	}
	c.notifyRefer(x, res.StatusCode)
}

// onTransferFinal takes the target's final response: a 2xx joins it to
// the remaining party; a failure is NOTIFYed and the call stays as it was
// (or ends, when the transferor has hung up meanwhile).
func (c *Call) onTransferFinal(out *outTx, code int, res *sip.Response) {
	x := c.xfer
	if x == nil || x.out != out || x.done || c.state == stateEnded {
		if code < 300 && res != nil {
			// The transfer was given up (the call ended): ACK and BYE.
			out.leg.RemoteTag = tagOf(res.To().Params)
			c.confirmFork(out, res)
			c.sendAck(out, nil)
			c.sendBye(out.leg)
		}
		return
	}
	if code >= 300 || res == nil {
		c.transferFailed(x, code)
		return
	}
	leg := out.leg
	out.state = outAnswered
	leg.RemoteTag = tagOf(res.To().Params)
	c.confirmFork(out, res)
	c.sendAck(out, nil)
	ans, err := media.ParseSDP(res.Body())
	var toNew, fromNew media.PayloadMap
	var codecs []media.Codec
	if err == nil {
		toNew, fromNew, codecs = media.MatchAnswer(out.offer, ans.Codecs)
	}
	if err != nil || !hasAudio(codecs) {
		c.log.Info("bad SDP answer from transfer target", "leg", leg.Name, "error", err)
		c.sendBye(leg)
		c.transferFailed(x, 488)
		return
	}
	leg.Codecs, leg.Direction = ans.Codecs, sdpDirection(ans)
	leg.Ptime, leg.RTCP, leg.XR = ans.Ptime, ans.RTCP, ans.RTCPXR
	leg.Endpoint.SetRemote(ans.RTP())
	if !sameAudio(codecs, x.keep.Codecs) {
		toNew, fromNew = nil, nil // the target chose another codec: transcoded
	}
	c.notifyRefer(x, code)
	c.join(x, leg, toNew, fromNew)
}

// transferFailed ends a transfer that could not reach its target.
func (c *Call) transferFailed(x *transfer, code int) {
	c.log.Info("transfer failed", "leg", x.from.Name, "transfer_id", x.id, "status", code)
	c.xfer = nil
	if x.leg != nil && x.leg.Endpoint != nil {
		_ = x.leg.Endpoint.Close()
	}
	c.notifyRefer(x, code)
	if x.gone {
		// Nobody is left to talk to the remaining party.
		c.hangup(x.from, c.sideOf(x.from), "transfer failed")
	}
}

// abandonTransfer gives up a transfer in progress as the call ends: its
// INVITE is cancelled and its endpoint closed.
func (c *Call) abandonTransfer() {
	x := c.xfer
	if x == nil || x.done {
		return
	}
	x.done = true
	if x.out != nil && x.out.final == 0 && x.out.state != outCancelled {
		c.cancelOut(x.out, c.endingReason())
	}
	if x.leg != nil && x.leg.Endpoint != nil {
		_ = x.leg.Endpoint.Close()
	}
}

// onTransferorBye: the transferor hung up while its transfer is in
// progress. The transfer goes on (RFC 5589 §6); the BYE after the join
// (ours and the transferor's may cross) is answered too. It reports
// whether the BYE was the transfer's.
func (c *Call) onTransferorBye(e *evRequest) bool {
	x := c.xfer
	if x == nil || e.key != x.from.matchKey() || (x.done && c.legFor(e.key, e.req) != nil) {
		return false
	}
	c.answer(e, 200, nil)
	x.gone = true
	return true
}

// join puts nl in the place of the transferor's leg: the transferred
// call's record ends, the transferor gets BYE, the remaining party's
// endpoint is bridged to nl's, and a new record starts, linked to the
// first. toNew and fromNew map payload types between the remaining
// party and nl when both use one codec (nil: transcoded or unchanged).
func (c *Call) join(x *transfer, nl *Leg, toNew, fromNew media.PayloadMap) {
	old := x.from
	next := x.next
	prev := c.rec
	c.rec.TransferID, c.rec.TransferredTo = x.id, next
	reason := "transferred"
	if !x.refer {
		reason = "replaced"
	}
	c.writeCDR(0, c.sideOf(old), reason, cdr.Answered)
	if !x.gone {
		c.sendBye(old)
	}
	x.done = true

	c.bridge.Stop()
	nl.Name = old.Name
	oldEp := old.Endpoint
	if old == c.a {
		c.disarm(timerSessionA)
		c.sessA = sessionTimer{}
		c.a = nl
	} else {
		c.disarm(timerSessionB)
		c.sessB = sessionTimer{}
		c.b, c.epB = nl, nl.Endpoint
	}
	if oldEp != nil && oldEp != nl.Endpoint {
		_ = oldEp.Close()
	}
	if x.keep == c.b {
		toNew, fromNew = fromNew, toNew // configureMedia's maps are a→b, b→a
	}
	c.why = endReason{}
	c.rec = c.transferRecord(prev, x, next)
	c.recWritten = false
	c.bridge = c.media.NewBridge(c.a.Endpoint, c.b.Endpoint, c.log)
	c.bridgeState = bridgeIdle
	if err := c.configureMedia(c.a, c.b, toNew, fromNew); err != nil {
		c.hangup(nil, cdr.HangupSwitchboard, "media after transfer: "+err.Error())
		return
	}
	c.startBridge()
	c.bridge.Pause(isHold(c.a.Direction) || isHold(c.b.Direction))
	c.records.Up(&c.rec)
	c.log.Info("transferred", "leg", nl.Name, "transfer_id", x.id, "record", next)
}

// transferRecord opens the record of the call a transfer continues: the
// remaining party with the new leg, answered now, linked to prev.
func (c *Call) transferRecord(prev cdr.Record, x *transfer, id string) cdr.Record {
	now := time.Now()
	user, _ := c.partyOf(x.keep)
	r := cdr.Record{
		CallID:          id,
		ACallID:         c.a.CallID,
		BCallID:         c.b.CallID,
		From:            user + "@" + c.host.sipDomain(),
		To:              x.dialled + "@" + c.host.sipDomain(),
		Dialled:         x.dialled,
		Caller:          x.caller,
		Route:           x.target.Rule,
		Start:           now,
		Answer:          now,
		Status:          200,
		TransportA:      strings.ToUpper(c.a.Transport),
		TransportB:      strings.ToUpper(c.b.Transport),
		TransferID:      x.id,
		TransferredFrom: prev.CallID,
	}
	if x.target.Kind == TargetTrunk && x.target.Trunk != nil {
		r.Trunk = x.target.Trunk.Name
	}
	return r
}
