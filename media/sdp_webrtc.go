package media

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// The WebRTC SDP profile of a leg (RFC 8829 §5, RFC 8839, RFC 8842,
// RFC 8843): the m-line's transport is UDP/TLS/RTP/SAVPF; the session
// says a=ice-lite and a=group:BUNDLE with the one audio mid; the m-line
// carries a=mid, a=ice-ufrag, a=ice-pwd, a=fingerprint, a=setup, the
// complete host candidate list (no trickle: a=end-of-candidates,
// RFC 8840) and a=rtcp-mux (RFC 5761, which browsers require). RTCP
// feedback stays minimal: Switchboard writes no a=rtcp-fb (it implements
// none of NACK, PLI or transport-cc for audio), which is valid (RFC 4585
// §4.2: feedback is optional), and ignores the peer's.

// ProtoWebRTC is the transport of a WebRTC m-line (RFC 5764 §8, RFC 5124).
const ProtoWebRTC = "UDP/TLS/RTP/SAVPF"

// IsWebRTC reports whether an m-line transport is the DTLS-SRTP one a
// WebRTC peer offers (UDP/TLS/RTP/SAVPF, or its TCP/ and SAVP forms).
func IsWebRTC(proto string) bool { return strings.Contains(proto, "TLS/RTP/SAVP") }

// Setup roles (RFC 4145 §4, RFC 5763 §5).
const (
	SetupActpass = "actpass" // our offers: the answerer chooses
	SetupActive  = "active"  // our answers: Switchboard is the DTLS client
	SetupPassive = "passive"
)

// WebRTC is what a WebRTC leg's SDP carries beyond RTP: written by
// Session.Build when set (Session.SetWebRTC), read into
// Description.WebRTC by ParseSDP.
type WebRTC struct {
	ICE         ICECredentials // a=ice-ufrag, a=ice-pwd (media, else session level)
	Lite        bool           // a=ice-lite (session level)
	Fingerprint string         // a=fingerprint, "sha-256 AB:…" (media, else session level)
	Setup       string         // a=setup, "actpass", "active" or "passive" (default actpass in an offer, RFC 4145 §4)
	Mid         string         // a=mid of the audio m-line, "" if none
	Bundle      bool           // a=group:BUNDLE names Mid
	// Candidates are the host candidates Switchboard writes (Build) or
	// the a=candidate values the peer sent (ParseSDP).
	Candidates []string
}

// HostCandidate returns the a=candidate value of a host candidate for
// the RTP component at addr (RFC 8839 §5.1; priority per RFC 8445
// §5.1.2.1 with type preference 126 and local preference 65535).
func HostCandidate(foundation int, addr netip.AddrPort) string {
	const prio = 126<<24 | 65535<<8 | (256 - 1)
	return strconv.Itoa(foundation) + " 1 udp " + strconv.Itoa(prio) + " " + addr.Addr().Unmap().String() + " " +
		strconv.Itoa(int(addr.Port())) + " typ host"
}

// SetWebRTC makes the session's next Builds write the WebRTC profile with
// w (nil: back to RTP/AVP or RTP/SAVP). A nil w.Candidates writes one
// host candidate at the build address.
func (s *Session) SetWebRTC(w *WebRTC) {
	if w == nil {
		s.webrtc = nil
		return
	}
	c := *w
	c.Candidates = append([]string(nil), w.Candidates...)
	s.webrtc = &c
}

// WebRTC returns the profile the session writes, nil for plain RTP/SRTP.
func (s *Session) WebRTC() *WebRTC { return s.webrtc }

func (w *WebRTC) equal(o *WebRTC) bool {
	if w == nil || o == nil {
		return w == o
	}
	return w.ICE == o.ICE && w.Lite == o.Lite && w.Fingerprint == o.Fingerprint && w.Setup == o.Setup &&
		w.Mid == o.Mid && w.Bundle == o.Bundle && strings.Join(w.Candidates, "\n") == strings.Join(o.Candidates, "\n")
}

// sessionAttributes are the session-level attributes of the profile.
func (w *WebRTC) sessionAttributes() []sdp.Attribute {
	var attrs []sdp.Attribute
	if w.Lite {
		attrs = append(attrs, sdp.NewPropertyAttribute("ice-lite"))
	}
	if w.Bundle && w.Mid != "" {
		attrs = append(attrs, sdp.NewAttribute("group", "BUNDLE "+w.Mid))
	}
	return attrs
}

// mediaAttributes appends the m-line attributes of the profile for the
// RTP address addr.
func (w *WebRTC) mediaAttributes(attrs []sdp.Attribute, addr netip.AddrPort) []sdp.Attribute {
	if w.Mid != "" {
		attrs = append(attrs, sdp.NewAttribute("mid", w.Mid))
	}
	attrs = append(attrs,
		sdp.NewAttribute("ice-ufrag", w.ICE.Ufrag),
		sdp.NewAttribute("ice-pwd", w.ICE.Pwd),
		sdp.NewAttribute("fingerprint", w.Fingerprint),
		sdp.NewAttribute("setup", w.Setup))
	cands := w.Candidates
	if len(cands) == 0 {
		cands = []string{HostCandidate(1, addr)}
	}
	for _, c := range cands {
		attrs = append(attrs, sdp.NewAttribute("candidate", c))
	}
	attrs = append(attrs, sdp.NewPropertyAttribute("end-of-candidates"), sdp.NewPropertyAttribute("rtcp-mux"))
	return attrs
}

// parseWebRTC reads the profile's attributes of an audio m-line, nil
// when it has neither ICE credentials nor a fingerprint.
func parseWebRTC(s *sdp.SessionDescription, m *sdp.MediaDescription) *WebRTC {
	get := func(key string) string {
		if v, ok := m.Attribute(key); ok {
			return strings.TrimSpace(v)
		}
		if v, ok := s.Attribute(key); ok {
			return strings.TrimSpace(v)
		}
		return ""
	}
	w := &WebRTC{
		ICE:         ICECredentials{Ufrag: get("ice-ufrag"), Pwd: get("ice-pwd")},
		Fingerprint: get("fingerprint"),
		Setup:       strings.ToLower(get("setup")),
	}
	if w.ICE.Ufrag == "" && w.Fingerprint == "" {
		return nil
	}
	_, w.Lite = s.Attribute("ice-lite")
	if v, ok := m.Attribute("mid"); ok {
		w.Mid = strings.TrimSpace(v)
	}
	for _, a := range s.Attributes {
		if a.Key != "group" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) > 1 && f[0] == "BUNDLE" {
			for _, id := range f[1:] {
				if id == w.Mid && w.Mid != "" {
					w.Bundle = true
				}
			}
		}
	}
	for _, a := range m.Attributes {
		if a.Key == "candidate" {
			w.Candidates = append(w.Candidates, strings.TrimSpace(a.Value))
		}
	}
	return w
}

// CandidateAddr returns the address of an a=candidate value of the RTP
// component over UDP (RFC 8839 §5.1), false for another component or
// transport, or an mDNS (.local) address Switchboard cannot resolve.
func CandidateAddr(c string) (netip.AddrPort, bool) {
	f := strings.Fields(c)
	if len(f) < 8 || f[1] != "1" || !strings.EqualFold(f[2], "udp") {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddr(f[4])
	port, perr := strconv.ParseUint(f[5], 10, 16)
	if err != nil || perr != nil || port == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}
