package b2bua

import (
	"sync"
	"time"
)

// trunkRate is a trunk's calls-per-second limit (trunks[].max_cps): a
// token bucket that holds up to one second of calls (at least one) and
// refills continuously, so a carrier that allows N new calls a second
// never sees more, even in a burst. Routing passes over a trunk whose
// bucket is empty as over a full one (trunk_policy.go); a call routed to
// it alone gets 503.
type trunkRate struct {
	mu     sync.Mutex
	rate   float64 // calls per second; 0: unlimited
	tokens float64
	last   time.Time
}

func newTrunkRate(cps float64) *trunkRate {
	return &trunkRate{rate: cps, tokens: max(cps, 1)}
}

// refill adds the tokens earned since the last call. r.mu is held.
func (r *trunkRate) refill(now time.Time) {
	if !r.last.IsZero() {
		r.tokens = min(max(r.rate, 1), r.tokens+now.Sub(r.last).Seconds()*r.rate)
	}
	r.last = now
}

// ready reports whether a call may start now, without taking its token.
func (r *trunkRate) ready(now time.Time) bool { return r.try(now, false) }

// take takes a call's token; false when none is left.
func (r *trunkRate) take(now time.Time) bool { return r.try(now, true) }

// try refills the bucket to now and reports whether it holds a token,
// taking it when take is set.
func (r *trunkRate) try(now time.Time, take bool) bool {
	if r == nil || r.rate == 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refill(now)
	if r.tokens < 1 {
		return false
	}
	if take {
		r.tokens--
	}
	return true
}
