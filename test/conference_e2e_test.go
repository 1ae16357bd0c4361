package test

import (
	"fmt"
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
// dial the same room; each hears the other two and not its own (N-1
// mixing), and each call leaves one CDR naming the room.
func TestConferenceThree(t *testing.T) {
	users := []string{"1000", "1001", "1002"}
	tones := []float64{440, 1000, 1800}
	sb := startSB(t, SBOptions{Users: users, Routes: `  - {match: '^1\d{3}$', to: user}
  - {match: '^3\d{3}$', to: conference}`})
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
	for _, r := range recs {
		if r.Service != "conference" || r.Room != "3000" || r.Disposition != "answered" {
			t.Fatalf("CDR %+v", r)
		}
	}
}
