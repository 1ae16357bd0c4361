package test

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// capture is a tcpdump of the loopback interface, written to a pcap file
// that readPcapUDP reads.
type capture struct {
	path string
	cmd  *exec.Cmd
}

// startCapture starts tcpdump on lo with a BPF filter and waits until it
// listens; the test's cleanup stops it.
func startCapture(t *testing.T, filter string) *capture {
	t.Helper()
	bin := requireTool(t, "tcpdump")
	c := &capture{path: filepath.Join(t.TempDir(), "lo.pcap")}
	c.cmd = exec.Command(bin, "-i", "lo", "-U", "-n", "-s", "0", "-w", c.path, filter)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("tcpdump did not start listening")
	}
	return c
}

func (c *capture) stop() {
	if c.cmd.Process != nil && c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		_ = c.cmd.Wait()
	}
}

// Frames stops the capture and returns its UDP frames.
func (c *capture) Frames(t *testing.T) []hepFrame {
	c.stop()
	return readPcapUDP(t, c.path)
}

// sdpOf is what the tests read from a captured SIP message's SDP.
type sdpOf struct {
	port  uint16
	proto string
	keys  []string // the inline key material of each a=crypto
}

var (
	mAudioRe = regexp.MustCompile(`m=audio (\d+) (\S+)`)
	cryptoRe = regexp.MustCompile(`a=crypto:\d+ \S+ inline:([A-Za-z0-9+/=]+)`)
)

// sipSDP finds the first captured SIP message from src to dst whose start
// line begins with start and that carries SDP.
func sipSDP(t *testing.T, frames []hepFrame, src, dst uint16, start string) sdpOf {
	t.Helper()
	for _, f := range frames {
		if f.src.Port() != src || f.dst.Port() != dst || !strings.HasPrefix(f.payload, start) {
			continue
		}
		m := mAudioRe.FindStringSubmatch(f.payload)
		if m == nil {
			continue
		}
		port, _ := strconv.Atoi(m[1])
		s := sdpOf{port: uint16(port), proto: m[2]}
		for _, k := range cryptoRe.FindAllStringSubmatch(f.payload, -1) {
			s.keys = append(s.keys, k[1])
		}
		return s
	}
	t.Fatalf("no %q with SDP from port %d to %d in the capture", start, src, dst)
	return sdpOf{}
}

// rtpPayloads concatenates the payloads of the RTP packets (not RTCP)
// captured that match, in capture order.
func rtpPayloads(frames []hepFrame, match func(src, dst netip.AddrPort) bool) ([]byte, int) {
	var out []byte
	n := 0
	for _, f := range frames {
		p := f.payload
		if len(p) < 12+160 || p[0]&0xc0 != 0x80 || (p[1] >= 200 && p[1] <= 206) || !match(f.src, f.dst) {
			continue
		}
		out = append(out, p[12:]...)
		n++
	}
	return out, n
}

// toneShare is the share of x's power at freq: about 1 for a pure tone,
// about 2/len(x) for noise such as encrypted bytes read as audio.
func toneShare(x []float64, rate int, freq float64) float64 {
	r := rms(x)
	if r == 0 {
		return 0
	}
	return 2 * goertzelPower(x, rate, freq) / (r * r)
}

// ulawTone decodes G.711 μ-law bytes and returns the share of freq in it.
func ulawTone(b []byte, freq float64) float64 {
	x := make([]float64, len(b))
	for i, c := range b {
		x[i] = float64(g711.DecodeUlawFrame(c))
	}
	return toneShare(x, 8000, freq)
}

// expectPlainTone asserts the RTP of a flow is G.711 of the tone;
// expectEncrypted that it is not, though packets flowed.
func expectPlainTone(t *testing.T, what string, frames []hepFrame, freq float64, match func(src, dst netip.AddrPort) bool) {
	t.Helper()
	b, n := rtpPayloads(frames, match)
	if n < 50 {
		t.Fatalf("%s: %d RTP packets captured, want 50 or more", what, n)
	}
	s := ulawTone(b, freq)
	t.Logf("%s: %d packets, %.0f Hz share %.3f", what, n, freq, s)
	if s < 0.5 {
		t.Fatalf("%s: %d packets, %.0f Hz share %.3f: not G.711 of the tone in the clear", what, n, freq, s)
	}
}

func expectEncrypted(t *testing.T, what string, frames []hepFrame, freqs []float64, match func(src, dst netip.AddrPort) bool) {
	t.Helper()
	b, n := rtpPayloads(frames, match)
	if n < 50 {
		t.Fatalf("%s: %d RTP packets captured, want 50 or more", what, n)
	}
	for _, f := range freqs {
		s := ulawTone(b, f)
		t.Logf("%s: %d packets, %.0f Hz share %.4f", what, n, f, s)
		if s > 0.05 {
			t.Fatalf("%s: %d packets, %.0f Hz share %.3f: the tone is on the wire in the clear", what, n, f, s)
		}
	}
}

// portRange reads a "lo-hi" port range written after key in a config
// file (Switchboard's media.ports, baresip's rtp_ports).
func portRange(t *testing.T, file, key string) (lo, hi uint16) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(key) + `\s*(\d+)-(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in %s", key, file)
	}
	l, _ := strconv.Atoi(string(m[1]))
	h, _ := strconv.Atoi(string(m[2]))
	return uint16(l), uint16(h)
}

// mediaCapture captures Switchboard's UDP SIP port and its media ports.
func mediaCapture(t *testing.T, sb *SB) *capture {
	lo, hi := portRange(t, filepath.Join(sb.Dir, "switchboard.yaml"), "ports:")
	return startCapture(t, fmt.Sprintf("udp and (port %d or portrange %d-%d)", sb.SIPPort, lo, hi))
}

// agentLeg matches the packets between Switchboard and an agent's RTP ports.
func agentLeg(t *testing.T, b *Baresip) func(src, dst netip.AddrPort) bool {
	lo, hi := portRange(t, filepath.Join(b.Dir, "config"), "rtp_ports")
	in := func(p netip.AddrPort) bool { return p.Port() >= lo && p.Port() <= hi }
	return func(src, dst netip.AddrPort) bool { return in(src) || in(dst) }
}

// expectHeardAtEnd asserts that what b heard in its last second and a
// half (after a resume or a re-key) is the tone want, with real energy.
func expectHeardAtEnd(t *testing.T, who string, b *Baresip, want float64) {
	t.Helper()
	pcm, rate := b.Heard()
	end := pcm[max(0, len(pcm)-rate*3/2):]
	if s := toneShare(end, rate, want); s < 0.5 || rms(end) < 1000 {
		t.Fatalf("%s at the end: %.0f Hz share %.2f, rms %.0f", who, want, s, rms(end))
	}
}

// TestSRTPTLSPhoneCallsPlainPhone: a baresip registered over TLS with
// SRTP (its srtp module, RTP/SAVP) calls a baresip on UDP with plain RTP.
// Each hears the other's tone; on the wire the TLS leg's RTP is encrypted
// both ways (no G.711 of either tone) and the plain leg's is G.711 of the
// tones; the CDR records the suite of one leg and none for the other.
func TestSRTPTLSPhoneCallsPlainPhone(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, TLS: true})
	ca := filepath.Join(sb.Dir, "state", "tls.crt")
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Transport: "tls", ServerPort: sb.TLSPort, CAFile: ca, Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp-mand"})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
		Modules: []string{"g711"}})
	capt := mediaCapture(t, sb)
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=tls", sb.TLSPort), 3*time.Second)
	if rec.SRTPA == "" || rec.SRTPA == "none" || rec.SRTPB != "none" {
		t.Fatalf("CDR srtp_a %q srtp_b %q, want a suite and none", rec.SRTPA, rec.SRTPB)
	}
	frames := capt.Frames(t)
	toBob := sipSDP(t, frames, uint16(sb.SIPPort), uint16(bob.Port), "INVITE ")
	bobAns := sipSDP(t, frames, uint16(bob.Port), uint16(sb.SIPPort), "SIP/2.0 200")
	if len(toBob.keys) == 0 || toBob.proto != "RTP/AVP" {
		t.Fatalf("offer to the plain phone: %+v, want best-effort SRTP (RTP/AVP with a=crypto)", toBob)
	}
	if len(bobAns.keys) != 0 {
		t.Fatalf("the plain phone answered with keys: %+v", bobAns)
	}
	expectPlainTone(t, "bob → switchboard", frames, 1000, func(s, d netip.AddrPort) bool { return s.Port() == bobAns.port })
	expectPlainTone(t, "switchboard → bob", frames, 440, func(s, d netip.AddrPort) bool { return d.Port() == bobAns.port })
	expectEncrypted(t, "the SRTP leg", frames, []float64{440, 1000}, agentLeg(t, alice))
}

// TestSRTPToSRTPKeysApart: two SRTP baresips (one offering RTP/SAVP, the
// other answering Switchboard's best-effort offer) are bridged with a key
// of Switchboard's own on each leg: no key of one peer's SDP reaches the
// other, both legs' RTP is encrypted, and each hears the other.
func TestSRTPToSRTPKeysApart(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp-mand"})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
		Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp"})
	capt := mediaCapture(t, sb)
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort), 6*time.Second) // long enough for RTCP reports
	if rec.SRTPA == "" || rec.SRTPA == "none" || rec.SRTPB == "" || rec.SRTPB == "none" {
		t.Fatalf("CDR srtp_a %q srtp_b %q, want a suite on each", rec.SRTPA, rec.SRTPB)
	}
	frames := capt.Frames(t)
	sbPort, aPort, bPort := uint16(sb.SIPPort), uint16(alice.Port), uint16(bob.Port)
	aOffer := sipSDP(t, frames, aPort, sbPort, "INVITE ")
	toA := sipSDP(t, frames, sbPort, aPort, "SIP/2.0 200")
	toB := sipSDP(t, frames, sbPort, bPort, "INVITE ")
	bAns := sipSDP(t, frames, bPort, sbPort, "SIP/2.0 200")
	if aOffer.proto != "RTP/SAVP" || toA.proto != "RTP/SAVP" || len(toA.keys) != 1 || len(bAns.keys) != 1 || len(toB.keys) == 0 {
		t.Fatalf("SDP: alice offered %+v, got %+v; bob was offered %+v, answered %+v", aOffer, toA, toB, bAns)
	}
	for _, a := range append(aOffer.keys, toA.keys...) {
		for _, b := range append(toB.keys, bAns.keys...) {
			if a == b {
				t.Fatalf("key %s appears on both legs", a)
			}
		}
	}
	expectEncrypted(t, "alice's leg", frames, []float64{440, 1000}, agentLeg(t, alice))
	expectEncrypted(t, "bob's leg", frames, []float64{440, 1000}, agentLeg(t, bob))
	// SRTCP: each peer's reports were unprotected with its leg's keys.
	if rec.Quality == nil || len(rec.Quality.Legs) != 2 {
		t.Fatalf("quality %+v", rec.Quality)
	}
	for _, l := range rec.Quality.Legs {
		n, _ := l["rtcp_received"].(float64)
		errs, _ := l["rtcp_errors"].(float64)
		if n < 1 || errs > 0 {
			t.Fatalf("leg %v: %v SRTCP packets read, %v errors", l["leg"], l["rtcp_received"], l["rtcp_errors"])
		}
	}
}

// TestSRTPBestEffortToPlainSipp: Switchboard's best-effort SRTP offer
// (RTP/AVP with a=crypto, RFC 8643) to a plain sipp UAS is answered
// without keys: the call goes on in plain RTP, RTP flows both ways
// (echoed), and the CDR says none for both legs.
func TestSRTPBestEffortToPlainSipp(t *testing.T) {
	uas := writeScenario(t, "uas-osrtp",
		`<recv request="INVITE"><action>
<ereg regexp="m=audio [0-9]+ RTP/AVP " search_in="body" check_it="true" assign_to="avp"/>
<ereg regexp="a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" search_in="body" check_it="true" assign_to="osrtp"/>
</action></recv>`,
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("avp", "osrtp"))
	uac := writeScenario(t, "uac-osrtp", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	rec := callCaseEcho(t, SBOptions{}, uas, uac)
	expectCDR(t, rec, 200, "answered", "caller")
	if rec.SRTPA != "none" || rec.SRTPB != "none" {
		t.Fatalf("CDR srtp_a %q srtp_b %q, want none, none", rec.SRTPA, rec.SRTPB)
	}
	if rec.AToBPackets < 50 || rec.BToAPackets < 30 {
		t.Fatalf("media did not flow in plain RTP: %d packets a→b, %d b→a", rec.AToBPackets, rec.BToAPackets)
	}
}

// TestSRTPRequiredTowardPlainPeerFails: a trunk with srtp: required is
// offered RTP/SAVP; the plain sipp UAS answers without keys, so
// Switchboard ends that leg (BYE) and refuses the call with 488: never a
// retry in plain, exactly one CDR.
func TestSRTPRequiredTowardPlainPeerFails(t *testing.T) {
	uas := writeScenario(t, "uas-savp",
		`<recv request="INVITE"><action><ereg regexp="m=audio [0-9]+ RTP/SAVP " search_in="body" check_it="true" assign_to="savp"/></action></recv>`,
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("savp"))
	uac := writeScenario(t, "uac-488", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="488"/>`, uacAckFinal())
	rec := callCase(t, SBOptions{TrunkExtra: ", srtp: required"}, uas, uac)
	expectCDR(t, rec, 488, "failed", "callee")
}

// TestSRTPFallbackAfter488: a trunk that refuses a=crypto with 488 gets
// the INVITE again in plain RTP when its srtp_fallback is true, and the
// call is answered.
func TestSRTPFallbackAfter488(t *testing.T) {
	uas := writeScenario(t, "uas-fallback",
		`<recv request="INVITE"><action><ereg regexp="a=crypto:" search_in="body" check_it="true" assign_to="crypto1"/></action></recv>`,
		reply("488", "Not Acceptable Here", false, ""), `<recv request="ACK"/>`,
		`<recv request="INVITE"><action><ereg regexp="a=crypto:" search_in="body" check_it_inverse="true" assign_to="crypto2"/></action></recv>`,
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("crypto1", "crypto2"))
	uac := writeScenario(t, "uac-fallback", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	rec := callCase(t, SBOptions{TrunkExtra: ", srtp_fallback: true"}, uas, uac)
	expectCDR(t, rec, 200, "answered", "caller")
	if rec.SRTPB != "none" {
		t.Fatalf("CDR srtp_b %q, want none", rec.SRTPB)
	}
}

// TestSRTPReinviteKeepsMediaSecure: in an SRTP↔SRTP call the caller puts
// the call on hold and resumes it (two re-INVITEs, each with its keys);
// after the resume each party still hears the other, the RTP stays
// encrypted. The callee's baresip takes only RTP/SAVP (it refuses the
// best-effort RTP/AVP offer with 488), so its user has srtp: required.
func TestSRTPReinviteKeepsMediaSecure(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, UserExtra: map[string]string{"1001": ", srtp: required"}})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp-mand"})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
		Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp-mand"})
	capt := mediaCapture(t, sb)
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(time.Second)
	alice.Command("hold")
	time.Sleep(time.Second)
	alice.Command("resume")
	time.Sleep(3 * time.Second)
	alice.Command("hangup")
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("callee did not see the hangup")
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].SRTPA == "none" || recs[0].SRTPB == "none" {
		t.Fatalf("CDRs %+v", recs)
	}
	frames := capt.Frames(t)
	sbPort, aPort := uint16(sb.SIPPort), uint16(alice.Port)
	n := 0
	for _, f := range frames {
		if f.src.Port() == aPort && f.dst.Port() == sbPort && strings.HasPrefix(f.payload, "INVITE ") && strings.Contains(f.payload, "a=crypto") {
			n++
			t.Logf("caller's INVITE %d: keys %v", n, cryptoRe.FindAllStringSubmatch(f.payload, -1))
		}
	}
	if n < 3 {
		t.Fatalf("%d INVITEs with keys from the caller, want the first one and two re-INVITEs", n)
	}
	expectHeardAtEnd(t, "caller", alice, 1000)
	expectHeardAtEnd(t, "callee", bob, 440)
	expectEncrypted(t, "alice's leg", frames, []float64{440, 1000}, agentLeg(t, alice))
	expectEncrypted(t, "bob's leg", frames, []float64{440, 1000}, agentLeg(t, bob))
}

// TestSRTPEchoService: an SRTP caller (RTP/SAVP) of the echo service
// hears its own tone: the service's one leg is keyed like any other, and
// the CDR records its suite.
func TestSRTPEchoService(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Routes: serviceRoutes("")})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Modules: []string{"g711", "srtp"}, Extra: ";mediaenc=srtp-mand"})
	rec := serviceCall(t, sb, alice, "600", 3*time.Second)
	checkHeard(t, "SRTP caller of echo", alice, 440, 1000)
	if rec.Service != "echo" || rec.SRTPA == "" || rec.SRTPA == "none" {
		t.Fatalf("CDR service %q srtp_a %q", rec.Service, rec.SRTPA)
	}
}
