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
// rtcp-mux, as a browser does. codecs is its audio_codecs, and only
// their modules are loaded (baresip offers, and answers with, any codec
// module it loaded).
func webrtcBaresip(t *testing.T, sb *SB, user string, tone int, codecs string) *Baresip {
	var mods []string
	if strings.Contains(codecs, "opus") {
		mods = append(mods, "opus")
	}
	if strings.Contains(codecs, "PCMU") {
		mods = append(mods, "g711")
	}
	return startBaresip(t, BaresipOptions{User: user, Password: sb.Users[user], SB: sb, ToneHz: tone, Register: true,
		Codecs: codecs, Modules: append(mods, "ice", "dtls_srtp"), Config: "rtcp_mux yes\n",
		Extra: ";mediaenc=dtls_srtp;medianat=ice"})
}

// plainBaresip is a PCMU phone with plain RTP.
func plainBaresip(t *testing.T, sb *SB, user string, tone int) *Baresip {
	return startBaresip(t, BaresipOptions{User: user, Password: sb.Users[user], SB: sb, ToneHz: tone, Register: true,
		Modules: []string{"g711"}})
}

// TestWebRTCMediaToPlainRTP: a WebRTC caller (ICE + DTLS-SRTP) calls a
// plain-RTP PCMU phone through Switchboard; each hears the other's tone.
// The WebRTC leg is keyed by DTLS; Opus, when the WebRTC peer puts it
// first, is what it gets, transcoded to the phone's PCMU.
func TestWebRTCMediaToPlainRTP(t *testing.T) {
	for _, tc := range []struct{ codecs, codecA string }{
		{"PCMU", "PCMU"}, {"opus", "opus"}, {"opus/48000/2,PCMU", "opus"},
	} {
		t.Run(tc.codecs, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
			alice := webrtcBaresip(t, sb, "1000", 440, tc.codecs)
			bob := plainBaresip(t, sb, "1001", 1000)
			rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort), 3*time.Second)
			if rec.HangupSide != "caller" || rec.CodecA != tc.codecA || rec.CodecB != "PCMU" || rec.SRTPA != "AES_CM_128_HMAC_SHA1_80" || rec.SRTPB != "none" {
				t.Fatalf("CDR %+v", rec)
			}
			out := sb.Output()
			if !strings.Contains(out, "dtls-srtp keyed") || !strings.Contains(out, "ice pair nominated") {
				t.Fatalf("no DTLS keying or ICE nomination in the log\n%s", tail(out, 3000))
			}
		})
	}
}

// TestWebRTCMediaToWebRTCCallee: a plain-RTP phone calls a user with
// webrtc: true; Switchboard offers it UDP/TLS/RTP/SAVPF (ICE-lite,
// actpass) and each hears the other's tone.
func TestWebRTCMediaToWebRTCCallee(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, UserExtra: map[string]string{"1001": ", webrtc: true"}})
	alice := plainBaresip(t, sb, "1000", 440)
	bob := webrtcBaresip(t, sb, "1001", 1000, "opus")
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort), 3*time.Second)
	if rec.CodecA != "PCMU" || rec.CodecB != "opus" || rec.SRTPB != "AES_CM_128_HMAC_SHA1_80" {
		t.Fatalf("CDR %+v", rec)
	}
}

// TestWebRTCConsentExpiry: the WebRTC caller disappears mid-call (killed:
// no BYE, no more ICE checks); consent freshness (RFC 7675) ends the call
// after webrtc.consent_timeout, the callee gets a BYE, and the call has
// one CDR.
func TestWebRTCConsentExpiry(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Extra: "webrtc:\n  consent_timeout: 3s\n"})
	alice := webrtcBaresip(t, sb, "1000", 440, "PCMU")
	bob := plainBaresip(t, sb, "1001", 1000)
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

// TestWebRTCHoldResume: in a WebRTC ↔ plain call each side puts the call
// on hold and resumes it (four re-INVITEs, on top of baresip's own ICE
// re-INVITE); the WebRTC leg keeps its one DTLS association (fingerprint
// and role stable, no second handshake) and after the resumes each
// party hears the other again.
func TestWebRTCHoldResume(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
	alice := webrtcBaresip(t, sb, "1000", 440, "PCMU")
	bob := plainBaresip(t, sb, "1001", 1000)
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(1500 * time.Millisecond)
	for _, who := range []*Baresip{alice, bob} {
		who.Command("hold")
		time.Sleep(time.Second)
		who.Command("resume")
		time.Sleep(1500 * time.Millisecond)
	}
	time.Sleep(time.Second)
	alice.Command("hangup")
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("callee did not see the hangup")
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].SRTPA == "none" {
		t.Fatalf("CDRs %+v", recs)
	}
	out := sb.Output()
	if n := strings.Count(out, "dtls-srtp keyed"); n != 1 {
		t.Fatalf("%d DTLS handshakes, want 1 across the re-INVITEs\n%s", n, tail(out, 3000))
	}
	if n := strings.Count(bob.out.String(), "stream: update"); n < 3 {
		t.Fatalf("callee saw %d offer/answer exchanges, want the call and the holds", n)
	}
	expectHeardAtEnd(t, "caller", alice, 1000)
	expectHeardAtEnd(t, "callee", bob, 440)
}

// TestWebRTCDTMF: RFC 4733 digits from a WebRTC caller (over its
// DTLS-SRTP leg) reach the plain PCMU phone with the right keys: relayed
// with PCMU, and through the processing path when the WebRTC leg is Opus
// (baresip's telephone-event is at 8000 Hz beside Opus at 48000).
func TestWebRTCDTMF(t *testing.T) {
	for _, codec := range []string{"PCMU", "opus"} {
		t.Run(codec, func(t *testing.T) { testWebRTCDTMF(t, codec) })
	}
}

func testWebRTCDTMF(t *testing.T, codec string) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
	alice := webrtcBaresip(t, sb, "1000", 440, codec)
	bob := plainBaresip(t, sb, "1001", 1000)
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(1500 * time.Millisecond) // DTLS keyed, media flowing
	alice.Command("sndcode 5")
	time.Sleep(500 * time.Millisecond)
	alice.Command("sndcode 9")
	if !bob.WaitEvent("CALL_DTMF_START", 5*time.Second) {
		t.Fatalf("the phone received no digit\n%s", tail(bob.out.String(), 2000))
	}
	var keys []string
	for deadline := time.Now().Add(5 * time.Second); len(keys) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		keys = keys[:0]
		bob.mu.Lock()
		for _, e := range bob.events {
			if e["type"] == "CALL_DTMF_START" {
				keys = append(keys, fmt.Sprint(e["param"]))
			}
		}
		bob.mu.Unlock()
	}
	if strings.Join(keys, "") != "59" {
		t.Fatalf("the phone received digits %q, want 5 and 9", keys)
	}
	alice.Command("hangup")
	if recs := sb.WaitCDRs(1, 5*time.Second); len(recs) != 1 || recs[0].SRTPA == "none" {
		t.Fatalf("CDRs %+v", recs)
	}
}
