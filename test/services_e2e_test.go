package test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// serviceRoutes routes 1xxx to users and the service numbers.
func serviceRoutes(extra string) string {
	return `  - {match: '^1\d{3}$', to: user}
  - {match: '^600$', to: echo}
  - {match: '^601$', to: tone, tone_hz: 1800}
` + extra
}

// serviceCall has b dial number, stay for talk and hang up (unless the
// service does), and returns the call's one CDR.
func serviceCall(t *testing.T, sb *SB, b *Baresip, number string, talk time.Duration) CDR {
	t.Helper()
	b.Command(fmt.Sprintf("dial sip:%s@127.0.0.1:%d", number, sb.SIPPort))
	if !b.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
		t.Fatalf("call to %s not established\n%s", number, tail(sb.Output(), 3000))
	}
	time.Sleep(talk)
	if !b.HasEvent("CALL_CLOSED") {
		b.Command("hangup")
	}
	if !b.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatalf("call to %s did not close", number)
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" {
		t.Fatalf("CDRs %+v", recs)
	}
	return recs[0]
}

// TestServiceEcho: a caller of the echo service hears its own tone back,
// in each codec, and the call leaves one CDR naming the service.
func TestServiceEcho(t *testing.T) {
	for _, c := range []struct{ module, codec string }{{"g711", "PCMU"}, {"g722", "G722"}, {"opus", "opus/48000/2"}} {
		t.Run(c.module, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000"}, Routes: serviceRoutes("")})
			alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
				Modules: []string{c.module}, Codecs: c.codec})
			rec := serviceCall(t, sb, alice, "600", 3*time.Second)
			checkHeard(t, "caller of echo", alice, 440, 1000)
			if rec.Service != "echo" || rec.HangupSide != "caller" || rec.AToBPackets < 100 || rec.BToAPackets < 100 {
				t.Fatalf("CDR %+v", rec)
			}
		})
	}
}

// TestServiceTone: the tone service plays its configured frequency; the
// playback service plays a file once and hangs up at its end.
func TestServiceTone(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.wav")
	if err := writeToneChannels(clip, 16000, 2, 700, 2, 0.3); err != nil {
		t.Fatal(err)
	}
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Routes: serviceRoutes("  - {match: '^602$', to: playback, file: " + clip + "}\n")})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	rec := serviceCall(t, sb, alice, "601", 3*time.Second)
	checkHeard(t, "caller of tone", alice, 1800, 440)
	if rec.Service != "tone" {
		t.Fatalf("CDR %+v", rec)
	}

	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 440, Register: true})
	bob.Command(fmt.Sprintf("dial sip:602@127.0.0.1:%d", sb.SIPPort))
	if !bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_CLOSED", 8*time.Second) {
		t.Fatalf("playback call not established, or not ended by Switchboard at the file's end\n%s", tail(sb.Output(), 3000))
	}
	checkHeard(t, "caller of playback", bob, 700, 440)
	recs := sb.WaitCDRs(2, 5*time.Second)
	if len(recs) != 2 || recs[1].Service != "playback" || recs[1].HangupSide != "switchboard" || recs[1].Billable < 1.5 || recs[1].Billable > 4 {
		t.Fatalf("CDRs %+v", recs)
	}
}
