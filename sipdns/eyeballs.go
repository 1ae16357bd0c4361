package sipdns

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Interleave orders the addresses of one host for Happy Eyeballs (RFC 8305
// §4): IPv6 first, then alternating families, keeping each family's own
// order. The caller races or staggers its attempts along the result.
func Interleave(addrs []netip.Addr) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, a := range addrs {
		if a.Unmap().Is4() {
			v4 = append(v4, a.Unmap())
		} else {
			v6 = append(v6, a)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(v6) || i < len(v4); i++ {
		if i < len(v6) {
			out = append(out, v6[i])
		}
		if i < len(v4) {
			out = append(out, v4[i])
		}
	}
	return out
}

// DefaultAttemptDelay is the Connection Attempt Delay of RFC 8305 §5: how
// long an attempt has before the next address is tried beside it.
const DefaultAttemptDelay = 250 * time.Millisecond

// ErrSlower marks an attempt still under way when another one won the
// race (its context is cancelled).
var ErrSlower = errors.New("happy eyeballs: another address connected first")

// ErrNotTried marks an address the race never reached.
var ErrNotTried = errors.New("happy eyeballs: not tried")

// Race makes connection attempts to n addresses, in the order given
// (Interleave's), after RFC 8305 §5: the first at once, each next one
// when the one before has not connected within delay, or at once when it
// failed. The first attempt to connect wins: Race returns its index and
// connection and cancels the context of those still under way. A loser
// that connects all the same is handed to drop with its index (from a goroutine of its
// own), so that it is closed. Each dial runs on a goroutine of its own.
//
// outcome[i] is nil for the winner, the error of a failed attempt,
// ErrSlower for an attempt overtaken, ErrNotTried for an address never
// reached, ctx's error for one still under way when ctx ended. With no
// winner (all failed, or ctx ended) the index is -1.
func Race[C any](ctx context.Context, n int, delay time.Duration, dial func(ctx context.Context, i int) (C, error), drop func(i int, c C)) (winner int, conn C, outcome []error) {
	type result struct {
		i   int
		c   C
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, n) // buffered: a late attempt never blocks
	outcome = make([]error, n)
	for i := range outcome {
		outcome[i] = ErrNotTried
	}
	next, pending := 0, 0
	start := func() {
		i := next
		next++
		pending++
		outcome[i] = ErrSlower
		go func() {
			c, err := dial(ctx, i)
			results <- result{i, c, err}
		}()
	}
	// dropLate closes what the attempts left under way connect anyway.
	dropLate := func() {
		if pending == 0 {
			return
		}
		left := pending
		go func() {
			for ; left > 0; left-- {
				if r := <-results; r.err == nil && drop != nil {
					drop(r.i, r.c)
				}
			}
		}()
	}
	if n == 0 {
		return -1, conn, outcome
	}
	start()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for pending > 0 {
		select {
		case r := <-results:
			pending--
			if r.err == nil {
				outcome[r.i] = nil
				cancel()
				dropLate()
				return r.i, r.c, outcome
			}
			outcome[r.i] = r.err
			if next < n {
				start()
				timer.Reset(delay) // Go 1.23 timers: no stale tick to drain
			}
		case <-timer.C:
			if next < n {
				start()
				timer.Reset(delay)
			}
		case <-ctx.Done():
			for i := range outcome[:next] {
				if outcome[i] == ErrSlower {
					outcome[i] = ctx.Err() // still under way: timed out
				}
			}
			dropLate()
			return -1, conn, outcome
		}
	}
	return -1, conn, outcome
}
