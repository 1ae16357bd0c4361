package test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestBaresipHoldResumeAudio (issue 9, item 2): a real phone holds the
// call (baresip re-INVITEs with a=sendonly, the callee answers recvonly)
// and resumes it (a=sendrecv); after the resume each phone is sent the
// other's tone again for the rest of the call.
//
// What arrives is read on the wire, G.711 decoded from a capture of
// Switchboard → phone, split at the resume: baresip 1.0's decode dump
// (sndfile) stops at its first hold whoever is between the phones (the
// same happens calling baresip to baresip directly), so the dump proves
// only the audio before the hold.
func TestBaresipHoldResumeAudio(t *testing.T) {
	t.Parallel()
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
	capt := mediaCapture(t, sb)
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(2 * time.Second)
	alice.Command("hold")
	time.Sleep(2 * time.Second)
	alice.Command("resume")
	time.Sleep(4 * time.Second)
	alice.Command("hangup")
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatalf("callee did not see the hangup")
	}
	checkHeard(t, "caller before the hold", alice, bob.Tone, alice.Tone)
	checkHeard(t, "callee before the hold", bob, alice.Tone, bob.Tone)

	frames := capt.Frames(t)
	// The resume is the last re-INVITE the caller sent with a=sendrecv.
	resume := -1
	for i, f := range frames {
		if f.dst.Port() == uint16(sb.SIPPort) && strings.HasPrefix(f.payload, "INVITE ") && strings.Contains(f.payload, "a=sendrecv") {
			resume = i
		}
	}
	held := -1
	for i, f := range frames[:max(resume, 0)] {
		if strings.HasPrefix(f.payload, "INVITE ") && strings.Contains(f.payload, "a=sendonly") {
			held = i
		}
	}
	if held < 0 || resume < held {
		t.Fatalf("no hold re-INVITE (a=sendonly) followed by a resume (a=sendrecv) in the capture (%d, %d)", held, resume)
	}
	after := frames[resume:]
	for _, p := range []struct {
		who  string
		b    *Baresip
		tone float64
	}{{"caller after the resume", alice, bob.Tone}, {"callee after the resume", bob, alice.Tone}} {
		leg := agentLeg(t, p.b)
		toAgent := func(src, dst netip.AddrPort) bool { return leg(netip.AddrPort{}, dst) && !leg(netip.AddrPort{}, src) }
		_, n := rtpPayloads(after, toAgent)
		// 4 s of talk after the resume: 200 packets; 150 allow for the
		// re-INVITE's round trip and the hangup.
		if n < 150 {
			t.Errorf("%s: %d RTP packets sent to the phone, want 150 or more\n%s", p.who, n, tail(sb.Output(), 2000))
			continue
		}
		expectPlainTone(t, p.who, after, p.tone, toAgent)
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" {
		t.Fatalf("CDRs %+v", recs)
	}
}
