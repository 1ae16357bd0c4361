package b2bua

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestGlareDelay: the RFC 3261 §14.1 ranges, in 10 ms units: 2.1-4 s for
// the owner of the Call-ID, 0-2 s for the other side, both ends reached.
func TestGlareDelay(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		owner    bool
		min, max time.Duration
	}{{true, 2100 * time.Millisecond, 4 * time.Second}, {false, 0, 2 * time.Second}} {
		lo, hi := time.Hour, time.Duration(0)
		for range 20000 {
			d := glareDelay(tc.owner, r)
			if d%(10*time.Millisecond) != 0 {
				t.Fatalf("delay %v not in 10 ms units", d)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo != tc.min || hi != tc.max {
			t.Errorf("owner=%v: delays %v..%v, want %v..%v", tc.owner, lo, hi, tc.min, tc.max)
		}
	}
}
