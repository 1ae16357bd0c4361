package test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// sinkOfferSDP is a caller's PCMU offer whose media port is the test's
// rtpSink (on 127.0.0.2), so that what Switchboard sends the caller is
// recorded.
func sinkOfferSDP(sink *rtpSink) string {
	return fmt.Sprintf(`v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.2
s=-
c=IN IP4 127.0.0.2
t=0 0
m=audio %d RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
`, sink.Port)
}

// failureEarlyMedia runs a call the callee fails with status (sipp on
// both sides, the caller's media into an rtpSink) under the tones: YAML
// given; it checks the caller got a 183 with SDP before the final status
// and returns the PCMU audio that arrived before the CDR's end (in RTP
// sequence order) with the CDR.
func failureEarlyMedia(t *testing.T, status, text, tones string) ([]float64, CDR) {
	t.Helper()
	sink := newRTPSink(t)
	uas := writeScenario(t, "uas-fail", `<recv request="INVITE"/>`, reply(status, text, false, ""), `<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-fail-early", uacInviteWith(sinkOfferSDP(sink)),
		`<recv response="183"><action><ereg regexp="m=audio [0-9]+ RTP/AVP 0" search_in="body" check_it="true" assign_to="m"/></action></recv>`,
		`<recv response="`+status+`"/>`, uacAckFinal(), refs("m"))
	c := callCase(t, SBOptions{Extra: tones}, uas, uac)
	pkts := sink.Drain(500 * time.Millisecond)
	sort.Slice(pkts, func(i, j int) bool { return int16(pkts[i].seq-pkts[j].seq) < 0 })
	var x []float64
	for _, p := range pkts {
		if p.pt != 0 {
			continue
		}
		if p.at.After(c.End.Add(200 * time.Millisecond)) {
			t.Fatalf("early media packet at %s, after the call's end %s", p.at.Format(time.StampMilli), c.End.Format(time.StampMilli))
		}
		for _, b := range p.payload {
			x = append(x, float64(g711.DecodeUlawFrame(b)))
		}
	}
	return x, c
}

// TestFailureAnnouncement (issue 12): with tones.failures mapping 404 to a
// WAV announcement (1.5 s of 1000 Hz, a generated fixture), a call the
// callee answers 404 gives the caller a 183 with SDP, the announcement's
// audio, and then the 404; the CDR says 404.
func TestFailureAnnouncement(t *testing.T) {
	t.Parallel()
	wav := filepath.Join(t.TempDir(), "not-found.wav")
	if err := writeTone(wav, 16000, 1000, 1.5, 0.3); err != nil {
		t.Fatal(err)
	}
	x, c := failureEarlyMedia(t, "404", "Not Found", "tones:\n  failures:\n    - {status: 404, file: "+wav+"}\n")
	expectCDR(t, c, 404, "failed", "callee")
	if secs := float64(len(x)) / 8000; secs < 1.2 || secs > 2.5 {
		t.Fatalf("%.2f s of early media, want the 1.5 s announcement", secs)
	}
	if f, share := dominant(activePart(x, 500), 8000, 1000, 425, 440); f != 1000 || share < 0.9 {
		t.Fatalf("early media holds %.0f Hz (share %.2f), want the announcement's 1000 Hz", f, share)
	}
}

// TestBusyToneCadence (issue 12): with tones.failures playing the plan's
// busy tone on 486 (the default plan: 425 Hz, 0.5 s on, 0.5 s off), the
// caller hears 425 Hz in that cadence before the 486.
func TestBusyToneCadence(t *testing.T) {
	t.Parallel()
	x, c := failureEarlyMedia(t, "486", "Busy Here", "tones:\n  failures:\n    - {status: 486, tone: busy, duration: 3s}\n")
	expectCDR(t, c, 486, "busy", "callee")
	if secs := float64(len(x)) / 8000; secs < 2.5 || secs > 4 {
		t.Fatalf("%.2f s of early media, want the 3 s of busy tone", secs)
	}
	if f, share := dominant(activePart(x, 500), 8000, 425, 1000, 440); f != 425 || share < 0.9 {
		t.Fatalf("early media holds %.0f Hz (share %.2f), want 425 Hz", f, share)
	}
	// Cadence: 100 ms windows loud or quiet; the runs between the first
	// and last (which may be cut) last 0.5 s each.
	var runs []int
	loud := false
	for i := 0; i+800 <= len(x); i += 800 {
		w := rms(x[i:i+800]) > 1000
		if len(runs) == 0 || w != loud {
			runs = append(runs, 0)
			loud = w
		}
		runs[len(runs)-1]++
	}
	t.Logf("%.2f s of early media, on/off runs %v", float64(len(x))/8000, runs)
	if len(runs) < 5 {
		t.Fatalf("on/off runs %v (100 ms windows): want the busy cadence", runs)
	}
	for _, n := range runs[1 : len(runs)-1] {
		if n < 4 || n > 6 {
			t.Fatalf("on/off runs %v (100 ms windows): want 5 each (0.5 s on, 0.5 s off)", runs)
		}
	}
}
