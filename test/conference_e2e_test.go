package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// toneShares returns each candidate's share of the candidates' total
// power in what b heard.
func toneShares(b *Baresip, candidates ...float64) map[float64]float64 {
	x, rate := b.Heard()
	x = activePart(x, 500)
	shares := map[float64]float64{}
	var total float64
	for _, f := range candidates {
		shares[f] = goertzelPower(x, rate, f)
		total += shares[f]
	}
	for f := range shares {
		if total > 0 {
			shares[f] /= total
		}
	}
	return shares
}

// TestConferenceThree: three baresips with tones 440, 1000 and 1800 Hz
// dial the same 16 kHz room, two in PCMU and one in G.722 (resampled in
// and out of the room); each hears the other two and not its own (N-1
// mixing), and each call leaves one CDR naming the room.
func TestConferenceThree(t *testing.T) {
	users := []string{"1000", "1001", "1002"}
	tones := []float64{440, 1000, 1800}
	sb := startSB(t, SBOptions{Users: users, Routes: `  - {match: '^1\d{3}$', to: user}
  - {match: '^3\d{3}$', to: conference}`})
	var parts []*Baresip
	codecs := []struct{ module, codec string }{{"g711", "PCMU"}, {"g711", "PCMU"}, {"g722", "G722"}}
	for i, u := range users {
		parts = append(parts, startBaresip(t, BaresipOptions{User: u, Password: sb.Users[u], SB: sb, ToneHz: int(tones[i]), Register: true,
			Modules: []string{codecs[i].module}, Codecs: codecs[i].codec}))
	}
	for _, b := range parts {
		b.Command(fmt.Sprintf("dial sip:3000@127.0.0.1:%d", sb.SIPPort))
		if !b.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
			t.Fatalf("conference call not established\n%s", tail(sb.Output(), 3000))
		}
	}
	time.Sleep(4 * time.Second)
	for _, b := range parts {
		b.Command("hangup")
	}
	for _, b := range parts {
		if !b.WaitEvent("CALL_CLOSED", 5*time.Second) {
			t.Fatal("participant did not see the hangup")
		}
	}
	for i, b := range parts {
		sh := toneShares(b, tones...)
		t.Logf("participant %.0f Hz heard %v", tones[i], sh)
		for j, f := range tones {
			if j == i && sh[f] > 0.05 {
				t.Errorf("participant %.0f Hz hears itself (share %.2f)", tones[i], sh[f])
			}
			if j != i && sh[f] < 0.15 {
				t.Errorf("participant %.0f Hz does not hear %.0f Hz (share %.2f)", tones[i], f, sh[f])
			}
		}
	}
	recs := sb.WaitCDRs(3, 5*time.Second)
	if len(recs) != 3 {
		t.Fatalf("CDRs %+v", recs)
	}
	g722 := 0
	for _, r := range recs {
		if r.Service != "conference" || r.Room != "3000" || r.Disposition != "answered" {
			t.Fatalf("CDR %+v", r)
		}
		if r.CodecA == "G722" {
			g722++
		}
		// The room's events are in each participant's record: its own
		// join, and the talkers it heard.
		joined, talk := false, 0
		for _, ev := range r.RoomEvents {
			joined = joined || ev.Event == "join" && ev.Participant == r.CallID
			if ev.Event == "talk-start" {
				talk++
			}
		}
		if !joined || talk == 0 {
			t.Fatalf("CDR %s room events %+v: want its own join and talk starts", r.CallID, r.RoomEvents)
		}
	}
	if g722 != 1 {
		t.Fatalf("%d G.722 participants in the CDRs, want 1", g722)
	}
}

// TestConferencePIN: with services.conference_pin a caller is held at
// the prompt until it keys the PIN and # (here by SIP INFO, after one
// wrong try); only then it joins the room.
func TestConferencePIN(t *testing.T) {
	requireTool(t, "sipp")
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Routes: `  - {match: '^3\d{3}$', to: conference}`,
		Extra: "services:\n  conference_pin: \"4321\"\n"})
	steps := []string{uacInviteWith(sdpCodecs("0", "a=rtpmap:0 PCMU/8000\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"), `<pause milliseconds="300"/>`}
	cseq := 3
	key := func(k string) {
		steps = append(steps, uacInDialog("INFO", strconv.Itoa(cseq), "Content-Type: application/dtmf-relay\n", "Signal="+k+"\r\nDuration=100\r\n"),
			`<recv response="200"/>`)
		cseq++
	}
	for _, k := range []string{"1", "2", "#", "4", "3", "2", "1"} {
		key(k)
	}
	steps = append(steps, `<pause milliseconds="300"/>`)
	key("#")
	steps = append(steps, `<pause milliseconds="500"/>`, uacInDialog("BYE", strconv.Itoa(cseq), "", ""), `<recv response="200"/>`)
	uac := writeScenario(t, "uac-conf-pin", steps...)
	callerSipp(t, sb, uac, "3000") // streams_e2e_test.go
	out := sb.Output()
	wrong, joined := strings.Index(out, "conference: wrong PIN"), strings.Index(out, "joined conference")
	if strings.Count(out, "conference: wrong PIN") != 1 || strings.Count(out, "joined conference") != 1 || joined < wrong {
		t.Fatalf("want one wrong PIN, then the join\n%s", tail(out, 3000))
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Room != "3000" || len(recs[0].Digits) != 8 || recs[0].HangupSide != "caller" {
		t.Fatalf("CDRs %+v", recs)
	}
}
