package test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/recorder"
)

// TestConferenceRecorded (issue 12): a room whose route says recording:
// all is recorded as its mix: three baresips with tones 440, 1000 and
// 1800 Hz in one room leave one mono WAV holding all three tones, whose
// sidecar names the room and lists the three participants, and each
// participant's CDR names that file.
func TestConferenceRecorded(t *testing.T) {
	t.Parallel()
	users := []string{"1000", "1001", "1002"}
	tones := []float64{440, 1000, 1800}
	dir := filepath.Join(t.TempDir(), "recordings")
	sb := startSB(t, SBOptions{Users: users, Routes: `  - {match: '^1\d{3}$', to: user}
  - {match: '^3\d{3}$', to: conference, recording: all}`, Extra: "services:\n  recordings: " + dir + "\n"})
	var parts []*Baresip
	for i, u := range users {
		parts = append(parts, startBaresip(t, BaresipOptions{User: u, Password: sb.Users[u], SB: sb, ToneHz: int(tones[i]), Register: true, Modules: []string{"g711"}}))
	}
	for _, b := range parts {
		b.Command(fmt.Sprintf("dial sip:3000@127.0.0.1:%d", sb.SIPPort))
		if !b.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
			t.Fatalf("conference call not established\n%s", tail(sb.Output(), 3000))
		}
	}
	time.Sleep(3 * time.Second)
	for _, b := range parts {
		b.Command("hangup")
		if !b.WaitEvent("CALL_CLOSED", 5*time.Second) {
			t.Fatal("participant did not see the hangup")
		}
	}
	recs := sb.WaitCDRs(3, 5*time.Second)
	if len(recs) != 3 {
		t.Fatalf("CDRs %+v", recs)
	}
	file := recs[0].Recording
	for _, r := range recs {
		if r.Recording == "" || r.Recording != file || filepath.Dir(file) != dir || r.RecordingState != "complete" {
			t.Fatalf("CDR %s recording %q state %q, want the room's one file for all", r.CallID, r.Recording, r.RecordingState)
		}
	}
	meta := waitSidecar(t, file)
	if meta.Room != "3000" || meta.Channels["mono"] != "room" || len(meta.Participants) != 3 || meta.Seconds < 2 {
		t.Fatalf("sidecar %+v: want room 3000, mono, three participants, over 2 s", meta)
	}
	a, err := recorder.ReadWAV(file)
	if err != nil || a.Channels != 1 {
		t.Fatalf("read %s: %+v %v", file, a, err)
	}
	x := make([]float64, 0, len(a.Channel(0)))
	for _, v := range a.Channel(0) {
		x = append(x, float64(v))
	}
	// Some one-second stretch (while all three were in) holds every tone.
	best := 0.0
	for off := 0; off+a.Rate <= len(x); off += a.Rate / 4 {
		best = max(best, leastShare(x[off:off+a.Rate], a.Rate, tones...))
	}
	if best < 0.15 {
		t.Fatalf("room recording (%d samples): no second holds all of %v Hz (best least share %.2f)", len(x), tones, best)
	}
}

// leastShare is the smallest share any of freqs has of their total power in x.
func leastShare(x []float64, rate int, freqs ...float64) float64 {
	var total float64
	power := make([]float64, len(freqs))
	for i, f := range freqs {
		power[i] = goertzelPower(x, rate, f)
		total += power[i]
	}
	if total == 0 {
		return 0
	}
	least := 1.0
	for _, p := range power {
		least = min(least, p/total)
	}
	return least
}
