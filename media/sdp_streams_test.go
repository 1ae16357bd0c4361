package media

import (
	"net/netip"
	"strings"
	"testing"
)

const t38Offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
	"m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n" +
	"m=image 4002 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n" +
	"m=video 4004 RTP/AVPF 96 97\r\nc=IN IP4 192.0.2.9\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:* ccm fir\r\na=rtcp-fb:96 goog-remb\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f\r\na=recvonly\r\n"

// TestParseSDPAnyMediaType: pion/sdp refuses "image"/"udptl"; ParseSDP
// still reads the audio and lists every m-line in order.
func TestParseSDPAnyMediaType(t *testing.T) {
	d, err := ParseSDP([]byte(t38Offer))
	if err != nil {
		t.Fatal(err)
	}
	if d.Index != 0 || d.Port != 4000 || len(d.Codecs) != 1 {
		t.Errorf("audio %+v", d)
	}
	if len(d.Streams) != 3 {
		t.Fatalf("%d streams, want 3", len(d.Streams))
	}
	img, vid := d.Streams[1], d.Streams[2]
	if img.Media != "image" || img.Port != 4002 || img.Proto != "udptl" || img.Formats[0] != "t38" {
		t.Errorf("image %+v", img)
	}
	if v, _ := img.Attr("T38MaxBitRate"); v != "14400" {
		t.Errorf("T38MaxBitRate %q", v)
	}
	if vid.Addr != netip.MustParseAddr("192.0.2.9") || vid.Direction() != RecvOnly || vid.RTCPAddr().Port() != 4005 {
		t.Errorf("video %+v", vid)
	}
	cs := vid.StreamCodecs()
	if len(cs) != 2 || cs[0].Name != "VP8" || cs[1].Fmtp != "profile-level-id=42e01f" {
		t.Errorf("video codecs %+v", cs)
	}
	if fb := vid.Feedback(96); strings.Join(fb, ",") != "nack pli,ccm fir,goog-remb" {
		t.Errorf("feedback %q", fb)
	}
}

// TestBuildWithStreams: the sections beside audio are written at their
// indices, the audio m-line in the one left, and a change of them bumps
// the o= version (RFC 3264 §8).
func TestBuildWithStreams(t *testing.T) {
	d, err := ParseSDP([]byte(t38Offer))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession()
	addr := netip.MustParseAddrPort("127.0.0.1:20000")
	pcmu := []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}
	s.Build(addr, pcmu, SendRecv, 0)
	v0 := s.Version()
	for name, tc := range map[string]struct {
		secs []Section
		want []string
	}{
		"audio first": {[]Section{RejectSection(d.Streams[1]), RejectSection(d.Streams[2])},
			[]string{"m=audio 20000 ", "m=image 0 udptl t38", "m=video 0 RTP/AVPF 96 97"}},
		"audio last": {[]Section{{Index: 0, Text: "m=x 0 RTP/AVP 0\r\n"}, RTPSection(1, "video", 20002, "RTP/AVP", pcmu[:0], nil, SendRecv)},
			[]string{"m=x 0 ", "m=video 0 RTP/AVP 0", "m=audio 20000 "}},
		"audio between": {[]Section{{Index: 0, Text: "m=x 0 RTP/AVP 0\r\n"}, RTPSection(2, "video", 20002, "RTP/AVP", d.Streams[2].StreamCodecs(), d.Streams[2].Feedback, RecvOnly)},
			[]string{"m=x 0 ", "m=audio 20000 ", "m=video 20002 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 goog-remb\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f\r\na=rtcp-fb:97 ccm fir\r\na=recvonly\r\na=rtcp:20003\r\n"}},
	} {
		t.Run(name, func(t *testing.T) {
			s.SetStreams(tc.secs)
			body := string(s.Build(addr, pcmu, SendRecv, 0))
			at := 0
			for _, w := range tc.want {
				i := strings.Index(body[at:], w)
				if i < 0 {
					t.Fatalf("%q not found in order in\n%s", w, body)
				}
				at += i + len(w)
			}
			if n := strings.Count(body, "\r\nm="); n != 3 {
				t.Errorf("%d m-lines, want 3:\n%s", n, body)
			}
			if _, err := ParseSDP([]byte(body)); err != nil {
				t.Errorf("our own SDP does not parse: %v\n%s", err, body)
			}
		})
	}
	if s.Version() == v0 {
		t.Error("o= version unchanged after the streams changed")
	}
	v1 := s.Version()
	s.SetStreams(nil)
	s.Build(addr, pcmu, SendOnly, 0) // streams and audio changed: one step (RFC 3264 §8)
	if s.Version() != v1+1 {
		t.Errorf("o= version %d after %d, want one more", s.Version(), v1)
	}
	s.Build(addr, pcmu, SendOnly, 0)
	if s.Version() != v1+1 {
		t.Errorf("o= version %d after an unchanged Build, want %d", s.Version(), v1+1)
	}
	s.SetStreams([]Section{T38Section(0, 20004, ParseT38(d.Streams[1]))})
	s.SetAudioless(true)
	body := string(s.Build(addr, pcmu, SendRecv, 0))
	if strings.Count(body, "\r\nm=") != 1 || !strings.Contains(body, "\r\nm=image 20004 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n") {
		t.Errorf("audioless body:\n%s", body)
	}
}

func FuzzParseStreams(f *testing.F) {
	f.Add([]byte(t38Offer))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range ParseStreams(b) {
			_ = s.StreamCodecs()
			_ = s.RTCPAddr()
			_ = T38Section(s.Index, s.Port, ParseT38(s))
		}
		_, _ = ParseSDP(b)
	})
}
