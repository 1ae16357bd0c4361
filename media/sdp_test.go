package media

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdpLines joins lines with CRLF and terminates the body.
func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func TestParseSDP(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-"}
	with := func(lines ...string) []byte { return sdpLines(append(slices.Clone(head), lines...)...) }
	tests := []struct {
		name string
		body []byte
		want *Description
		err  error
	}{
		{
			name: "full, media-level c= overrides session",
			body: readSDP(t, "full.sdp"),
			want: &Description{
				Addr: netip.MustParseAddr("198.51.100.8"), Port: 49170, Proto: "RTP/AVP",
				Codecs: []Codec{
					{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1},
					{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1},
					{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-16"},
				},
				Ptime: 20, Direction: SendRecv,
				RTCP: netip.MustParseAddrPort("198.51.100.8:49171"),
			},
		},
		{
			name: "ipv6 with opus stereo",
			body: readSDP(t, "ipv6.sdp"),
			want: &Description{
				Addr: netip.MustParseAddr("2001:db8::2"), Port: 30000, Proto: "RTP/AVP",
				Codecs: []Codec{
					{PT: 9, Name: "G722", Clock: 8000, Channels: 1},
					{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1},
					{PT: 96, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"},
				},
				Ptime: 20, Direction: SendRecv,
				RTCP: netip.MustParseAddrPort("[2001:db8::2]:30001"),
			},
		},
		{
			name: "hold with 0.0.0.0 and sendonly",
			body: readSDP(t, "hold.sdp"),
			want: &Description{
				Addr: netip.IPv4Unspecified(), Port: 40000, Proto: "RTP/AVP",
				Codecs:    []Codec{{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1}},
				Direction: SendOnly, RTCP: netip.MustParseAddrPort("0.0.0.0:40001"),
			},
		},
		{
			name: "first audio line rejected, second used; session-level direction; static PTs",
			body: readSDP(t, "second-audio.sdp"),
			want: &Description{
				Addr: netip.MustParseAddr("192.0.2.1"), Port: 6000, Proto: "RTP/AVP",
				Codecs: []Codec{
					{PT: 18, Name: "G729", Clock: 8000, Channels: 1, Fmtp: "annexb=no"},
					{PT: 3, Name: "GSM", Clock: 8000, Channels: 1},
				},
				Direction: Inactive, RTCP: netip.MustParseAddrPort("192.0.2.1:6001"), Index: 2,
			},
		},
		{
			name: "media direction overrides session; rtcp port only; rtcp-mux; bad rtpmap dropped",
			body: with("c=IN IP4 192.0.2.5", "t=0 0", "a=sendonly", "m=audio 7000 RTP/AVPF 97 98 0",
				"a=rtpmap:97 iLBC/8000", "a=rtpmap:98 broken", "a=recvonly", "a=rtcp:7005", "a=rtcp-mux"),
			want: &Description{
				Addr: netip.MustParseAddr("192.0.2.5"), Port: 7000, Proto: "RTP/AVPF",
				Codecs: []Codec{
					{PT: 97, Name: "iLBC", Clock: 8000, Channels: 1},
					{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1},
				},
				Direction: RecvOnly, RTCP: netip.MustParseAddrPort("192.0.2.5:7005"), RTCPMux: true,
			},
		},
		{name: "empty", body: nil, err: ErrSDPSyntax},
		{name: "garbage", body: []byte("hello world\r\n"), err: ErrSDPSyntax},
		{name: "truncated", body: sdpLines("v=0", "o=- 1"), err: ErrSDPSyntax},
		{name: "video only", body: with("c=IN IP4 192.0.2.1", "t=0 0", "m=video 5000 RTP/AVP 31"), err: ErrNoAudio},
		{name: "no m-line", body: with("c=IN IP4 192.0.2.1", "t=0 0"), err: ErrNoAudio},
		{name: "port 0 only", body: with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 0 RTP/AVP 0"), err: ErrAudioRejected},
		{name: "no c=", body: with("t=0 0", "m=audio 5000 RTP/AVP 0"), err: ErrNoConnection},
		{name: "hostname c=", body: with("c=IN IP4 host.example.com", "t=0 0", "m=audio 5000 RTP/AVP 0"), err: ErrNoConnection},
		{name: "multicast c=", body: with("c=IN IP4 224.2.1.1/127", "t=0 0", "m=audio 5000 RTP/AVP 0"), err: ErrNoConnection},
		{name: "IP4 type with IPv6 address", body: with("c=IN IP4 ::1", "t=0 0", "m=audio 5000 RTP/AVP 0"), err: ErrNoConnection},
		{name: "not RTP", body: with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5000 TCP/BFCP 0"), err: ErrUnsupportedSDP},
		{name: "port too large", body: with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 70000 RTP/AVP 0"), err: ErrSDPSyntax},
		{name: "dynamic PT without rtpmap", body: with("c=IN IP4 192.0.2.1", "t=0 0", "m=audio 5000 RTP/AVP 96 abc"), err: ErrNoCodecs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSDP(tt.body)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrSDP) {
					t.Fatalf("err = %v, want %v (and ErrSDP)", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalDescription(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if gotHold := got.Hold(); gotHold != (tt.want.Direction == SendOnly || tt.want.Direction == Inactive || tt.want.Addr.IsUnspecified()) {
				t.Errorf("Hold() = %v", gotHold)
			}
		})
	}
}

func equalDescription(a, b *Description) bool {
	return a.Addr == b.Addr && a.Port == b.Port && a.Proto == b.Proto && slices.Equal(a.Codecs, b.Codecs) &&
		a.Ptime == b.Ptime && a.Direction == b.Direction && a.RTCP == b.RTCP && a.RTCPMux == b.RTCPMux && a.Index == b.Index
}

// TestBuildRewrite checks that a rewritten SDP carries the input's codecs
// and direction and nothing else from it.
func TestBuildRewrite(t *testing.T) {
	tests := []struct {
		file  string
		local netip.AddrPort
		dir   Direction
		leaks []string // strings of the input that must not appear in the output
	}{
		{"full.sdp", netip.MustParseAddrPort("203.0.113.50:20000"), SendRecv, []string{
			"alice", "2890844526", "2890844527", "198.51.100", "Secret", "confidential", "http", "example.com",
			"AS:128", "TIAS", "tool", "maxptime", "49170", "49171", "ssrc", "cname", "candidate", "10.0.0.5",
			"x-alice", "video", "H264", "b=", "i=", "u=", "e=",
		}},
		{"ipv6.sdp", netip.MustParseAddrPort("[2001:db8::50]:20002"), SendRecv, []string{
			"2001:db8::1", "2001:db8::2", "30000", "30001", "o=- ",
		}},
		{"hold.sdp", netip.MustParseAddrPort("203.0.113.50:20004"), SendOnly, []string{
			"bob", "203.0.113.9", "0.0.0.0", "40000",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := ParseSDP(readSDP(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s := NewSession()
			out := s.Build(tt.local, in.Codecs, in.Direction, in.Ptime)
			for _, leak := range tt.leaks {
				if strings.Contains(string(out), leak) {
					t.Errorf("output contains %q from the input:\n%s", leak, out)
				}
			}
			for _, line := range strings.SplitAfter(string(out), "\r\n") {
				if line != "" && !strings.HasSuffix(line, "\r\n") {
					t.Errorf("line %q not CRLF-terminated", line)
				}
			}
			back, err := ParseSDP(out)
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			want := &Description{
				Addr: tt.local.Addr(), Port: int(tt.local.Port()), Proto: "RTP/AVP", Codecs: in.Codecs,
				Ptime: in.Ptime, Direction: tt.dir, RTCP: netip.AddrPortFrom(tt.local.Addr(), tt.local.Port()+1),
			}
			if !equalDescription(back, want) {
				t.Errorf("reparsed %+v\nwant     %+v", back, want)
			}
			if !strings.Contains(string(out), "o=switchboard ") {
				t.Errorf("origin username missing:\n%s", out)
			}
		})
	}
}

func TestSessionVersion(t *testing.T) {
	s := NewSession()
	addr := netip.MustParseAddrPort("192.0.2.10:20000")
	pcmu := []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}
	steps := []struct {
		name  string
		addr  netip.AddrPort
		cs    []Codec
		dir   Direction
		bump  bool
		ptime int
	}{
		{"first", addr, pcmu, SendRecv, false, 20},
		{"same again", addr, pcmu, SendRecv, false, 20},
		{"hold", addr, pcmu, SendOnly, true, 20},
		{"hold again", addr, pcmu, SendOnly, false, 20},
		{"resume", addr, pcmu, SendRecv, true, 20},
		{"codec change", addr, []Codec{{PT: 8, Name: "PCMA", Clock: 8000}}, SendRecv, true, 20},
		{"ptime change", addr, []Codec{{PT: 8, Name: "PCMA", Clock: 8000}}, SendRecv, true, 30},
		{"port change", netip.MustParseAddrPort("192.0.2.10:20002"), []Codec{{PT: 8, Name: "PCMA", Clock: 8000}}, SendRecv, true, 30},
	}
	prev := s.Version()
	for _, st := range steps {
		body := s.Build(st.addr, st.cs, st.dir, st.ptime)
		if got := s.Version() - prev; (got == 1) != st.bump || got > 1 {
			t.Errorf("%s: version moved by %d, want bump=%v", st.name, got, st.bump)
		}
		prev = s.Version()
		d, err := ParseSDP(body)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if d.Direction != st.dir || d.RTP() != st.addr {
			t.Errorf("%s: parsed %+v", st.name, d)
		}
	}
	if other := NewSession(); other.ID() == s.ID() {
		t.Errorf("two sessions share id %d", s.ID())
	}
}

func TestBuildDropsUnsafeCodecs(t *testing.T) {
	s := NewSession()
	body := string(s.Build(netip.MustParseAddrPort("192.0.2.1:20000"), []Codec{
		{PT: 96, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "x=1\r\na=injected"},
		{PT: 97, Name: "bad name", Clock: 8000},
		{PT: 200, Name: "PCMU", Clock: 8000},
		{PT: 0, Name: "PCMU", Clock: 8000},
		{PT: 0, Name: "PCMA", Clock: 8000}, // duplicate PT
	}, SendRecv, 0))
	if strings.Contains(body, "injected") || strings.Contains(body, "bad name") || strings.Contains(body, "PCMA") {
		t.Errorf("unsafe codec written:\n%s", body)
	}
	d, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}; !slices.Equal(d.Codecs, want) {
		t.Errorf("codecs %+v, want %+v", d.Codecs, want)
	}
	rejected := string(s.Build(netip.MustParseAddrPort("192.0.2.1:20000"), nil, SendRecv, 0))
	if !strings.Contains(rejected, "m=audio 0 RTP/AVP 0\r\n") {
		t.Errorf("no codecs should reject the stream:\n%s", rejected)
	}
}

func TestFilterCodecs(t *testing.T) {
	offer := []Codec{
		{PT: 96, Name: "opus", Clock: 48000, Channels: 2},
		{PT: 9, Name: "G722", Clock: 8000, Channels: 1},
		{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1},
		{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1},
		{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-16"},
		{PT: 13, Name: "CN", Clock: 8000, Channels: 1},
	}
	tests := []struct {
		name    string
		allowed []string
		want    []uint8
	}{
		{"offer order kept", []string{"PCMA", "PCMU"}, []uint8{0, 8}},
		{"case-insensitive", []string{"pcmu", "OPUS"}, []uint8{96, 0}},
		{"telephone-event kept when allowed", []string{"PCMU", "telephone-event"}, []uint8{0, 101}},
		{"telephone-event dropped when not allowed", []string{"PCMU"}, []uint8{0}},
		{"clock pinned", []string{"opus/16000", "G722/8000"}, []uint8{9}},
		{"nothing allowed", nil, nil},
		{"nothing matches", []string{"AMR"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint8
			for _, c := range FilterCodecs(offer, tt.allowed) {
				got = append(got, c.PT)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got PTs %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchAnswer(t *testing.T) {
	pcmu := Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}
	tests := []struct {
		name          string
		offer, answer []Codec
		aToB, bToA    map[uint8]uint8
		other         []Codec
	}{
		{
			name:   "same PTs",
			offer:  []Codec{pcmu, {PT: 101, Name: "telephone-event", Clock: 8000, Fmtp: "0-16"}},
			answer: []Codec{pcmu, {PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-15"}},
			aToB:   map[uint8]uint8{0: 0, 101: 101}, bToA: map[uint8]uint8{0: 0, 101: 101},
			other: []Codec{pcmu, {PT: 101, Name: "telephone-event", Clock: 8000, Fmtp: "0-15"}},
		},
		{
			name:   "PTs differ per leg, answer order wins",
			offer:  []Codec{{PT: 96, Name: "opus", Clock: 48000, Channels: 2}, pcmu, {PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1}},
			answer: []Codec{{PT: 100, Name: "telephone-event", Clock: 8000, Channels: 1}, {PT: 111, Name: "OPUS", Clock: 48000, Channels: 2, Fmtp: "stereo=1"}},
			aToB:   map[uint8]uint8{101: 100, 96: 111}, bToA: map[uint8]uint8{100: 101, 111: 96},
			other: []Codec{{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1}, {PT: 96, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "stereo=1"}},
		},
		{
			name:   "clock and channels must match",
			offer:  []Codec{{PT: 96, Name: "opus", Clock: 48000, Channels: 2}, {PT: 97, Name: "telephone-event", Clock: 48000}},
			answer: []Codec{{PT: 96, Name: "opus", Clock: 48000, Channels: 1}, {PT: 97, Name: "telephone-event", Clock: 8000}, pcmu},
			aToB:   map[uint8]uint8{}, bToA: map[uint8]uint8{},
		},
		{
			name:   "duplicate answer codec mapped once",
			offer:  []Codec{pcmu},
			answer: []Codec{pcmu, {PT: 98, Name: "PCMU", Clock: 8000}},
			aToB:   map[uint8]uint8{0: 0}, bToA: map[uint8]uint8{0: 0},
			other: []Codec{pcmu},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ab, ba, other := MatchAnswer(tt.offer, tt.answer)
			if got := ptMap(ab); !mapsEqual(got, tt.aToB) {
				t.Errorf("aToB %v, want %v", got, tt.aToB)
			}
			if got := ptMap(ba); !mapsEqual(got, tt.bToA) {
				t.Errorf("bToA %v, want %v", got, tt.bToA)
			}
			if !slices.Equal(other, tt.other) {
				t.Errorf("forOtherLeg %+v, want %+v", other, tt.other)
			}
			for in, c := range ab {
				if c.Clock == 0 {
					t.Errorf("aToB[%d] has no clock", in)
				}
			}
		})
	}
}

func ptMap(m PayloadMap) map[uint8]uint8 {
	out := map[uint8]uint8{}
	for k, v := range m {
		out[k] = v.PT
	}
	return out
}

func mapsEqual(a, b map[uint8]uint8) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// FuzzParseSDP checks that ParseSDP never panics, that what it accepts is
// in range, and that a body built from it parses back to the same codecs.
func FuzzParseSDP(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sdp", "*.sdp"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 1 RTP/AVP 0 96\r\na=rtpmap:96 x/1/1\r\na=fmtp:96 \r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrSDP) {
				t.Fatalf("error %v does not wrap ErrSDP", err)
			}
			return
		}
		if d.Port < 1 || d.Port > 65535 || !d.Addr.IsValid() || len(d.Codecs) == 0 {
			t.Fatalf("accepted out-of-range description %+v", d)
		}
		for _, c := range d.Codecs {
			if c.PT > 127 || c.Clock <= 0 || c.Channels < 1 || c.Name == "" {
				t.Fatalf("bad codec %+v", c)
			}
		}
		out := NewSession().Build(netip.AddrPortFrom(d.Addr, uint16(d.Port)), d.Codecs, d.Direction, d.Ptime)
		back, err := ParseSDP(out)
		if err != nil {
			if strings.Contains(string(out), "m=audio 0 ") {
				return // every codec was unsafe to write
			}
			t.Fatalf("built body does not parse: %v\n%s", err, out)
		}
		for _, c := range back.Codecs {
			if !slices.Contains(d.Codecs, c) {
				t.Fatalf("codec %+v appeared from nowhere", c)
			}
		}
		if back.Direction != d.Direction {
			t.Fatalf("direction %v, want %v", back.Direction, d.Direction)
		}
	})
}

// TestParseSDPRTCPAttributes: a=rtcp-mux and a=rtcp-xr (RFC 5761, RFC
// 3611 §5.1) are read from the audio m-line.
func TestParseSDPRTCPAttributes(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\na=rtcp-xr:voip-metrics\r\n"
	d, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !d.RTCPMux || !d.RTCPXR {
		t.Fatalf("rtcp-mux %v, rtcp-xr %v; want both", d.RTCPMux, d.RTCPXR)
	}
	d, err = ParseSDP([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "a=rtcp-mux\r\n", ""), "a=rtcp-xr:voip-metrics\r\n", "")))
	if err != nil || d.RTCPMux || d.RTCPXR {
		t.Fatalf("without the attributes: %+v, %v", d, err)
	}
}
