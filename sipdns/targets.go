package sipdns

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Targets remembers failed targets and holds them down for a while, so that
// the requests after a failure go to the next target first (RFC 3263 §4.3:
// a client moves on to the next target after a timeout, a transport error or
// a 503). One Targets serves every request to a destination (a trunk) or the
// whole process; it is safe for concurrent use.
type Targets struct {
	mu       sync.Mutex
	holdDown time.Duration
	now      func() time.Time
	until    map[holdKey]time.Time
}

// holdKey names a target for the hold-down: its transport and address.
type holdKey struct {
	transport Transport
	addr      netip.AddrPort
}

// NewTargets returns a hold-down list that avoids a failed target for
// holdDown when the failure gives no Retry-After. now is the clock; nil
// means time.Now.
func NewTargets(holdDown time.Duration, now func() time.Time) *Targets {
	if now == nil {
		now = time.Now
	}
	return &Targets{holdDown: holdDown, now: now, until: make(map[holdKey]time.Time)}
}

// Avoid holds t down until the given time. A later hold-down already in
// place is kept.
func (ts *Targets) Avoid(t Target, until time.Time) {
	k := holdKey{t.Transport, t.Addr}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if cur, ok := ts.until[k]; !ok || until.After(cur) {
		ts.until[k] = until
	}
}

// Fail records that a request to t failed: t is avoided for retryAfter (a
// 503's Retry-After, RFC 3261 §21.5.4) when it is positive, else for the
// configured hold-down.
func (ts *Targets) Fail(t Target, retryAfter time.Duration) {
	d := ts.holdDown
	if retryAfter > 0 {
		d = retryAfter
	}
	ts.Avoid(t, ts.now().Add(d))
}

// Avoided reports whether t is held down now.
func (ts *Targets) Avoided(t Target) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	until, ok := ts.until[holdKey{t.Transport, t.Addr}]
	return ok && ts.now().Before(until)
}

// Order splits list, keeping its order, into the targets to try (live) and
// those held down (held), the latter sorted by the end of their hold-down,
// soonest first: a caller tries live and, if it wants a last resort when
// every target is down, held. Expired hold-downs are forgotten.
func (ts *Targets) Order(list []Target) (live, held []Target) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.now()
	for k, until := range ts.until {
		if !now.Before(until) {
			delete(ts.until, k)
		}
	}
	for _, t := range list {
		if _, ok := ts.until[holdKey{t.Transport, t.Addr}]; ok {
			held = append(held, t)
		} else {
			live = append(live, t)
		}
	}
	slices.SortStableFunc(held, func(a, b Target) int {
		return ts.until[holdKey{a.Transport, a.Addr}].Compare(ts.until[holdKey{b.Transport, b.Addr}])
	})
	return live, held
}

// ByHost splits list into runs of consecutive targets that share a
// transport, host and port: the addresses of one SRV target (or of the URI's
// host), interleaved IPv6 first. A caller races or staggers the attempts
// within a run (Happy Eyeballs, RFC 8305 §5) and fails over between runs.
func ByHost(list []Target) [][]Target {
	var out [][]Target
	for i := 0; i < len(list); {
		j := i + 1
		for j < len(list) && list[j].Transport == list[i].Transport &&
			list[j].Host == list[i].Host && list[j].Addr.Port() == list[i].Addr.Port() {
			j++
		}
		out = append(out, list[i:j:j])
		i = j
	}
	return out
}

// Restore ends any hold-down of t: it answered again (a health check).
func (ts *Targets) Restore(t Target) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.until, holdKey{t.Transport, t.Addr})
}
