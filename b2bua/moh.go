package b2bua

import (
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// Music on hold (hold: moh on the route, the caller or the callee): a
// re-INVITE that puts the call on hold is answered here, the other leg
// is not re-INVITEd, and the held party hears services.moh, looped,
// through the processing path (media.Bridge.Hold):
//
//	holder ─re-INVITE sendonly/inactive/c=0─► 200 recvonly/inactive (ours)
//	        Bridge.Hold(held, Player(moh)) + Pause (inactivity timer off)
//	holder ─re-INVITE sendrecv─► 200 sendrecv; Bridge.Hold(held, nil) + resume
//
// While held, a re-INVITE from the held party is refused with 491 (the
// holder owns the session until it resumes).

// mohState is a hold Switchboard answered.
type mohState struct {
	holder *Leg
}

// holder is what music on hold needs of the call's bridge.
type holder interface {
	Hold(held *media.Endpoint, src media.Source) error
}

// mohReinvite handles a re-INVITE that holds or resumes a call whose
// policy says hold: moh; it reports false when the re-INVITE is not
// one (it is relayed as usual).
func (c *Call) mohReinvite(e *evRequest, from *Leg) bool {
	pol := c.host.currentPolicy()
	br, ok := c.bridge.(holder)
	if !ok || !c.state.up() || c.b == nil || len(e.req.Body()) == 0 ||
		!c.policies(pol, func(p config.CallPolicy) bool { return p.Hold == config.HoldMOH }) {
		return false
	}
	if c.moh != nil && from != c.moh.holder {
		c.answer(e, 491, nil)
		return true
	}
	if c.offer != offerStable || c.retrans != nil {
		return false // glare: onReinvite answers 491
	}
	offer, err := media.ParseSDP(e.req.Body())
	if err != nil {
		return false
	}
	dir := sdpDirection(offer)
	if !isHold(dir) && c.moh == nil {
		return false // a plain re-INVITE
	}
	// The session in force stays: the hold must offer the codec in use.
	cur, ok := media.FirstAudio(from.Codecs)
	if !ok || !offered(media.FilterCodecs(offer.Codecs, c.allowed), cur) {
		return false
	}
	held := c.other(from)
	from.setRemoteTargetFrom(e.req)
	from.Endpoint.SetRemote(offer.RTP())
	from.Direction = dir
	if isHold(dir) && c.moh == nil {
		clip, err := c.media.loadClip(pol.cfg.Services.MOH)
		if err == nil {
			err = br.Hold(held.Endpoint, media.NewPlayer(clip, true))
		}
		if err != nil {
			c.log.Error("music on hold not played", "leg", held.Name, "error", err)
		} else {
			c.log.Info("on hold: music on hold to the held party", "leg", held.Name, "holder", from.Name)
		}
		c.moh = &mohState{holder: from}
		c.bridge.Pause(true)
	} else if !isHold(dir) {
		_ = br.Hold(held.Endpoint, nil)
		c.moh = nil
		c.bridge.Pause(false)
		c.log.Info("resumed from hold", "leg", from.Name)
	}
	res := c.answer(e, 200, from.Session.Build(from.Endpoint.Local(), from.Codecs, answerDirection(dir, media.SendRecv), c.ptime))
	c.startRetransmit(res, from, e.req.CSeq().SeqNo)
	return true
}
