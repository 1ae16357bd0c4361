package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// windowTones returns, for each half second of x, the dominant of the
// candidate frequencies (0 when the window is silent or no candidate
// holds 90 % of their power).
func windowTones(x []float64, rate int, candidates ...float64) []float64 {
	n := rate / 2
	var out []float64
	for i := 0; i+n <= len(x); i += n {
		w := x[i : i+n]
		f, share := dominant(w, rate, candidates...)
		if rms(w) < 500 || share < 0.9 {
			f = 0
		}
		out = append(out, f)
	}
	return out
}

// sequence reports whether want appear in seq in order (each a run of at
// least two windows, other values between them allowed).
func sequence(seq []float64, want ...float64) bool {
	i := 0
	for j := 0; j+1 < len(seq) && i < len(want); j++ {
		if seq[j] == want[i] && seq[j+1] == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestMusicOnHold (issue 9 item 2, hold: moh): the caller holds; the
// callee hears the music on hold file instead of the caller, and is not
// re-INVITEd; on resume both hear each other again.
func TestMusicOnHold(t *testing.T) {
	moh := filepath.Join(t.TempDir(), "moh.wav")
	if err := writeToneChannels(moh, 44100, 2, 600, 3, 0.3); err != nil {
		t.Fatal(err)
	}
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Inactivity: "2s",
		Routes: `  - {match: '^1\d{3}$', to: user, hold: moh}`,
		Extra:  fmt.Sprintf("services:\n  moh: %s\n", moh)})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{"g711"}})
	establish(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort))
	time.Sleep(2 * time.Second)
	alice.Command("hold")
	time.Sleep(3500 * time.Millisecond) // longer than the inactivity timeout
	if !strings.Contains(sb.Output(), "music on hold to the held party") {
		t.Fatalf("no music on hold\n%s", tail(sb.Output(), 3000))
	}
	alice.Command("resume")
	time.Sleep(2500 * time.Millisecond)
	alice.Command("hangup")
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("callee did not see the hangup")
	}
	x, rate := bob.Heard()
	bobSeq := windowTones(x, rate, 440, 600, 1000)
	if !sequence(bobSeq, 440, 600, 440) {
		t.Fatalf("callee heard (per half second) %v: want the caller, the music on hold, the caller again", bobSeq)
	}
	y, rate := alice.Heard()
	if aliceSeq := windowTones(y, rate, 440, 600, 1000); !sequence(aliceSeq, 1000, 1000) || aliceSeq[len(aliceSeq)-2] != 1000 {
		t.Fatalf("caller heard %v: want the callee, and the callee again after resuming", aliceSeq)
	}
	// baresip logs "stream: update" for each offer/answer of a call: the
	// held party's only one is the initial INVITE's (the caller's log has
	// three: INVITE, hold, resume).
	if n, m := strings.Count(bob.out.String(), "stream: update"), strings.Count(alice.out.String(), "stream: update"); n != 1 || m != 3 {
		t.Fatalf("offer/answer exchanges: held party %d (want 1: not re-INVITEd), holder %d (want 3)", n, m)
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].HangupSide != "caller" {
		t.Fatalf("CDRs %+v (the inactivity timer must pause while held)", recs)
	}
}
