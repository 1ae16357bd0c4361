package b2bua

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// SRTP offer/answer with SDES keys (RFC 4568), per leg. Each leg has its
// own policy (the user's or trunk's srtp, config/srtp.go) and its own keys:
// Switchboard draws fresh keys for every leg it faces, so a bridge of two
// SRTP legs decrypts with one leg's keys and encrypts with the other's,
// and neither peer ever sees the other's keys. The keys a leg agreed on
// go to its media.Endpoint (SetSRTP) and into its media.Session, which
// writes them into every later SDP of the leg:
//
//	peer offers (caller's INVITE, re-INVITE) ─ answerOffer:
//	  a=crypto we support ─► our key for its suite and tag, SRTP on
//	  none, RTP/AVP       ─► plain (unless required: 488)
//	  none, RTP/SAVP      ─► 488 (a secure profile needs keys)
//	we offer (fork, re-INVITE, late offer) ─ offer:
//	  off: plain; opportunistic: RTP/AVP + a=crypto per suite (RFC 8643);
//	  required: RTP/SAVP + a=crypto; a leg with SRTP on offers its key in force
//	peer answers ─ takeAnswer:
//	  a=crypto with an offered tag and suite ─► SRTP on
//	  none ─► plain (unless required: the call fails with 488)
//	488 to an opportunistic offer with srtp_fallback ─► the INVITE again,
//	  without a=crypto (srtpFallback); required never falls back
//	transfer: the new leg's state is the transfer's (transfer.srtp), with
//	  the target's or the replacing party's policy, and becomes the leg's
//	  at the join

// Errors of SRTP negotiation; each becomes a 488 (RFC 3261 §21.4.26).
var (
	errSRTPRequired = errors.New("srtp required but the peer's SDP has no usable a=crypto")
	errSRTPNoKeys   = errors.New("secure RTP profile without a usable a=crypto")
)

// srtpState is where a leg's SRTP negotiation stands.
type srtpState int

const (
	srtpPending srtpState = iota // no offer/answer completed yet
	srtpPlain                    // negotiated plain RTP
	srtpOn                       // SRTP in force with local/remote
)

// legSRTP is one leg's SDES state, owned by the call.
type legSRTP struct {
	policy config.SRTPPolicy
	state  srtpState
	// offered are the keys of our last offer on the leg, one per suite
	// (tags 1, 2, …); local and remote the keys in force when srtpOn.
	offered       []media.Crypto
	local, remote media.Crypto
	// fellBack is set once the leg's INVITE was re-sent in plain after a
	// 488 (srtp_fallback), so that it happens once.
	fellBack bool
	// rtc is the leg's WebRTC state (webrtc_leg.go): DTLS-SRTP instead
	// of SDES when its profile is ProfileWebRTC.
	rtc legWebRTC
}

// callSRTP is the SDES state of a call's two legs.
type callSRTP struct{ a, b legSRTP }

// srtpOf returns the SRTP state of leg l: the caller's, or the callee
// side's (any fork).
func (c *Call) srtpOf(l *Leg) *legSRTP {
	if l == c.a {
		return &c.srtp.a
	}
	return &c.srtp.b
}

// srtpPolicies takes each leg's policy from the caller (user or trunk)
// and the routed target; media.srtp fills what they leave unset.
func (c *Call) srtpPolicies(pol *policy) {
	c.srtp.a.policy, c.srtp.b.policy = identitySRTP(pol, c.caller), targetSRTP(pol, c.target)
	c.webrtcSetup(pol) // webrtc_leg.go
}

// identitySRTP is the SRTP policy of a caller identity: a user's name or
// "trunk:NAME".
func identitySRTP(pol *policy, caller string) config.SRTPPolicy {
	var p config.SRTPPolicy
	if name, ok := strings.CutPrefix(caller, "trunk:"); ok {
		p = trunkSRTP(pol.cfg, name)
	} else if u, ok := pol.users[caller]; ok {
		p = u.SRTP
	}
	return p.Effective(pol.cfg.Media.SRTP)
}

// targetSRTP is the SRTP policy of a routed target.
func targetSRTP(pol *policy, t Target) config.SRTPPolicy {
	var p config.SRTPPolicy
	switch t.Kind {
	case TargetTrunk:
		p = trunkSRTP(pol.cfg, t.Trunk.Name)
	case TargetUser:
		p = pol.users[t.Number].SRTP
	}
	return p.Effective(pol.cfg.Media.SRTP)
}

// trunkSRTP is the configured SRTP policy of the trunk called name.
func trunkSRTP(cfg *config.Config, name string) config.SRTPPolicy {
	for i := range cfg.Trunks {
		if cfg.Trunks[i].Name == name {
			return cfg.Trunks[i].SRTP
		}
	}
	return config.SRTPPolicy{}
}

// answerOffer decides how Switchboard answers the peer's offer on a leg
// (RFC 4568 §7.1.2; RFC 8643 §3 for a=crypto in RTP/AVP), installs the
// keys on the leg's endpoint and writes our one a=crypto, with the
// offer's tag and transport, into the leg's session. An error means 488.
func (st *legSRTP) answerOffer(sess *media.Session, ep *media.Endpoint, offer *media.Description) error {
	switch {
	case media.IsWebRTC(offer.Proto):
		return st.answerWebRTC(sess, ep, offer) // DTLS-SRTP (webrtc_leg.go)
	case st.rtc.profile == ProfileWebRTC:
		return errWebRTCPlain
	}
	savp := media.SecureProto(offer.Proto)
	var chosen media.Crypto
	ok := false
	if st.policy.Mode != config.SRTPOff {
		chosen, ok = media.SelectCrypto(offer.Crypto, media.Suites)
	}
	if !ok {
		switch {
		case savp:
			return fmt.Errorf("%w (%s)", errSRTPNoKeys, offer.Proto)
		case st.policy.Mode == config.SRTPRequired:
			return errSRTPRequired
		}
		st.state = srtpPlain
		sess.SetCrypto(false, nil)
		return ep.SetSRTP(nil)
	}
	local := st.local
	if st.state != srtpOn || local.Suite != chosen.Suite {
		var err error
		if local, err = media.NewCrypto(chosen.Tag, chosen.Suite); err != nil {
			return err
		}
	}
	local.Tag = chosen.Tag
	if err := ep.SetSRTP(media.SDES{Local: local, Remote: chosen}); err != nil {
		return err
	}
	st.state, st.local, st.remote = srtpOn, local, chosen
	st.offered = []media.Crypto{local}
	sess.SetCrypto(savp, st.offered)
	return nil
}

// offer writes into a leg's session what Switchboard offers it: nothing
// (off, or plain already negotiated), the keys in force (a re-offer keeps
// them, RFC 4568 §7.1.4), else a fresh key per suite; RTP/SAVP when
// required, best-effort RTP/AVP otherwise (RFC 8643).
func (st *legSRTP) offer(sess *media.Session) error {
	if st.rtc.profile == ProfileWebRTC {
		return st.offerWebRTC(sess) // webrtc_leg.go
	}
	switch {
	case st.policy.Mode == config.SRTPOff || st.state == srtpPlain:
		sess.SetCrypto(false, nil)
		return nil
	case st.state == srtpOn:
		st.offered = []media.Crypto{st.local}
	case len(st.offered) == 0:
		for i, s := range media.Suites {
			k, err := media.NewCrypto(i+1, s)
			if err != nil {
				return err
			}
			st.offered = append(st.offered, k)
		}
	}
	sess.SetCrypto(st.policy.Mode == config.SRTPRequired, st.offered)
	return nil
}

// takeAnswer applies the peer's answer to our offer on a leg: SRTP with
// the offered key whose tag and suite it names, else plain RTP, which a
// required leg refuses (the error means 488; nothing changes then).
func (st *legSRTP) takeAnswer(sess *media.Session, ep *media.Endpoint, ans *media.Description) error {
	if st.rtc.profile == ProfileWebRTC {
		return st.takeWebRTCAnswer(sess, ep, ans) // webrtc_leg.go
	}
	for _, k := range ans.Crypto {
		for _, o := range st.offered {
			if o.Tag != k.Tag || o.Suite != k.Suite {
				continue
			}
			if err := ep.SetSRTP(media.SDES{Local: o, Remote: k}); err != nil {
				return err
			}
			st.state, st.local, st.remote = srtpOn, o, k
			st.offered = []media.Crypto{o}
			sess.SetCrypto(st.policy.Mode == config.SRTPRequired || media.SecureProto(ans.Proto), st.offered)
			return nil
		}
	}
	switch {
	case len(st.offered) > 0 && st.policy.Mode == config.SRTPRequired:
		return errSRTPRequired
	case media.SecureProto(ans.Proto):
		return fmt.Errorf("%w (%s)", errSRTPNoKeys, ans.Proto)
	}
	st.state = srtpPlain
	sess.SetCrypto(false, nil)
	return ep.SetSRTP(nil)
}

// srtpFallback re-sends a fork's INVITE without a=crypto after the callee
// refused the best-effort SRTP offer with 488, when its srtp_fallback
// allows it; false when it does not apply.
func (c *Call) srtpFallback(out *outTx) bool {
	st := &c.srtp.b
	if !st.policy.Fallback || st.policy.Mode != config.SRTPOpportunistic || st.fellBack ||
		st.state != srtpPending || len(st.offered) == 0 {
		return false
	}
	st.fellBack = true
	l := out.leg
	offered := st.offered
	l.Session.SetCrypto(false, nil)
	body := l.Session.Build(l.Endpoint.Local(), out.offer, c.a.Direction, c.ptime)
	st.offered = offered // another fork may still answer the SRTP offer
	req := out.req.Clone()
	req.CSeq().SeqNo = l.nextCSeq()
	req.ReplaceHeader(c.host.newVia(l.Transport, l.Laddr))
	req.SetBody(body)
	retry := &outTx{method: sip.INVITE, leg: l, req: req, fork: true, offer: out.offer, retried: out.retried}
	if err := c.send(retry); err != nil {
		c.log.Info("srtp fallback failed", "leg", "b", "error", err)
		return false
	}
	c.log.Info("488 to best-effort SRTP: INVITE again with plain RTP", "leg", "b")
	return true
}

// recordSRTP writes each leg's media security into the record: the suite
// its endpoint protects media with, or "none".
func (c *Call) recordSRTP() {
	if c.a != nil && c.a.Endpoint != nil {
		c.rec.SRTPA = c.a.Endpoint.SRTPSuite()
	}
	if c.epB != nil {
		c.rec.SRTPB = c.epB.SRTPSuite()
	}
}
