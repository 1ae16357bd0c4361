package media

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Every m-line of an SDP body, whatever its media type (RFC 4566 §5.14).
// pion/sdp refuses media types and transports outside its list ("image",
// "udptl": "sdp: invalid value `image`"), so ParseSDP hands it the body
// with such m-lines rewritten to a neutral "application … UDP" form
// (pionSafe), which keeps the m-line count and every index; the streams
// themselves are read here from the original text (ParseStreams), which
// needs no more than the m=, c= and a= lines of each section.

// Stream is one m-line of an SDP body as its peer wrote it.
type Stream struct {
	// Index is the m-line's position, from 0 (RFC 3264 §6: the answer's
	// i-th m-line answers the offer's i-th).
	Index int
	// Media is the media type: "audio", "video", "image", "application", …
	Media string
	// Port is the m-line's port; 0 means refused or removed (RFC 3264 §6, §8.2).
	Port int
	// Proto is the transport, e.g. "RTP/AVP", "udptl".
	Proto string
	// Formats is the format list as written.
	Formats []string
	// Addr is the connection address (media level, else session level);
	// invalid when there is none.
	Addr netip.Addr
	// Attrs are the section's a= lines without "a=", in order.
	Attrs []string
}

// RTP returns the address the stream's media should be sent to.
func (s *Stream) RTP() netip.AddrPort { return netip.AddrPortFrom(s.Addr, uint16(s.Port)) }

// Attr returns the value of the first a=key[:value] of the stream.
func (s *Stream) Attr(key string) (string, bool) {
	for _, a := range s.Attrs {
		k, v, _ := strings.Cut(a, ":")
		if k == key {
			return v, true
		}
	}
	return "", false
}

// Direction returns the stream's media-level direction, sendrecv when it
// has none.
func (s *Stream) Direction() Direction {
	for _, a := range s.Attrs {
		if d, ok := parseDirection(a); ok {
			return d
		}
	}
	return SendRecv
}

// pionTypes and pionProtos are what pion/sdp's Unmarshal accepts.
var (
	pionTypes  = []string{"audio", "video", "text", "application", "message"}
	pionProtos = []string{"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC"}
)

// pionSafe returns body with every m-line whose media type or transport
// pion/sdp refuses rewritten as "m=application <port> UDP <formats>", or
// body itself when there is none. The audio m-lines, which are all
// ParseSDP reads through pion, are untouched.
func pionSafe(body []byte) string {
	var b strings.Builder
	changed := false
	for line := range bytes.Lines(body) {
		if bytes.HasPrefix(line, []byte("m=")) {
			f := strings.Fields(string(line[2:]))
			if len(f) >= 3 && !pionAccepts(f[0], f[2]) {
				changed = true
				b.WriteString("m=application " + f[1] + " UDP " + strings.Join(f[3:], " ") + "\r\n")
				continue
			}
		}
		b.Write(line)
	}
	if !changed {
		return string(body)
	}
	return b.String()
}

func pionAccepts(media, proto string) bool {
	if !slices.Contains(pionTypes, media) {
		return false
	}
	for p := range strings.SplitSeq(proto, "/") {
		if !slices.Contains(pionProtos, p) {
			return false
		}
	}
	return true
}

// ParseStreams lists every m-line of an SDP body in order. Lines it
// cannot read are skipped: ParseSDP has judged the body's syntax.
func ParseStreams(body []byte) []Stream {
	var out []Stream
	var session netip.Addr
	for raw := range bytes.Lines(body) {
		line := strings.TrimRight(string(raw), "\r\n")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'm':
			f := strings.Fields(v)
			if len(f) < 3 {
				continue
			}
			port, _ := strconv.Atoi(strings.Split(f[1], "/")[0])
			out = append(out, Stream{Index: len(out), Media: f[0], Port: port, Proto: f[2],
				Formats: slices.Clone(f[3:]), Addr: session})
		case 'c':
			f := strings.Fields(v)
			if len(f) != 3 {
				continue
			}
			a, err := netip.ParseAddr(strings.Split(f[2], "/")[0])
			if err != nil {
				continue
			}
			if len(out) == 0 {
				session = a
			} else {
				out[len(out)-1].Addr = a
			}
		case 'a':
			if len(out) > 0 {
				s := &out[len(out)-1]
				s.Attrs = append(s.Attrs, v)
			}
		}
	}
	return out
}

// Section is an m-line section Switchboard writes beside the audio one
// (Session.SetStreams): the m= line and what follows it, as SDP text.
type Section struct {
	// Index is the m-line's position in the body.
	Index int
	// Text is the section, each line ending in CRLF.
	Text string
}

// RejectSection writes the answer (or the mirrored offer) that refuses s:
// the same media type, transport and format list with port 0 (RFC 3264
// §6: "the port … MUST be zero … the format list is ignored" but must
// still be well formed, so s's own is kept).
func RejectSection(s Stream) Section {
	formats := s.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return Section{Index: s.Index, Text: "m=" + s.Media + " 0 " + s.Proto + " " + strings.Join(formats, " ") + "\r\n"}
}

// SetStreams makes the session's next Builds write, beside the audio
// m-line, the given sections at their indices (an answer keeps the
// offer's m-line count and order, RFC 3264 §6; a new offer keeps the
// previous one's, §8). The audio m-line takes the one index no section
// has. None (nil) writes the audio m-line alone.
func (s *Session) SetStreams(sections []Section) {
	s.streams = slices.Clone(sections)
	slices.SortFunc(s.streams, func(x, y Section) int { return x.Index - y.Index })
}

// Streams returns the sections SetStreams set.
func (s *Session) Streams() []Section { return slices.Clone(s.streams) }

// spliceStreams inserts the session's sections into body, an SDP with
// one m-line written by Build.
func (s *Session) spliceStreams(body []byte) []byte {
	if len(s.streams) == 0 {
		return body
	}
	i := bytes.Index(body, []byte("\r\nm="))
	if i < 0 {
		return body
	}
	head, audio := body[:i+2], body[i+2:]
	if s.audioless {
		audio = nil
	}
	out := make([]byte, 0, len(body)+256*len(s.streams))
	out = append(out, head...)
	n, placed := 0, false
	for _, sec := range s.streams {
		for !placed && n < sec.Index {
			out, placed, n = append(out, audio...), true, n+1
		}
		out = append(out, sec.Text...)
		n++
	}
	if !placed {
		out = append(out, audio...)
	}
	return out
}

// bumpStreams counts a change of the sections (or of audioless) since the
// last Build as a change of the session's SDP: the o= version goes up
// by one (RFC 3264 §8), and Build's own comparison of the audio is
// skipped this once so that a change of both still counts once.
func (s *Session) bumpStreams() {
	text := sectionsText(s.streams, s.audioless)
	if s.built && text != s.lastStreams {
		s.version++
		s.built = false // Build sets it again after its own comparison
	}
	s.lastStreams = text
}

func sectionsText(ss []Section, audioless bool) string {
	var b strings.Builder
	if audioless {
		b.WriteString("audioless")
	}
	for _, s := range ss {
		b.WriteString(strconv.Itoa(s.Index))
		b.WriteString(s.Text)
	}
	return b.String()
}

// videoStatic are the video payload types of RFC 3551 table 5, usable
// without an rtpmap.
var videoStatic = map[uint8]Codec{
	26: {PT: 26, Name: "JPEG", Clock: 90000, Channels: 1},
	31: {PT: 31, Name: "H261", Clock: 90000, Channels: 1},
	32: {PT: 32, Name: "MPV", Clock: 90000, Channels: 1},
	34: {PT: 34, Name: "H263", Clock: 90000, Channels: 1},
}

// StreamCodecs lists an RTP stream's payload types with their rtpmap and
// fmtp, in m-line order (for video: a=rtpmap, else RFC 3551 table 5).
func (s *Stream) StreamCodecs() []Codec {
	kvs := make([][2]string, 0, len(s.Attrs))
	for _, a := range s.Attrs {
		k, v, _ := strings.Cut(a, ":")
		kvs = append(kvs, [2]string{k, v})
	}
	return buildCodecs(s.Formats, kvs, func(pt uint8) (Codec, bool) {
		c, ok := videoStatic[pt]
		return c, ok
	})
}

// Feedback lists the stream's a=rtcp-fb values (RFC 4585 §4.2) that
// Switchboard carries between the legs of a relayed stream: nack,
// nack pli, ccm fir and goog-remb, for the payload type pt or "*".
func (s *Stream) Feedback(pt uint8) []string {
	var out []string
	p := strconv.Itoa(int(pt))
	for _, a := range s.Attrs {
		v, ok := strings.CutPrefix(a, "rtcp-fb:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 2 || (f[0] != p && f[0] != "*") {
			continue
		}
		if fb := strings.Join(f[1:], " "); fb == "nack" || fb == "nack pli" || fb == "ccm fir" || fb == "goog-remb" {
			if !slices.Contains(out, fb) {
				out = append(out, fb)
			}
		}
	}
	return out
}

// RTPSection writes an RTP m-line section of media type kind at port
// with codecs (their rtpmap, fmtp and the feedback fb(pt) gives), the
// direction and a=rtcp (RFC 3605). The connection address is the
// session-level one of the body it goes into (Build's). With no codec
// it is written as refused.
func RTPSection(index int, kind string, port int, proto string, codecs []Codec, fb func(pt uint8) []string, dir Direction) Section {
	if len(codecs) == 0 || port == 0 {
		return Section{Index: index, Text: "m=" + kind + " 0 " + proto + " 0\r\n"}
	}
	var b strings.Builder
	b.WriteString("m=" + kind + " " + strconv.Itoa(port) + " " + proto)
	for _, c := range codecs {
		b.WriteString(" " + strconv.Itoa(int(c.PT)))
	}
	b.WriteString("\r\n")
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PT))
		b.WriteString("a=rtpmap:" + pt + " " + c.Name + "/" + strconv.Itoa(c.Clock))
		if c.Channels > 1 {
			b.WriteString("/" + strconv.Itoa(c.Channels))
		}
		b.WriteString("\r\n")
		if c.Fmtp != "" && validFmtp(c.Fmtp) {
			b.WriteString("a=fmtp:" + pt + " " + c.Fmtp + "\r\n")
		}
		if fb != nil {
			for _, f := range fb(c.PT) {
				b.WriteString("a=rtcp-fb:" + pt + " " + f + "\r\n")
			}
		}
	}
	b.WriteString("a=" + dir.String() + "\r\n")
	b.WriteString("a=rtcp:" + strconv.Itoa(port+1) + "\r\n")
	return Section{Index: index, Text: b.String()}
}

// RTCPAddr returns where the stream's RTCP goes: a=rtcp (RFC 3605), else
// the RTP port + 1 (RFC 3550 §11).
func (s *Stream) RTCPAddr() netip.AddrPort {
	if v, ok := s.Attr("rtcp"); ok {
		if a, ok := parseRTCPAttr(v, s.Addr); ok {
			return a
		}
	}
	return netip.AddrPortFrom(s.Addr, uint16(min(s.Port+1, 65535)))
}
