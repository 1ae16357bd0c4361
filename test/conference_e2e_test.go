package test

import (
	"fmt"
	"path/filepath"
	"regexp"
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

// TestConferenceCuesAndMute (issue 12): a participant hears a short
// 880 Hz cue when another joins and 660 Hz when it leaves; the other
// (sipp streaming a 1 kHz tone) keys 0 by SIP INFO to mute itself and 0
// again to unmute: in between the first hears nothing of it. The muting
// participant's record has the mute and unmute events.
func TestConferenceCuesAndMute(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp")
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Routes: `  - {match: '^1\d{3}$', to: user}
  - {match: '^3\d{3}$', to: conference}`})
	a := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
	a.Command(fmt.Sprintf("dial sip:3000@127.0.0.1:%d", sb.SIPPort))
	if !a.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
		t.Fatalf("conference call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(time.Second)
	pcap := filepath.Join(t.TempDir(), "tone.pcap")
	if err := writePCMAPcap(pcap, 8*time.Second, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	info := func(cseq int) string {
		return uacInDialog("INFO", strconv.Itoa(cseq), "Content-Type: application/dtmf-relay\n", "Signal=0\r\nDuration=100\r\n") + `<recv response="200"/>`
	}
	uac := writeScenario(t, "uac-conf-mute", uacInviteWith(sdpCodecs("8", "a=rtpmap:8 PCMA/8000\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec play_pcap_audio="`+pcap+`"/></action></nop>`,
		`<pause milliseconds="2000"/>`, info(3), `<pause milliseconds="2000"/>`, info(4),
		`<pause milliseconds="1500"/>`, uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`)
	callerSipp(t, sb, uac, "3000") // user 1000
	time.Sleep(time.Second)
	a.Command("hangup")
	if !a.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("participant did not see the hangup")
	}

	// What a heard, 100 ms at a time: silence, or the strongest of the cues
	// and the other's tone.
	x, rate := a.Heard()
	var seq []string
	for i := 0; i+rate/10 <= len(x); i += rate / 10 {
		w := x[i : i+rate/10]
		label := "."
		if rms(w) > 300 {
			f, _ := dominant(w, rate, 660, 880, 1000)
			label = strconv.Itoa(int(f))
		}
		if len(seq) == 0 || seq[len(seq)-1] != label {
			seq = append(seq, label)
		}
	}
	got := strings.Join(seq, " ")
	t.Logf("heard: %s", got)
	// join cue, the tone, silence while muted, the tone again, leave cue.
	if !regexp.MustCompile(`880 (\S+ )?1000 (\S+ )*\. (\S+ )*1000 (\S+ )?660`).MatchString(got) {
		t.Fatalf("heard %q: want the join cue, the tone, a muted gap, the tone, the leave cue", got)
	}
	// The muted gap lasts about the 2 s between the keys.
	gap := 0
	for i := 0; i+rate/10 <= len(x); i += rate / 10 {
		if rms(x[i:i+rate/10]) <= 300 {
			gap++
		}
	}
	if gap < 15 {
		t.Errorf("%d quiet 100 ms windows, want the 2 s muted gap", gap)
	}
	recs := sb.WaitCDRs(2, 5*time.Second)
	events := ""
	for _, r := range recs {
		if r.Caller == "1000" {
			for _, ev := range r.RoomEvents {
				if ev.Participant == r.CallID {
					events += ev.Event + " "
				}
			}
		}
	}
	if !strings.Contains(events, "mute unmute") {
		t.Errorf("muting participant's own room events %q, want mute then unmute", events)
	}
}
