package b2bua

import "time"

// clock is a call's time source: the timers of its state machine (ring,
// 2xx and reliable-provisional retransmission, session timers, linger...)
// and the deadlines they check. Calls run on the real clock; the state
// machine's unit tests run them on a fake one they advance by hand
// (call_state_test.go), so every timer path is tested without sleeping.
type clock interface {
	Now() time.Time
	// AfterFunc runs f in its own goroutine (or, on a fake clock, when
	// the test advances past d) unless stopped first.
	AfterFunc(d time.Duration, f func()) stopper
}

// stopper is a pending timer.
type stopper interface{ Stop() bool }

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// now is the call's current time.
func (c *Call) now() time.Time {
	if c.clock == nil {
		return time.Now()
	}
	return c.clock.Now()
}

// afterFunc starts one of the call's timers.
func (c *Call) afterFunc(d time.Duration, f func()) stopper {
	if c.clock == nil {
		return time.AfterFunc(d, f)
	}
	return c.clock.AfterFunc(d, f)
}
