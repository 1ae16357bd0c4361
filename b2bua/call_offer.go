package b2bua

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
)

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
	_, ok := media.FirstAudio(cs)
	return ok
}

// fork sends the callee-side INVITE: to every registered contact of a user
func (c *Call) applyAnswer(out *outTx, body []byte) ([]byte, error) {
	ans, err := media.ParseSDP(body)
	if err != nil {
		return nil, err
	}
	aToB, bToA, forA := media.MatchAnswer(out.offer, ans.Codecs)
	if !hasAudio(forA) {
		return nil, errNoCommonCodec
	}
	if err := c.srtp.b.takeAnswer(out.leg.Session, out.leg.Endpoint, ans); err != nil {
		return nil, err
	}
	aCodecs, err := c.offererCodecs(c.a, c.aOffer, forA)
	if err != nil {
		return nil, err
	}
	b := out.leg
	b.Codecs = ans.Codecs
	b.Direction = answerDirection(c.a.Direction, sdpDirection(ans))
	b.Ptime, b.RTCP, b.XR = ans.Ptime, ans.RTCP, ans.RTCPXR
	b.Endpoint.SetRemote(ans.RTP())
	c.a.Codecs = aCodecs
	if !sameAudio(aCodecs, forA) {
		aToB, bToA = nil, nil // transcoded: nothing is relayed as it is
	}
	if err := c.configureMedia(c.a, b, aToB, bToA); err != nil {
		return nil, err
	}
	forA = aCodecs
	c.answerStreams(ans, c.a.Session) // call_streams.go
	c.startBridge()
	c.bridge.Pause(isHold(c.a.Direction) || isHold(b.Direction))
	return c.a.Session.Build(c.a.Endpoint.Local(), forA, b.Direction, c.ptime), nil
}

func (c *Call) aAnswerDir() media.Direction {
	if c.b != nil {
		return c.b.Direction
	}
	return media.SendRecv
}

func isHold(d media.Direction) bool { return d != media.SendRecv }

// sdpDirection is the direction a description asks for, with the RFC 2543
// hold by c=0.0.0.0 (RFC 3264 §8.4) made explicit: that party wants no
// media, so its sendrecv is passed on as sendonly and recvonly as inactive
// (RFC 6337 §5.3). The other leg then sees the hold as a direction.
func sdpDirection(d *media.Description) media.Direction {
	if d.Addr.IsUnspecified() && d.WebRTC == nil { // WebRTC: ICE's placeholder (media.Description.Hold)
		switch d.Direction {
		case media.SendRecv:
			return media.SendOnly
		case media.RecvOnly:
			return media.Inactive
		}
	}
	return d.Direction
}

// answerDirection is the direction we answer an offer of offered with,
// given what the other leg answered: kept when it is a valid answer
// (RFC 3264 §6.1), else narrowed to one (a phone answering sendonly with
// sendrecv gets recvonly written for it).
func answerDirection(offered, answered media.Direction) media.Direction {
	switch offered {
	case media.Inactive:
		return media.Inactive
	case media.SendOnly:
		if answered == media.SendRecv {
			return media.RecvOnly
		}
		if answered == media.SendOnly {
			return media.Inactive
		}
	case media.RecvOnly:
		if answered == media.SendRecv {
			return media.SendOnly
		}
		if answered == media.RecvOnly {
			return media.Inactive
		}
	}
	return answered
}

func codecName(cs []media.Codec) string {
	c, _ := media.FirstAudio(cs)
	return c.Name
}

// cancelForks CANCELs every pending fork except keep (RFC 3261 §9.1).
func (c *Call) answerLateOffer(out *outTx, res *sip.Response) {
	ans, err := media.ParseSDP(res.Body())
	if err == nil && hasAudio(ans.Codecs) {
		err = c.srtp.b.takeAnswer(out.leg.Session, out.leg.Endpoint, ans)
	}
	if err == nil {
		err = c.srtp.a.offer(c.a.Session)
	}
	if err != nil || !hasAudio(ans.Codecs) {
		c.log.Info("bad SDP answer from callee", "leg", "b", "error", err)
		c.sendBye(out.leg)
		c.fail(488, cdr.HangupCallee, "bad SDP answer", cdr.Failed)
		return
	}
	b := out.leg
	b.Codecs, b.Direction = ans.Codecs, sdpDirection(ans)
	b.Ptime, b.RTCP, b.XR = ans.Ptime, ans.RTCP, ans.RTCPXR
	b.Endpoint.SetRemote(ans.RTP())
	c.ackOffer = ans.Codecs
	c.offer = offerInAck
	c.answered()
	c.respondA(200, c.a.Session.Build(c.a.Endpoint.Local(), ans.Codecs, b.Direction, c.ptime))
	c.log.Info("answered (late offer)", "leg", "both", "codec_b", codecName(ans.Codecs))
}

// takeAckAnswer completes a late-offer call with the caller's answer.
func (c *Call) takeAckAnswer(ack *sip.Request) {
	ans, err := media.ParseSDP(ack.Body())
	if err == nil {
		err = c.srtp.a.takeAnswer(c.a.Session, c.a.Endpoint, ans)
	}
	if err != nil {
		c.log.Info("late offer: no usable answer in ACK", "leg", "a", "error", err)
		c.hangup(nil, cdr.HangupSwitchboard, "no SDP answer in ACK")
		return
	}
	// Our offer carried the callee's payload types: in MatchAnswer's terms
	// the callee is the offering side.
	bToA, aToB, forB := media.MatchAnswer(c.ackOffer, ans.Codecs)
	if len(bToA) == 0 {
		c.hangup(nil, cdr.HangupSwitchboard, "caller's answer has no offered codec")
		return
	}
	c.a.Codecs, c.a.Direction = ans.Codecs, sdpDirection(ans)
	c.a.Ptime, c.a.RTCP, c.a.XR = ans.Ptime, ans.RTCP, ans.RTCPXR
	c.a.Endpoint.SetRemote(ans.RTP())
	c.b.Codecs = forB
	if err := c.configureMedia(c.a, c.b, aToB, bToA); err != nil {
		c.hangup(nil, cdr.HangupSwitchboard, "media: "+err.Error())
		return
	}
	c.offer = offerStable
	c.startBridge()
	c.bridge.Pause(isHold(c.a.Direction) || isHold(c.b.Direction))
}

func (c *Call) onReinvite(e *evRequest, from *Leg) {
	if c.svc != nil {
		c.serviceReinvite(e, from) // service_call.go
		return
	}
	if c.mohReinvite(e, from) { // moh.go
		return
	}
	to := c.other(from)
	if !c.state.up() || to == nil {
		c.answer(e, 491, nil)
		return
	}
	if c.offer != offerStable || c.retrans != nil {
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
	if c.faxReinvite(e, from, to) { // call_fax.go
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
	undo := keepStreams(keepSession(from), from, to) // call_glare.go, call_fax.go
	if err := c.srtpOf(from).answerOffer(from.Session, from.Endpoint, offer); err != nil {
		c.log.Info("SRTP re-offer refused", "leg", from.Name, "error", err)
		c.answer(e, 488, nil)
		return
	}
	from.Endpoint.SetRemote(offer.RTP())
	from.Direction = sdpDirection(offer)
	from.Ptime, from.RTCP, from.XR = offer.Ptime, offer.RTCP, offer.RTCPXR
	c.reOffer = filtered
	toOffer := c.farOffer(filtered, to == c.b)
	if err := c.srtpOf(to).offer(to.Session); err != nil {
		c.answer(e, 500, nil)
		return
	}
	c.offerStreams(offer, from.Session, to.Session, from == c.a) // call_streams.go
	body := to.Session.Build(to.Endpoint.Local(), toOffer, from.Direction, c.ptime)
	req := to.newRequest(c.host, sip.INVITE)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	out := &outTx{method: sip.INVITE, leg: to, req: req, origin: e, offer: toOffer, undo: undo}
	if err := c.send(out); err != nil {
		c.reinviteFailed(out, 500)
		return
	}
	c.offer = offerRelaying
}

func (c *Call) onReinviteFinal(out *outTx, code int, res *sip.Response) {
	if c.offer == offerRelaying {
		c.offer = offerStable
	}
	e := out.origin
	if out.fax && code >= 300 {
		if code != 481 && code != 408 && code != 491 && c.faxGateway(out) { // fax_gateway.go
			return
		}
		c.faxRefused() // call_fax.go
	}
	if code >= 300 || res == nil {
		if code == 481 || code == 408 {
			// The other dialog is gone: the call cannot go on (RFC 5057).
			c.answer(e, relayStatus(code), nil)
			c.hangup(out.leg, cdr.HangupSwitchboard, fmt.Sprintf("re-INVITE got %d", code))
			return
		}
		if code == 491 && c.retryGlare(out) {
			return // call_glare.go
		}
		c.reinviteFailed(out, code)
		return
	}
	out.state = outAnswered
	out.leg.setRemoteTargetFrom(res)
	c.sendAck(out, nil)
	if out.fax {
		c.faxAnswered(out, res) // call_fax.go
		return
	}
	from := c.other(out.leg)
	ans, err := media.ParseSDP(res.Body())
	if err != nil {
		c.reinviteFailed(out, 488)
		return
	}
	fwd, back, forFrom := media.MatchAnswer(out.offer, ans.Codecs)
	fromCodecs, err := c.offererCodecs(from, c.reOffer, forFrom)
	if err == nil {
		err = c.srtpOf(out.leg).takeAnswer(out.leg.Session, out.leg.Endpoint, ans)
	}
	if err != nil {
		// The session in force stays (RFC 3261 §14.1); the offerer hears why.
		c.reinviteFailed(out, 488)
		return
	}
	to := out.leg
	to.Codecs, to.Direction = ans.Codecs, answerDirection(from.Direction, sdpDirection(ans))
	to.Ptime, to.RTCP, to.XR = ans.Ptime, ans.RTCP, ans.RTCPXR
	to.Endpoint.SetRemote(ans.RTP())
	if !sameAudio(fromCodecs, forFrom) {
		fwd, back = nil, nil
	}
	from.Codecs = fromCodecs
	forFrom = fromCodecs
	aToB, bToA := fwd, back
	if from == c.b {
		aToB, bToA = back, fwd
	}
	if err := c.configureMedia(c.a, c.b, aToB, bToA); err != nil {
		c.log.Info("re-INVITE media", "leg", to.Name, "error", err)
	}
	c.bridge.Pause(isHold(from.Direction) || isHold(to.Direction))
	c.answerStreams(ans, from.Session) // call_streams.go
	body := from.Session.Build(from.Endpoint.Local(), forFrom, to.Direction, c.ptime)
	r := c.answer(e, 200, body)
	c.startRetransmit(r, from, e.req.CSeq().SeqNo)
}
