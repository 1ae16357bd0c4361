package media

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// ErrSDP is wrapped by every error ParseSDP returns; the B2BUA answers 488
// Not Acceptable Here (RFC 3261 §21.4.26) to any of them.
var ErrSDP = errors.New("media: sdp")

// Reasons ParseSDP rejects a body, each wrapping ErrSDP.
var (
	ErrSDPSyntax      = fmt.Errorf("%w: syntax", ErrSDP)
	ErrNoAudio        = fmt.Errorf("%w: no audio m-line", ErrSDP)
	ErrAudioRejected  = fmt.Errorf("%w: every audio m-line has port 0", ErrSDP)
	ErrNoConnection   = fmt.Errorf("%w: no usable connection address", ErrSDP)
	ErrUnsupportedSDP = fmt.Errorf("%w: unsupported transport", ErrSDP)
	ErrNoCodecs       = fmt.Errorf("%w: no usable payload type", ErrSDP)
)

// Codec is one payload type of an m-line with its rtpmap and fmtp.
type Codec struct {
	PT       uint8
	Name     string // encoding name as written, e.g. "PCMU", "opus", "telephone-event"
	Clock    int    // RTP clock rate in Hz
	Channels int    // 1 unless the rtpmap says otherwise
	Fmtp     string // format parameters, "" if none
}

// Direction is an SDP media direction attribute (RFC 3264 §5.1).
type Direction int

// Media directions.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name, e.g. "sendrecv".
func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "sendrecv"
	}
}

// Reverse returns the direction seen from the other end: the answer to a
// sendonly offer is recvonly (RFC 3264 §6.1).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	default:
		return d
	}
}

func parseDirection(s string) (Direction, bool) {
	switch s {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return SendRecv, false
}

// Description is what Switchboard takes from a peer's SDP: the first active
// audio stream and nothing else.
type Description struct {
	Addr      netip.Addr     // connection address (media level, else session level); 0.0.0.0 means hold
	Port      int            // RTP port
	Proto     string         // transport, e.g. "RTP/AVP"
	Codecs    []Codec        // in m-line order
	Ptime     int            // a=ptime in ms, 0 if absent
	Direction Direction      // media level, else session level, else sendrecv
	RTCP      netip.AddrPort // a=rtcp (RFC 3605), else Addr and Port+1
	RTCPMux   bool           // a=rtcp-mux (RFC 5761)
	RTCPXR    bool           // a=rtcp-xr (RFC 3611 §5.1): the peer takes XR reports
	Crypto    []Crypto       // supported a=crypto attributes (RFC 4568), in order (sdp_crypto.go)
	WebRTC    *WebRTC        // ICE and DTLS-SRTP attributes (sdp_webrtc.go), nil when absent
	Index     int            // position of the audio m-line among all m-lines
	Streams   []Stream       // every m-line, in order, whatever its media (sdp_streams.go)
}

// RTP returns the address RTP should be sent to.
func (d *Description) RTP() netip.AddrPort { return netip.AddrPortFrom(d.Addr, uint16(d.Port)) }

// Hold reports whether the description puts the stream on hold: a sendonly
// or inactive direction, or the RFC 2543 0.0.0.0 connection address
// (not in a WebRTC description, where 0.0.0.0 is ICE's placeholder).
func (d *Description) Hold() bool {
	return d.Direction == SendOnly || d.Direction == Inactive || (d.Addr.IsUnspecified() && d.WebRTC == nil)
}

// staticCodec returns the audio payload types of RFC 3551 table 4, usable
// without an rtpmap.
func staticCodec(pt uint8) (Codec, bool) {
	switch pt {
	case 0:
		return Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}, true
	case 3:
		return Codec{PT: 3, Name: "GSM", Clock: 8000, Channels: 1}, true
	case 4:
		return Codec{PT: 4, Name: "G723", Clock: 8000, Channels: 1}, true
	case 5:
		return Codec{PT: 5, Name: "DVI4", Clock: 8000, Channels: 1}, true
	case 6:
		return Codec{PT: 6, Name: "DVI4", Clock: 16000, Channels: 1}, true
	case 7:
		return Codec{PT: 7, Name: "LPC", Clock: 8000, Channels: 1}, true
	case 8:
		return Codec{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1}, true
	case 9:
		return Codec{PT: 9, Name: "G722", Clock: 8000, Channels: 1}, true // RFC 3551 §4.5.2: 8000 by error, kept
	case 10:
		return Codec{PT: 10, Name: "L16", Clock: 44100, Channels: 2}, true
	case 11:
		return Codec{PT: 11, Name: "L16", Clock: 44100, Channels: 1}, true
	case 12:
		return Codec{PT: 12, Name: "QCELP", Clock: 8000, Channels: 1}, true
	case 13:
		return Codec{PT: 13, Name: "CN", Clock: 8000, Channels: 1}, true
	case 14:
		return Codec{PT: 14, Name: "MPA", Clock: 90000, Channels: 1}, true
	case 15:
		return Codec{PT: 15, Name: "G728", Clock: 8000, Channels: 1}, true
	case 16:
		return Codec{PT: 16, Name: "DVI4", Clock: 11025, Channels: 1}, true
	case 17:
		return Codec{PT: 17, Name: "DVI4", Clock: 22050, Channels: 1}, true
	case 18:
		return Codec{PT: 18, Name: "G729", Clock: 8000, Channels: 1}, true
	}
	return Codec{}, false
}

// maxSDP bounds the body ParseSDP accepts.
const maxSDP = 64 << 10

// ParseSDP parses an SDP body (RFC 4566/8866) and extracts the first audio
// m-line with a non-zero port. Errors wrap ErrSDP.
func ParseSDP(body []byte) (*Description, error) {
	if len(body) > maxSDP {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrSDPSyntax, len(body))
	}
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("v=")) {
		return nil, fmt.Errorf("%w: no v= line", ErrSDPSyntax)
	}
	var s sdp.SessionDescription
	if err := s.UnmarshalString(pionSafe(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSDPSyntax, err)
	}
	var m *sdp.MediaDescription
	index, audio := -1, 0
	for i, md := range s.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		audio++
		if md.MediaName.Port.Value != 0 {
			m, index = md, i
			break
		}
	}
	switch {
	case audio == 0:
		return nil, ErrNoAudio
	case m == nil:
		return nil, ErrAudioRejected
	}
	d := &Description{Index: index, Port: m.MediaName.Port.Value, Direction: SendRecv, Streams: ParseStreams(body)}
	if d.Port < 1 || d.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrSDPSyntax, d.Port)
	}
	d.Proto = strings.Join(m.MediaName.Protos, "/")
	if !strings.Contains(d.Proto, "RTP/") {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedSDP, d.Proto)
	}
	ci := m.ConnectionInformation
	if ci == nil {
		ci = s.ConnectionInformation
	}
	d.WebRTC = parseWebRTC(&s, m)
	addr, err := connectionAddr(ci)
	if err != nil {
		return nil, err
	}
	if d.WebRTC != nil && addr.IsUnspecified() && d.Port == 9 {
		// ICE's placeholder (RFC 8839 §4.2.1.1, port 9 "discard"): the
		// media address is a candidate's, the first UDP one until a
		// check nominates a pair.
		for _, c := range d.WebRTC.Candidates {
			if a, ok := CandidateAddr(c); ok {
				addr, d.Port = a.Addr(), int(a.Port())
				break
			}
		}
	}
	d.Addr = addr
	d.RTCP = netip.AddrPortFrom(addr, uint16(min(d.Port+1, 65535)))

	if v, ok := attr(s.Attributes, m.Attributes, "sendrecv", "sendonly", "recvonly", "inactive"); ok {
		d.Direction, _ = parseDirection(v)
	}
	if v, ok := m.Attribute("ptime"); ok {
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p > 0 && p <= 1000 {
			d.Ptime = p
		}
	}
	if v, ok := m.Attribute("rtcp"); ok {
		if rtcp, ok := parseRTCPAttr(v, addr); ok {
			d.RTCP = rtcp
		}
	}
	_, d.RTCPMux = m.Attribute("rtcp-mux")
	_, d.RTCPXR = m.Attribute("rtcp-xr")
	d.Crypto = cryptoList(m)
	d.Codecs = codecList(m)
	if len(d.Codecs) == 0 {
		return nil, fmt.Errorf("%w in m=%s", ErrNoCodecs, m.MediaName.String())
	}
	return d, nil
}

// attr returns the first of keys present at media level, else at session
// level (RFC 4566 §6: media-level attributes override session-level ones).
func attr(session, media []sdp.Attribute, keys ...string) (string, bool) {
	for _, list := range [][]sdp.Attribute{media, session} {
		for _, a := range list {
			for _, k := range keys {
				if a.Key == k {
					return k, true
				}
			}
		}
	}
	return "", false
}

// connectionAddr extracts a unicast IP address from a c= line.
func connectionAddr(ci *sdp.ConnectionInformation) (netip.Addr, error) {
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, ErrNoConnection
	}
	if ci.NetworkType != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: network type %q", ErrNoConnection, ci.NetworkType)
	}
	a, err := netip.ParseAddr(ci.Address.Address)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: address %q", ErrNoConnection, ci.Address.Address)
	}
	switch {
	case ci.AddressType == "IP4" && !a.Is4(), ci.AddressType == "IP6" && !a.Is6():
		return netip.Addr{}, fmt.Errorf("%w: %s address %s", ErrNoConnection, ci.AddressType, a)
	case ci.AddressType != "IP4" && ci.AddressType != "IP6":
		return netip.Addr{}, fmt.Errorf("%w: address type %q", ErrNoConnection, ci.AddressType)
	case a.IsMulticast():
		return netip.Addr{}, fmt.Errorf("%w: multicast %s", ErrNoConnection, a)
	}
	return a, nil
}

// parseRTCPAttr parses "port [IN IP4|IP6 addr]" (RFC 3605 §2.1).
func parseRTCPAttr(v string, def netip.Addr) (netip.AddrPort, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, false
	}
	addr := def
	if len(f) == 4 && f[1] == "IN" {
		if a, err := netip.ParseAddr(f[3]); err == nil && a.Zone() == "" {
			addr = a
		}
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// codecs lists the m-line's payload types with their rtpmap and fmtp.
// Formats that are not numbers below 128, and dynamic PTs without a valid
// rtpmap, are left out.
func codecList(m *sdp.MediaDescription) []Codec {
	kvs := make([][2]string, 0, len(m.Attributes))
	for _, a := range m.Attributes {
		kvs = append(kvs, [2]string{a.Key, a.Value})
	}
	return buildCodecs(m.MediaName.Formats, kvs, staticCodec)
}

// buildCodecs lists the payload types of formats, in order, named by the
// rtpmap attributes among kvs (key, value) or else by static, with the
// fmtp of each. The first rtpmap and fmtp of a PT count; formats that
// are not numbers below 128, repeated, or unnamed are left out.
func buildCodecs(formats []string, kvs [][2]string, static func(uint8) (Codec, bool)) []Codec {
	maps := map[uint8]Codec{}
	fmtps := map[uint8]string{}
	for _, a := range kvs {
		switch a[0] {
		case "rtpmap":
			if c, ok := parseRtpmap(a[1]); ok {
				if _, dup := maps[c.PT]; !dup {
					maps[c.PT] = c
				}
			}
		case "fmtp":
			pt, rest, ok := strings.Cut(strings.TrimSpace(a[1]), " ")
			if n, err := strconv.ParseUint(pt, 10, 7); ok && err == nil {
				if _, dup := fmtps[uint8(n)]; !dup {
					fmtps[uint8(n)] = strings.TrimSpace(rest)
				}
			}
		}
	}
	var out []Codec
	seen := map[uint8]bool{}
	for _, f := range formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil || seen[uint8(n)] {
			continue
		}
		pt := uint8(n)
		c, ok := maps[pt]
		if !ok {
			c, ok = static(pt)
		}
		if !ok {
			continue
		}
		seen[pt] = true
		c.Fmtp = fmtps[pt]
		out = append(out, c)
	}
	return out
}

// parseRtpmap parses "<pt> <name>/<clock>[/<channels>]" (RFC 4566 §6).
func parseRtpmap(v string) (Codec, bool) {
	pt, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Codec{}, false
	}
	n, err := strconv.ParseUint(pt, 10, 7)
	if err != nil {
		return Codec{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || !validToken(parts[0]) {
		return Codec{}, false
	}
	clock, err := strconv.Atoi(parts[1])
	if err != nil || clock <= 0 || clock > 1_000_000 {
		return Codec{}, false
	}
	c := Codec{PT: uint8(n), Name: parts[0], Clock: clock, Channels: 1}
	if len(parts) == 3 {
		ch, err := strconv.Atoi(parts[2])
		if err != nil || ch < 1 || ch > 255 {
			return Codec{}, false
		}
		c.Channels = ch
	}
	return c, true
}

// validToken reports whether s is a non-empty encoding name of visible
// ASCII without '/' (RFC 4566 §9 token characters, loosely).
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}
