package test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// sinkOfferSDP is a caller's offer of one codec (pt, its rtpmap line)
// with telephone-event, whose media port is the test's
// rtpSink (on 127.0.0.2), so that what Switchboard sends the caller is
// recorded.
func sinkOfferSDP(sink *rtpSink, pt int, rtpmap string) string {
	return fmt.Sprintf(`v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.2
s=-
c=IN IP4 127.0.0.2
t=0 0
m=audio %d RTP/AVP %d 101
a=rtpmap:%d %s
a=rtpmap:101 telephone-event/8000
a=sendrecv
`, sink.Port, pt, pt, rtpmap)
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
	uac := writeScenario(t, "uac-fail-early", uacInviteWith(sinkOfferSDP(sink, 0, "PCMU/8000")),
		`<recv response="183"><action><ereg regexp="m=audio [0-9]+ RTP/AVP [0-9]" search_in="body" check_it="true" assign_to="m"/></action></recv>`,
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

// TestLocalRingback (issue 12): with tones.local_ringback, a callee that
// rings (180 without SDP) for 3.5 s before answering leaves the caller a
// 183 with Switchboard's SDP and the plan's ringback (default 425 Hz, 1 s
// on, 4 s off) until the answer: 425 Hz for about the first second, then
// silence. The call is then bridged as usual: the caller's PCMA (sipp's
// pcap) reaches the callee, which echoes it back (packets both ways).
func TestLocalRingback(t *testing.T) {
	t.Parallel()
	sink := newRTPSink(t)
	uas := writeScenario(t, "uas-ring", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""), `<pause milliseconds="3500"/>`,
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-ringback", uacInviteWith(sinkOfferSDP(sink, 8, "PCMA/8000")),
		`<recv response="180" optional="true"/>`,
		`<recv response="183"><action><ereg regexp="m=audio [0-9]+ RTP/AVP [0-9]" search_in="body" check_it="true" assign_to="m"/></action></recv>`,
		`<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="2000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("m"))
	c := callCaseEcho(t, SBOptions{Extra: "tones:\n  local_ringback: true\n"}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.AToBPackets < 40 || c.BToAPackets < 40 {
		t.Errorf("after the ringback: %d packets caller to callee, %d back; want the bridge carrying both ways", c.AToBPackets, c.BToAPackets)
	}
	pkts := sink.Drain(500 * time.Millisecond)
	var ring []sunkRTP
	for _, p := range pkts {
		if p.pt == 8 && p.at.Before(c.Answer) {
			ring = append(ring, p)
		}
	}
	sort.Slice(ring, func(i, j int) bool { return int16(ring[i].seq-ring[j].seq) < 0 })
	var x []float64
	for _, p := range ring {
		for _, b := range p.payload {
			x = append(x, float64(g711.DecodeAlawFrame(b)))
		}
	}
	if secs := float64(len(x)) / 8000; secs < 2.5 {
		t.Fatalf("%.2f s of ringback before the answer, want about 3.5 s", secs)
	}
	on, off := x[400:7600], x[8800:min(len(x), 8000*3)]
	if f, share := dominant(on, 8000, 425, 440, 1000); f != 425 || share < 0.9 || rms(on) < 3000 {
		t.Fatalf("first second of ringback: %.0f Hz (share %.2f, level %.0f), want 425 Hz", f, share, rms(on))
	}
	if l := rms(off); l > 100 {
		t.Fatalf("ringback's off time has level %.0f, want silence (1 s on, 4 s off)", l)
	}
}
