package test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReinviteSwitchesRelayProcessingRelay: the caller streams a PCMA tone
// (sipp rtp_stream); the callee re-INVITEs twice, first offering PCMU only
// (the caller answers PCMA: the direction to the callee switches from the
// relay to transcoding PCMA → PCMU), then PCMA again (back to the relay).
// What the callee receives stays one stream: one SSRC, every sequence
// number once in order, timestamps advancing by about one packet, the
// payload type following the negotiation (8, then 0, then 8).
func TestReinviteSwitchesRelayProcessingRelay(t *testing.T) {
	sink := newRTPSink(t)
	calleeSDP := func(pt, rtpmap string) string { return sinkSDP(pt, "a=rtpmap:"+pt+" "+rtpmap+"\n") }

	pcma := sdpCodecs("8", "a=rtpmap:8 PCMA/8000\n")
	tone := filepath.Join(t.TempDir(), benchALaw)
	if err := writeALawTone(tone, time.Second); err != nil {
		t.Fatal(err)
	}
	uas := writeScenario(t, "uas-switch", `<recv request="INVITE">`+captureFrom+`</recv>`,
		replyWith("200", "OK", true, calleeSDP("8", "PCMA/8000")), `<recv request="ACK"/>`,
		`<pause milliseconds="2000"/>`,
		uasInDialog("INVITE", "1", calleeSDP("0", "PCMU/8000")), `<recv response="200"/>`, uasAck("1"),
		`<pause milliseconds="2000"/>`,
		uasInDialog("INVITE", "2", calleeSDP("8", "PCMA/8000")), `<recv response="200"/>`, uasAck("2"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-switch", uacInviteWith(pcma),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec rtp_stream="`+tone+`,-1,8"/></action></nop>`,
		`<recv request="INVITE"/>`, replyWith("200", "OK", false, pcma), `<recv request="ACK"/>`,
		`<recv request="INVITE"/>`, replyWith("200", "OK", false, pcma), `<recv request="ACK"/>`,
		`<pause milliseconds="2000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := runCallCase(t, SBOptions{}, uas, uac, "-key", "rxport", strconv.Itoa(sink.Port))
	expectCDR(t, c, 200, "answered", "caller")

	got := sink.Drain(time.Second)
	if len(got) < 200 {
		t.Fatalf("callee received %d packets, want about 300", len(got))
	}
	var pts []string
	for i, p := range got {
		if i == 0 || p.pt != got[i-1].pt {
			pts = append(pts, strconv.Itoa(int(p.pt)))
		}
		if i == 0 {
			continue
		}
		prev := got[i-1]
		if p.ssrc != prev.ssrc {
			t.Errorf("packet %d: SSRC changed %08x → %08x", i, prev.ssrc, p.ssrc)
		}
		if p.seq != prev.seq+1 {
			t.Errorf("packet %d: sequence %d after %d", i, p.seq, prev.seq)
		}
		if d := p.ts - prev.ts; d < 80 || d > 480 {
			t.Errorf("packet %d (seq %d, PT %d after %d): timestamp step %d, want about 160", i, p.seq, p.pt, prev.pt, d)
		}
	}
	if strings.Join(pts, ",") != "8,0,8" {
		t.Errorf("payload types %v, want 8 (relay), 0 (transcoded), 8 (relay again)", pts)
	}
}
