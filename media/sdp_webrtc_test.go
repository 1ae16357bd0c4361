package media

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSDPWebRTCBuildParse(t *testing.T) {
	s := NewSession()
	w := &WebRTC{ICE: NewICECredentials(), Lite: true, Fingerprint: "sha-256 " + Fingerprint([]byte("x")),
		Setup: SetupActpass, Mid: "0", Bundle: true}
	s.SetWebRTC(w)
	addr := netip.MustParseAddrPort("192.0.2.1:20000")
	body := string(s.Build(addr, []Codec{{PT: 111, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"}, {PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}, SendRecv, 20))
	for _, want := range []string{"m=audio 20000 UDP/TLS/RTP/SAVPF 111 0\r\n", "a=ice-lite\r\n", "a=group:BUNDLE 0\r\n",
		"a=mid:0\r\n", "a=ice-ufrag:" + w.ICE.Ufrag + "\r\n", "a=ice-pwd:" + w.ICE.Pwd + "\r\n", "a=fingerprint:" + w.Fingerprint + "\r\n",
		"a=setup:actpass\r\n", "a=candidate:1 1 udp 2130706431 192.0.2.1 20000 typ host\r\n", "a=end-of-candidates\r\n", "a=rtcp-mux\r\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("SDP lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "a=rtcp:") || strings.Contains(body, "a=crypto") {
		t.Errorf("WebRTC SDP with a=rtcp or a=crypto:\n%s", body)
	}
	d, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	g := d.WebRTC
	if g == nil || !IsWebRTC(d.Proto) || !d.RTCPMux || g.ICE != w.ICE || !g.Lite || g.Fingerprint != w.Fingerprint ||
		g.Setup != SetupActpass || g.Mid != "0" || !g.Bundle || len(g.Candidates) != 1 {
		t.Fatalf("parsed %+v from\n%s", g, body)
	}
	v := s.Version()
	s.Build(addr, []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}, SendRecv, 20)
	s.SetWebRTC(nil)
	plain := string(s.Build(addr, []Codec{{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}, SendRecv, 20))
	if s.Version() <= v || strings.Contains(plain, "ice-") || !strings.Contains(plain, "RTP/AVP") {
		t.Fatalf("plain after WebRTC (version %d → %d):\n%s", v, s.Version(), plain)
	}
}

// A browser's offer: c=0.0.0.0 and port 9 until candidates say where (RFC 8839 §4.2.1.1).
func TestSDPWebRTCBrowserOffer(t *testing.T) {
	body := "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
		"a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0\r\n" +
		"a=candidate:1467250027 2 udp 2122260222 192.168.0.196 56280 typ host generation 0\r\n" +
		"a=ice-ufrag:pKWV\r\na=ice-pwd:bGmwKEsGdcyq1ni2RMYPNRPp\r\na=ice-options:trickle\r\n" +
		"a=fingerprint:sha-256 3B:6A:47:7E:3C:2B:0B:7F:2E:32:5E:5C:58:6F:C7:73:6E:5A:DB:A2:93:B5:3E:6A:C6:A9:9C:51:85:1A:50:A5\r\n" +
		"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n" +
		"a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:126 telephone-event/8000\r\n"
	d, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d.RTP() != netip.MustParseAddrPort("192.168.0.196:46243") || d.Hold() {
		t.Fatalf("media address %v hold %v", d.RTP(), d.Hold())
	}
	if d.WebRTC == nil || d.WebRTC.ICE.Ufrag != "pKWV" || d.WebRTC.Setup != SetupActpass || !d.WebRTC.Bundle || len(d.WebRTC.Candidates) != 2 {
		t.Fatalf("webrtc %+v", d.WebRTC)
	}
	if _, ok := CandidateAddr(d.WebRTC.Candidates[1]); ok {
		t.Fatal("RTCP component taken as the RTP candidate")
	}
}
