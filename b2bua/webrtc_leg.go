package b2bua

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// WebRTC legs: ICE-lite, DTLS-SRTP and the UDP/TLS/RTP/SAVPF profile
// (media/ice.go, media/dtls.go, media/sdp_webrtc.go), per leg, beside
// the SDES state of srtp_offer.go (legSRTP carries both):
//
//	peer offers UDP/TLS/RTP/SAVPF (answerOffer ─► answerWebRTC):
//	  our ICE credentials (drawn once per leg), our a=setup: active
//	  (passive when the peer is active; the established role on a
//	  re-offer), SetICE + StartDTLS on the leg's endpoint, the keys
//	  reach its SRTP contexts when the handshake completes
//	we offer to a WebRTC leg (offer ─► offerWebRTC): actpass (the
//	  established role on a re-INVITE, RFC 5763 §5), the same
//	  fingerprint and credentials; its answer (takeAnswer ─►
//	  takeWebRTCAnswer) sets the role and starts ICE and DTLS
//	consent lost (no ICE check for webrtc.consent_timeout, RFC 7675)
//	  ─► evConsentLost ─► BYE to both legs, one CDR (silent_leg)
//
// The other leg is whatever it is (RTP, SDES-SRTP or WebRTC): the bridge
// decrypts with one leg's keys and encrypts with the other's, and
// transcodes when the codecs differ (call_media.go).

// LegProfile is the media profile of one leg.
type LegProfile int

// Leg profiles.
const (
	// ProfileRTP is RTP/AVP, or RTP/SAVP with SDES keys (srtp_offer.go).
	ProfileRTP LegProfile = iota
	// ProfileWebRTC is ICE-lite, DTLS-SRTP and rtcp-mux, UDP/TLS/RTP/SAVPF.
	ProfileWebRTC
)

// legWebRTC is one leg's WebRTC state, owned by the call.
type legWebRTC struct {
	profile LegProfile
	cert    *media.DTLSCertificate
	consent time.Duration
	onLost  func()
	ice     media.ICECredentials // ours, drawn once for the leg
	role    string               // our a=setup once negotiated (active, passive), "" before
	mid     string               // the audio m-line's a=mid
}

// Errors of WebRTC negotiation; each becomes a 488.
var (
	errWebRTCAttrs = errors.New("WebRTC SDP without ice-ufrag/ice-pwd or a sha-256 a=fingerprint")
	errWebRTCSetup = errors.New("WebRTC SDP with an a=setup Switchboard cannot take")
	errWebRTCPlain = errors.New("a WebRTC leg cannot go back to plain RTP")
	errWebRTCCert  = errors.New("no DTLS certificate")
)

// calleeProfile is the media profile of the callee's leg: WebRTC for a
// user with webrtc: true.
//
// wsphone (SIP over WebSocket): return ProfileWebRTC here too for a user
// whose contacts registered over ws/wss; that is the one place the
// callee's profile is chosen. The caller's leg needs nothing: it is
// WebRTC when its offer is UDP/TLS/RTP/SAVPF.
func (c *Call) calleeProfile(pol *policy) LegProfile {
	if c.target.Kind == TargetUser && (pol.users[c.target.Number].WebRTC || c.calleeOnWebSocket()) {
		return ProfileWebRTC
	}
	return ProfileRTP
}

// webrtcSetup gives each leg what a WebRTC leg needs (certificate,
// consent timeout, the hangup on consent loss) and the callee's leg its
// profile; called with the SRTP policies (srtp_offer.go).
func (c *Call) webrtcSetup(pol *policy) {
	cert, err := dtlsCertificate(pol.cfg)
	if err != nil {
		c.log.Error("webrtc: DTLS certificate", "error", err)
	}
	for _, x := range []struct {
		st  *legSRTP
		leg string
	}{{&c.srtp.a, "a"}, {&c.srtp.b, "b"}} {
		leg := x.leg
		x.st.rtc.cert, x.st.rtc.consent = cert, pol.cfg.WebRTC.Consent()
		x.st.rtc.onLost = func() { go c.post(evConsentLost{leg: leg}) }
	}
	c.srtp.b.rtc.profile = c.calleeProfile(pol)
}

// certs caches the process's DTLS certificates by configured files ("" for
// the generated one), so a leg's fingerprint is stable (RFC 5763 §5).
var certs = struct {
	sync.Mutex
	m map[[2]string]*media.DTLSCertificate
}{m: map[[2]string]*media.DTLSCertificate{}}

// dtlsCertificate returns the configured certificate (webrtc.cert/key),
// else the process's generated one.
func dtlsCertificate(cfg *config.Config) (*media.DTLSCertificate, error) {
	cert, key := cfg.WebRTC.Files(cfg.Path)
	k := [2]string{cert, key}
	certs.Lock()
	defer certs.Unlock()
	if c := certs.m[k]; c != nil {
		return c, nil
	}
	var c *media.DTLSCertificate
	var err error
	if cert == "" {
		c, err = media.NewDTLSCertificate()
	} else {
		c, err = media.LoadDTLSCertificate(cert, key)
	}
	if err != nil {
		return nil, err
	}
	certs.m[k] = c
	return c, nil
}

// answerWebRTC answers a UDP/TLS/RTP/SAVPF offer on a leg: our role is
// active unless the peer is (RFC 5763 §5; a re-offer keeps the role in
// force), ICE-lite and DTLS start on the endpoint, and the session
// writes the WebRTC profile.
func (st *legSRTP) answerWebRTC(sess *media.Session, ep *media.Endpoint, offer *media.Description) error {
	w := offer.WebRTC
	if w == nil || w.ICE.Ufrag == "" || w.ICE.Pwd == "" || w.Fingerprint == "" {
		return errWebRTCAttrs
	}
	role, err := answerRole(w.Setup, st.rtc.role)
	if err != nil {
		return err
	}
	st.rtc.mid = w.Mid
	if err := st.startWebRTC(ep, w, role); err != nil {
		return err
	}
	sess.SetCrypto(false, nil)
	sess.SetWebRTC(st.rtc.sdp(role, w.Bundle))
	return nil
}

// offerWebRTC writes our offer to a WebRTC leg: actpass until a role is
// established, then that role (RFC 5763 §5: the association is kept).
func (st *legSRTP) offerWebRTC(sess *media.Session) error {
	if st.rtc.cert == nil {
		return errWebRTCCert
	}
	if st.rtc.ice.Ufrag == "" {
		st.rtc.ice = media.NewICECredentials()
	}
	if st.rtc.mid == "" && st.rtc.role == "" {
		st.rtc.mid = "0"
	}
	setup := st.rtc.role
	if setup == "" {
		setup = media.SetupActpass
	}
	sess.SetCrypto(false, nil)
	sess.SetWebRTC(st.rtc.sdp(setup, st.rtc.mid != ""))
	return nil
}

// takeWebRTCAnswer applies the answer to our WebRTC offer: the peer's
// role decides ours (an answer is active or passive, RFC 4145 §4).
func (st *legSRTP) takeWebRTCAnswer(sess *media.Session, ep *media.Endpoint, ans *media.Description) error {
	w := ans.WebRTC
	if w == nil || !media.IsWebRTC(ans.Proto) || w.ICE.Ufrag == "" || w.ICE.Pwd == "" || w.Fingerprint == "" {
		return errWebRTCAttrs
	}
	role, err := roleOfAnswer(w.Setup)
	if err != nil {
		return err
	}
	if err := st.startWebRTC(ep, w, role); err != nil {
		return err
	}
	sess.SetWebRTC(st.rtc.sdp(role, w.Bundle))
	return nil
}

// answerRole is our a=setup in an answer to an offer's setup: active
// unless the peer is, or the role in force (established) for a re-offer
// that leaves the choice to us (RFC 5763 §5, RFC 4145 §4).
func answerRole(offered, established string) (string, error) {
	switch offered {
	case media.SetupActive:
		return media.SetupPassive, nil
	case media.SetupPassive:
		return media.SetupActive, nil
	case "", media.SetupActpass:
		if established != "" {
			return established, nil
		}
		return media.SetupActive, nil
	}
	return "", fmt.Errorf("%w: %q", errWebRTCSetup, offered)
}

// roleOfAnswer is our role given the answer's a=setup to our offer
// (active when absent, RFC 4145 §4; actpass is not an answer).
func roleOfAnswer(answered string) (string, error) {
	switch answered {
	case media.SetupActive, "":
		return media.SetupPassive, nil
	case media.SetupPassive:
		return media.SetupActive, nil
	}
	return "", fmt.Errorf("%w: %q in an answer", errWebRTCSetup, answered)
}

// startWebRTC turns on ICE-lite and DTLS-SRTP on the leg's endpoint;
// both keep their state when nothing changed (a re-INVITE).
func (st *legSRTP) startWebRTC(ep *media.Endpoint, w *media.WebRTC, role string) error {
	if st.rtc.cert == nil {
		return errWebRTCCert
	}
	if st.rtc.ice.Ufrag == "" {
		st.rtc.ice = media.NewICECredentials()
	}
	if err := ep.SetICE(media.ICEConfig{Local: st.rtc.ice, Remote: w.ICE, Consent: st.rtc.consent, OnConsentLost: st.rtc.onLost}); err != nil {
		return err
	}
	if err := ep.StartDTLS(media.DTLSConfig{Cert: st.rtc.cert, Client: role == media.SetupActive, RemoteFingerprint: w.Fingerprint}); err != nil {
		return fmt.Errorf("%w: %w", errWebRTCAttrs, err)
	}
	st.rtc.profile, st.rtc.role, st.state = ProfileWebRTC, role, srtpOn
	st.offered = nil
	return nil
}

// sdp is the WebRTC profile the leg's session writes.
func (r *legWebRTC) sdp(setup string, bundle bool) *media.WebRTC {
	return &media.WebRTC{ICE: r.ice, Lite: true, Fingerprint: r.cert.Fingerprint(), Setup: setup, Mid: r.mid, Bundle: bundle && r.mid != ""}
}

// opusForWebRTC returns the codecs of a WebRTC offerer that offered Opus
// when the far side answered something else: Opus at 48 kHz toward the
// browser, transcoded to and from the far side's codec (G.711) by the
// processing path, on routes that transcode; false otherwise.
func (c *Call) opusForWebRTC(near *Leg, nearOffer, forNear []media.Codec) ([]media.Codec, bool) {
	a, ok := media.FirstAudio(forNear)
	if near == nil || c.srtpOf(near).rtc.profile != ProfileWebRTC || !c.target.Transcode || (ok && strings.EqualFold(a.Name, "opus")) {
		return nil, false
	}
	for _, o := range nearOffer {
		if strings.EqualFold(o.Name, "opus") && o.Clock == 48000 && media.CanTranscode(o) {
			return media.WithAuxiliary([]media.Codec{o}, nearOffer, o.Clock), true
		}
	}
	return nil, false
}

// evConsentLost is a WebRTC leg whose ICE consent expired (RFC 7675).
type evConsentLost struct{ leg string }

// onConsentLost ends the call whose WebRTC peer went away: BYE to both
// legs with Q.850 cause 102 (recovery on timer expiry), the leg named in
// the record as the silent one.
func (c *Call) onConsentLost(e evConsentLost) {
	if c.state == stateEnded {
		return
	}
	c.rec.SilentLeg = e.leg
	c.log.Info("webrtc: ICE consent expired, ending the call", "leg", e.leg)
	if c.why.hdr == "" {
		c.why = endReason{hdr: cause.Format(cause.Q850(cause.TimerExpiry)), q850: cause.TimerExpiry, side: cdr.HangupSwitchboard}
	}
	c.abort(408, "ice consent expired")
}
