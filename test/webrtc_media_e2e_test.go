package test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// webrtcBaresip is a baresip agent that speaks WebRTC media: ICE (full
// agent, controlling as the caller), DTLS-SRTP (UDP/TLS/RTP/SAVPF) and
// rtcp-mux, as a browser does. It offers only codec (PCMU or opus):
// baresip offers every codec module it loaded.
func webrtcBaresip(t *testing.T, sb *SB, user string, tone int, codec string) *Baresip {
	mod := "g711"
	if codec == "opus" {
		mod = "opus"
	}
	return startBaresip(t, BaresipOptions{User: user, Password: sb.Users[user], SB: sb, ToneHz: tone, Register: true,
		Codecs: codec, Modules: []string{mod, "ice", "dtls_srtp"}, Config: "rtcp_mux yes\n",
		Extra: ";mediaenc=dtls_srtp;medianat=ice"})
}

// TestWebRTCMediaToPlainRTP: a WebRTC caller (ICE + DTLS-SRTP) calls a
// plain-RTP PCMU phone through Switchboard; each hears the other's tone,
// and Switchboard's leg toward the caller was keyed by DTLS.
func TestWebRTCMediaToPlainRTP(t *testing.T) {
	for _, codecs := range []string{"PCMU", "opus"} {
		t.Run(codecs, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
			alice := webrtcBaresip(t, sb, "1000", 440, codecs)
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
				Modules: []string{"g711"}})
			rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort), 3*time.Second)
			if rec.HangupSide != "caller" {
				t.Fatalf("CDR %+v", rec)
			}
			out := sb.Output()
			if !strings.Contains(out, "dtls-srtp keyed") || !strings.Contains(out, "ice pair nominated") {
				t.Fatalf("no DTLS keying or ICE nomination in the log\n%s", tail(out, 3000))
			}
		})
	}
}

// TestWebRTCConsentExpiry: the WebRTC caller disappears mid-call (killed:
// no BYE, no more ICE checks); consent freshness (RFC 7675) ends the call
// after webrtc.consent_timeout, the callee gets a BYE, and the call has
// one CDR.
func TestWebRTCConsentExpiry(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Extra: "webrtc:\n  consent_timeout: 3s\n"})
	alice := webrtcBaresip(t, sb, "1000", 440, "PCMU")
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true,
		Modules: []string{"g711"}})
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(time.Second)
	if len(sb.CDRs()) != 0 {
		t.Fatal("CDR before the caller left")
	}
	_ = alice.cmd.Process.Signal(syscall.SIGKILL)
	if !bob.WaitEvent("CALL_CLOSED", 15*time.Second) {
		t.Fatalf("callee not hung up after the WebRTC peer left\n%s", tail(sb.Output(), 3000))
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if recs = sb.CDRs(); len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].HangupSide != "switchboard" {
		t.Fatalf("CDRs %+v", recs)
	}
	if !strings.Contains(sb.Output(), "ICE consent expired") {
		t.Fatalf("not ended by consent expiry\n%s", tail(sb.Output(), 3000))
	}
}
