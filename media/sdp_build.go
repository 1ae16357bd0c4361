package media

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Session is the SDP origin of one call leg: a random session id and a
// version that grows each time the leg's SDP content changes (RFC 3264 §8).
// It is owned by the call goroutine and is not safe for concurrent use.
type Session struct {
	// streams are the m-lines written beside the audio one, lastStreams
	// their text at the last Build, audioless that Builds write them
	// alone (sdp_streams.go, sdp_t38.go).
	streams     []Section
	lastStreams string
	audioless   bool

	id      uint64
	version uint64
	built   bool
	last    buildInput
	sec     security // RTP/SAVP and a=crypto of the leg (sdp_srtp.go)
	webrtc  *WebRTC  // the WebRTC profile of the leg, nil for RTP/SRTP (sdp_webrtc.go)
}

type buildInput struct {
	addr   netip.AddrPort
	codecs []Codec
	dir    Direction
	ptime  int
	sec    security
	webrtc *WebRTC
}

// sdpUsername is the o= username of every SDP Switchboard writes.
const sdpUsername = "switchboard"

// NewSession returns a Session with a random id (RFC 4566 §5.2).
func NewSession() *Session {
	id := rand.Uint64N(1 << 62) // fits a signed 64-bit integer for picky parsers
	return &Session{id: id, version: id}
}

// ID returns the o= session id.
func (s *Session) ID() uint64 { return s.id }

// Version returns the o= session version of the last Build.
func (s *Session) Version() uint64 { return s.version }

// Build writes a complete SDP body for one audio stream at addr: v, o, s, c,
// t, m, then per codec a=rtpmap and a=fmtp, a=ptime (when ptime > 0), the
// direction and a=rtcp (RFC 3605). Only codecs and dir come from the other
// leg; codecs with an unusable name, clock or fmtp are left out. With no
// usable codec the stream is written as rejected (port 0, RFC 3264 §6).
// The o= version is incremented when the content differs from the previous
// Build.
func (s *Session) Build(addr netip.AddrPort, codecs []Codec, dir Direction, ptime int) []byte {
	s.bumpStreams() // sdp_streams.go
	cs := make([]Codec, 0, len(codecs))
	for _, c := range codecs {
		if c.PT > 127 || !validToken(c.Name) || c.Clock <= 0 || !validFmtp(c.Fmtp) ||
			slices.ContainsFunc(cs, func(o Codec) bool { return o.PT == c.PT }) {
			continue
		}
		cs = append(cs, c)
	}
	in := buildInput{addr: addr, codecs: cs, dir: dir, ptime: ptime, sec: s.sec, webrtc: s.webrtc}
	if s.built && !in.equal(&s.last) {
		s.version++
	}
	s.built, s.last = true, in

	ip := addr.Addr().Unmap()
	addrType := "IP4"
	if ip.Is6() {
		addrType = "IP6"
	}
	port := int(addr.Port())
	formats := make([]string, 0, len(cs))
	var attrs []sdp.Attribute
	for _, c := range cs {
		pt := strconv.Itoa(int(c.PT))
		formats = append(formats, pt)
		enc := c.Name + "/" + strconv.Itoa(c.Clock)
		if c.Channels > 1 {
			enc += "/" + strconv.Itoa(c.Channels)
		}
		attrs = append(attrs, sdp.NewAttribute("rtpmap", pt+" "+enc))
		if c.Fmtp != "" {
			attrs = append(attrs, sdp.NewAttribute("fmtp", pt+" "+c.Fmtp))
		}
	}
	if len(cs) == 0 {
		port, formats = 0, []string{"0"}
	}
	if ptime > 0 {
		attrs = append(attrs, sdp.NewAttribute("ptime", strconv.Itoa(ptime)))
	}
	attrs = append(attrs, sdp.NewPropertyAttribute(dir.String()))
	protos := s.sec.protos()
	var sessAttrs []sdp.Attribute
	switch {
	case s.webrtc != nil: // ICE, DTLS-SRTP, rtcp-mux (sdp_webrtc.go)
		protos = strings.Split(ProtoWebRTC, "/")
		sessAttrs = s.webrtc.sessionAttributes()
		if port != 0 {
			attrs = s.webrtc.mediaAttributes(attrs, addr)
		}
	case port != 0:
		attrs = s.sec.attributes(attrs) // a=crypto (sdp_srtp.go)
		attrs = append(attrs, sdp.NewAttribute("rtcp", strconv.Itoa(port+1)))
	}
	d := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: sdpUsername, SessionID: s.id, SessionVersion: s.version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String(),
		},
		SessionName: sdpUsername,
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
		Attributes:       sessAttrs,
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{
				Media: "audio", Port: sdp.RangedPort{Value: port},
				Protos: protos, Formats: formats,
			},
			Attributes: attrs,
		}},
	}
	body, _ := d.Marshal() // Marshal never fails
	return s.spliceStreams(body)
}

func (b *buildInput) equal(o *buildInput) bool {
	return b.addr == o.addr && b.dir == o.dir && b.ptime == o.ptime && slices.Equal(b.codecs, o.codecs) &&
		b.sec.equal(o.sec) && b.webrtc.equal(o.webrtc)
}

// validFmtp reports whether an fmtp value can be written on one SDP line.
func validFmtp(s string) bool {
	if len(s) > 512 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
