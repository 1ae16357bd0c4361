package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/sipdns"
)

// (parallel fork, RFC 3261 §16.6-style), or to a trunk.
func (c *Call) fork(t Target, ep *media.Endpoint, sess *media.Session, body []byte, offer []media.Codec) error {
	s := c.host
	dests, toURI, dnsTargets, err := c.routeTargets(t)
	if err != nil {
		return err
	}

	callID := s.newCallID() + "@" + s.sipDomain()
	localTag := s.newTag()
	c.rec.BCallID = callID
	sent := len(c.outs) // a route's fallback forks again (trunk_policy.go)
	fromURI := sip.Uri{Scheme: "sip", User: c.fromUser(t), Host: s.sipDomain()}
	signed := c.identityHeaders(t, fromURI.User, s.currentPolicy()) // STIR/SHAKEN (identity.go)
	asserted, hide := c.privacyHeaders(t, fromURI.User)             // RFC 3323/3325 (privacy.go)
	signed = append(signed, asserted...)
	display := c.aReq.From().DisplayName
	if u, ok := s.currentPolicy().users[c.caller]; ok && u.DisplayName != "" {
		display = u.DisplayName // the operator's caller ID wins over the phone's
	}
	if hide {
		fromURI, display = anonymousFrom(), anonymousDisplay
	}
	// nextTarget moves a DNS-named trunk's call on when its target cannot
	// even be sent to (a TCP connection refused): the next target is
	// added to dests (trunk_dns.go).
	nextTarget := func() {
		if len(dnsTargets) < 2 {
			return
		}
		t.Trunk.dns.targets.Fail(dnsTargets[0], 0)
		c.rec.TrunkTargets = append(c.rec.TrunkTargets, dnsTargets[0].String()+" → send failed")
		dnsTargets = dnsTargets[1:]
		tr := transportName(dnsTargets[0].Transport)
		dests = append(dests, dest{target: trunkRequestURI(t.Trunk, t.Number, tr), addr: dnsTargets[0].Addr.String(), transport: tr})
	}
	for i := 0; i < len(dests); i++ {
		d := dests[i]
		l, ok := s.listenerFor(d.transport, d.addr)
		if !ok {
			nextTarget()
			continue
		}
		leg := d.leg(l, callID, localTag, fromURI, display, toURI, ep, sess)
		leg.Name = "b"
		out := &outTx{method: sip.INVITE, leg: leg, req: c.forkInvite(leg, body), fork: true, offer: offer}
		for _, h := range signed {
			out.req.AppendHeader(h)
		}
		if t.Kind == TargetTrunk {
			advertiseOC(out.req) // RFC 7339 (overload_oc.go)
		}
		if err := c.send(out); err != nil {
			c.log.Warn("fork failed", "leg", "b", "dest", d.addr, "error", err)
			nextTarget()
			continue
		}
		if dnsTargets != nil {
			c.startFailover(t.Trunk, dnsTargets, out)
		}
	}
	if len(c.outs) == sent {
		return errNoListener
	}
	key := dialogKey(callID, localTag)
	c.dialogKeys = append(c.dialogKeys, key)
	s.addDialog(key, c)
	return nil
}

// dest is one place a target's INVITE goes: a registered contact of a
// user or a trunk's address.
type dest struct {
	target    sip.Uri
	addr      string
	transport string
}

// leg is the dialog of an INVITE to d through listener l: Call-ID and
// our tag, From (uri, display) and To, and the leg's media.
func (d dest) leg(l listener, callID, tag string, from sip.Uri, display string, to sip.Uri, ep *media.Endpoint, sess *media.Session) *Leg {
	return &Leg{
		UAC:          true,
		CallID:       callID,
		LocalTag:     tag,
		LocalURI:     from,
		LocalDisplay: display,
		RemoteURI:    to,
		RemoteTarget: d.target,
		Contact:      contactFor(l),
		Transport:    d.transport,
		Dest:         d.addr,
		Laddr:        sipAddr(l.addr),
		Endpoint:     ep,
		Session:      sess,
	}
}

// forkInvite builds the INVITE of a fork's leg: the leg's dialog fields,
// Max-Forwards one less than the caller's, our capabilities, the session
// timer and the offer.
func (c *Call) forkInvite(leg *Leg, body []byte) *sip.Request {
	req := leg.buildRequest(c.host, sip.INVITE, leg.nextCSeq())
	if mf, amf := req.MaxForwards(), c.aReq.MaxForwards(); mf != nil && amf != nil {
		*mf = sip.MaxForwardsHeader(int(amf.Val()) - 1)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	// The callee may send reliable provisionals (RFC 3262 §4): we
	// PRACK them, whatever the caller does.
	req.AppendHeader(sip.NewHeader("Supported", supportedOptionTags))
	c.sessionOfferB(req, wholeSeconds(c.timerConfig().SessionExpires))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	return req
}

// destinations resolves a routed target to the contacts (or the trunk
// address) its INVITE goes to, and the To URI it carries. A trunk given by
// host name yields its first DNS target only (no failover).
func (c *Call) destinations(t Target) ([]dest, sip.Uri, error) {
	dests, toURI, _, err := c.routeTargets(t)
	return dests, toURI, err
}

// routeTargets is destinations with, for a trunk given by host name, its
// RFC 3263 targets in order (trunk_dns.go), the first of which is dests'.
func (c *Call) routeTargets(t Target) ([]dest, sip.Uri, []sipdns.Target, error) {
	s := c.host
	var dests []dest
	toURI := sip.Uri{Scheme: "sip", User: t.Number, Host: s.sipDomain()}
	secure := isSIPS(c.aReq)
	switch t.Kind {
	case TargetUser:
		found := false
		for _, b := range gruuTarget(c.aReq, s.contacts(t.Number)) {
			var u sip.Uri
			if err := sip.ParseUri(b.Contact, &u); err != nil {
				continue
			}
			found = true
			if secure && !strings.EqualFold(b.Transport, "TLS") {
				continue // RFC 5630 §4.1: a sips request leaves over TLS only
			}
			dests = append(dests, dest{target: u, addr: b.Source, transport: strings.ToUpper(b.Transport)})
		}
		if len(dests) == 0 && found {
			return nil, toURI, nil, errSIPSInsecure
		}
		if len(dests) == 0 {
			return nil, toURI, nil, errNoContacts
		}
	case TargetTrunk:
		toURI = sip.Uri{Scheme: "sip", User: t.Number, Host: t.Trunk.URI.Host, Port: t.Trunk.URI.Port}
		if t.Trunk.dns != nil { // a host name: RFC 3263 and failover (trunk_dns.go)
			dnsTargets, err := c.trunkTargets(t.Trunk)
			if err != nil {
				return nil, toURI, nil, err
			}
			tr := transportName(dnsTargets[0].Transport)
			if secure && tr != "TLS" {
				return nil, toURI, nil, errSIPSInsecure
			}
			dests = append(dests, dest{target: trunkRequestURI(t.Trunk, t.Number, tr), addr: dnsTargets[0].Addr.String(), transport: tr})
			return dests, toURI, dnsTargets, nil
		}
		tr, addr, err := t.Trunk.route(time.Now(), hasTLS(s))
		if err != nil {
			return nil, toURI, nil, err
		}
		if secure && tr != "TLS" {
			return nil, toURI, nil, errSIPSInsecure
		}
		dests = append(dests, dest{target: trunkRequestURI(t.Trunk, t.Number, tr), addr: addr, transport: tr})
	}
	return dests, toURI, nil, nil
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
	tx, err := c.sip.request(ctx, out.req)
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
	c.heardFrom(out)
	if out.fork && c.target.Kind == TargetTrunk && c.target.Trunk != nil {
		c.target.Trunk.oc.note(res, c.now()) // RFC 7339 (overload_oc.go)
	}
	if code < 200 {
		if out.fork {
			c.onForkProvisional(out, res)
		} else if out.transfer {
			c.onTransferProvisional(out, res)
		}
		return
	}
	if out.final != 0 {
		// A 2xx retransmission: the ACK got lost, send it again.
		if code < 300 && out.method == sip.INVITE && out.state == outAnswered {
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
	if out.method != sip.INVITE || (out.fork && out.state == outAnswered && code < 300) {
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
	if res.StatusCode == 100 || c.state != stateEarly || out.state == outCancelled {
		return
	}
	if hasOptionTag(res, "Require", optionTag100rel) && !c.prackFork(out, res) {
		return // a retransmitted reliable provisional
	}
	if tag := tagOf(res.To().Params); tag != "" {
		out.leg.RemoteTag = tag
	}
	body := []byte(nil)
	if c.offer == offerLate {
		// No early media: the caller has made no offer yet, and an offer
		// in an unreliable provisional is not allowed (RFC 3261 §13.2.1).
	} else if len(res.Body()) > 0 && c.bridgeState == bridgeIdle {
		// Early media (RFC 3960 style): bridge now, through our ports.
		c.stopRingback() // ringback.go
		if b, err := c.applyAnswer(out, res.Body()); err == nil {
			body = b
			out.state = outEarly
		} else {
			c.log.Info("bad early SDP ignored", "leg", "b", "error", err)
		}
	} else if c.bridgeState == bridgeRunning && len(res.Body()) > 0 {
		body = c.a.Session.Build(c.a.Endpoint.Local(), c.a.Codecs, c.aAnswerDir(), c.ptime)
	}
	code := res.StatusCode
	if code != 180 && code != 183 {
		code = 183
	}
	if code == 183 && body == nil {
		code = 180 // progress without media is ringing to the caller
	}
	if code == 180 && c.startRingback() {
		return // the caller hears local ringback (ringback.go)
	}
	c.respondA(code, body)
}

func (c *Call) onFinal(out *outTx, code int, res *sip.Response) {
	out.final = code
	switch {
	case out.refresh:
		c.onRefreshFinal(out, code)
	case out.fork:
		c.onForkFinal(out, code, res)
	case out.transfer:
		c.onTransferFinal(out, code, res)
	case out.method == sip.INVITE:
		c.onReinviteFinal(out, code, res)
	case out.origin != nil:
		// A relayed non-INVITE (INFO): pass the status back.
		c.answer(out.origin, relayStatus(code), nil)
		if code == 481 {
			// That leg's dialog is gone (RFC 5057 §5.1): end the call.
			c.hangup(out.leg, cdr.HangupSwitchboard, "INFO got 481")
		}
	}
}

func relayStatus(code int) int {
	if code == 401 || code == 407 {
		return 403
	}
	return code
}

func (c *Call) onForkFinal(out *outTx, code int, res *sip.Response) {
	c.stopRingback() // ringback.go
	if code >= 200 && code < 300 {
		out.leg.RemoteTag = tagOf(res.To().Params)
		if c.state != stateEarly || c.b != nil {
			// Lost the race (or the call ended): ACK then BYE (RFC 3261 §13.2.2.4).
			out.state = outAnswered
			c.confirmFork(out, res)
			c.sendAck(out, nil)
			c.sendBye(out.leg)
			return
		}
		out.state = outAnswered
		c.confirmFork(out, res)
		c.sendAck(out, nil)
		c.b = out.leg
		c.rec.TransportB = strings.ToUpper(out.leg.Transport)
		c.cancelForks(out)
		c.sessionAnsweredB(res)
		if c.offer == offerLate {
			c.answerLateOffer(out, res)
			return
		}
		body, err := c.applyAnswer(out, res.Body())
		if err != nil {
			c.log.Info("bad SDP answer from callee", "leg", "b", "error", err)
			c.sendBye(out.leg)
			c.fail(488, cdr.HangupCallee, "bad SDP answer", cdr.Failed)
			return
		}
		c.offer = offerStable
		c.answered()
		c.respondA(200, body)
		c.log.Info("answered", "leg", "both", "codec_a", codecName(c.a.Codecs), "codec_b", codecName(c.b.Codecs))
		return
	}
	// A failure: wait for the other forks, then relay the best one.
	if c.state != stateEarly {
		return
	}
	if code == 422 && res != nil && c.retry422(out, res) {
		return
	}
	if code == 488 && c.srtpFallback(out) {
		return // srtp_offer.go
	}
	if c.failOverOn(out, code, res) {
		return // the next target of a DNS-named trunk (trunk_dns.go)
	}
	if res != nil {
		out.reasons = reasonsOf(res)
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
	if c.fallBack(best) {
		return // the route's next trunk (trunk_policy.go)
	}
	var reasons []cause.Reason
	for _, o := range c.outs {
		if o.fork && o.final == best {
			reasons = o.reasons
			break
		}
	}
	code = c.relayFailure(best, reasons)
	if c.announceFailure(code, failureSide(code), fmt.Sprintf("callee answered %d", best)) {
		return // the final response follows the early media (failure_media.go)
	}
	c.fail(code, failureSide(code), fmt.Sprintf("callee answered %d", best), "")
}

// confirmFork takes dialog state from the callee's 2xx (RFC 3261 §12.1.2).
func (c *Call) confirmFork(out *outTx, res *sip.Response) {
	out.leg.RouteSet = routeSetFromRecordRoute(res, true)
	out.leg.setRemoteTargetFrom(res)
}

// applyAnswer takes the callee's SDP answer for the fork's offer, wires the
// bridge and returns the SDP answer for the caller.
func (c *Call) cancelForks(keep *outTx) {
	for _, o := range c.outs {
		if !o.fork || o == keep || o.final != 0 || o.state == outCancelled {
			continue
		}
		c.cancelOut(o, c.cancelReason(keep))
	}
}

// cancelOut CANCELs one pending client INVITE (RFC 3261 §9.1) with a
// Reason header; a 2xx that crosses it is ACKed and BYEd.
func (c *Call) cancelOut(o *outTx, reason string) {
	o.state = outCancelled
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
	cancel.AppendHeader(sip.NewHeader("Reason", reason))
	cancel.SetBody(nil)
	o.leg.address(cancel)
	tx, err := c.sip.request(context.Background(), cancel)
	if err != nil {
		c.log.Debug("CANCEL failed", "leg", o.leg.Name, "error", err)
		return
	}
	go func() { <-tx.Done() }()
}

func (c *Call) sendAck(out *outTx, body []byte) {
	ack := out.leg.ack(c.host, out.req.CSeq().SeqNo, body)
	if err := c.sip.writeRequest(ack); err != nil {
		c.log.Debug("ACK failed", "leg", out.leg.Name, "error", err)
	}
}

// sendBye ends a dialog; the response is awaited in the background.
func (c *Call) sendBye(l *Leg) {
	bye := l.newRequest(c.host, sip.BYE)
	bye.AppendHeader(sip.NewHeader("Reason", c.byeReason(l)))
	bye.SetBody(nil)
	out := &outTx{method: sip.BYE, leg: l, req: bye}
	if err := c.send(out); err != nil {
		c.log.Debug("BYE failed", "leg", l.Name, "error", err)
	}
}

func (c *Call) onStray(res *sip.Response) {
	for _, o := range c.outs {
		if o.fork && o.state == outAnswered && o.leg.RemoteTag == tagOf(res.To().Params) {
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
