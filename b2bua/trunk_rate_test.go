package b2bua

import (
	"testing"
	"time"
)

// TestTrunkRate: a bucket of max_cps 2 lets 2 calls through at once, then
// one every half second; a fraction below 1 (0.5) lets one call through
// every 2 s; 0 is unlimited.
func TestTrunkRate(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := newTrunkRate(2)
	for i, c := range []struct {
		ms   int
		want bool
	}{{0, true}, {0, true}, {0, false}, {100, false}, {500, true}, {600, false}, {1000, true}, {5000, true}, {5000, true}, {5000, false}} {
		if got := r.take(at(c.ms)); got != c.want {
			t.Fatalf("call %d at %d ms: %v, want %v", i, c.ms, got, c.want)
		}
	}
	half := newTrunkRate(0.5)
	if !half.take(at(0)) || half.take(at(1000)) || !half.ready(at(2000)) || !half.take(at(2000)) {
		t.Fatal("max_cps 0.5: want one call, then the next after 2 s")
	}
	var none *trunkRate
	if !none.take(at(0)) || !newTrunkRate(0).take(at(0)) || !none.ready(at(0)) {
		t.Fatal("no limit refused a call")
	}
}
