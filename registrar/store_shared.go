package registrar

import (
	"context"
	"sync"
	"time"
)

// Shared registrations: several Switchboard instances behind one front door
// (Kamailio's dispatcher, configs/kamailio) each take some of the REGISTERs,
// yet a call for a user may arrive at any of them. A Shared store (the
// PostgreSQL one is pgrecords.Registrations, chosen by registrar.store)
// keeps every instance's bindings where the others find them:
//
//	REGISTER ─► commit in memory ─► 200          (as without a store)
//	                 └─► Shared.Put(user, current, gone)   write-through, never blocks
//	Lookup(user) ─► bindings in memory? ─► those  (the fast path)
//	                 └─ none ─► Shared.Get(user)  lookup on miss, bounded by lookupTimeout
//
// Memory stays the fast path: a user registered through this instance is
// found without asking the store. Connection-bound bindings (WebSocket,
// flow.go) are never shared: only the instance holding the connection can
// reach them. A store that fails is left alone for storeRetry (one log
// line), so a database that is down costs calls to remote users their
// lookup, not every call a timeout.

// Shared is a registration store every instance sees. Put is called with
// the Registrar's lock held: it must only copy and queue.
type Shared interface {
	// Put records a REGISTER's outcome for user: put holds the user's
	// bindings now (new and refreshed), gone those it removed. It must not
	// block the REGISTER (queue and write behind).
	Put(user string, put, gone []Binding)
	// Get returns user's bindings unexpired at now, registered through
	// any instance.
	Get(ctx context.Context, user string, now time.Time) ([]Binding, error)
}

// lookupTimeout bounds a lookup on miss; storeRetry is how long a failed
// store is not asked again.
const (
	lookupTimeout = time.Second
	storeRetry    = 5 * time.Second
)

// sharing is the Registrar's link to its Shared store (nil: memory only).
type sharing struct {
	store Shared

	mu       sync.Mutex
	failedAt time.Time // last failed Get; zero when the store answers
}

// Share makes the registrar write its bindings through to st and look
// users it does not hold up in st. Call it before serving requests.
func (r *Registrar) Share(st Shared) {
	r.sharing = &sharing{store: st}
}

// ContactKey is the binding's contact comparison key (RFC 3261 §19.1.4):
// two bindings of a user with the same key are one binding.
func (b Binding) ContactKey() string {
	if b.key != "" {
		return b.key
	}
	k, err := contactKey(b.Contact)
	if err != nil {
		return b.Contact
	}
	return k
}

// share writes a committed REGISTER through to the store: next are the
// user's bindings after it, before those before it. It runs under r.mu
// (next is the slice kept in r.users); Put copies and does not block.
func (r *Registrar) share(user string, before, next []Binding) {
	sh := r.sharing
	if sh == nil {
		return
	}
	kept := make(map[string]bool, len(next))
	var put, gone []Binding
	for _, b := range next {
		kept[b.key] = true
		if !b.ConnectionBound() {
			put = append(put, b)
		}
	}
	for _, b := range before {
		if !kept[b.key] && !b.ConnectionBound() {
			gone = append(gone, b)
		}
	}
	if len(put) > 0 || len(gone) > 0 {
		sh.store.Put(user, put, gone)
	}
}

// lookupShared asks the store for user's bindings (Lookup found none in
// memory). A failing store is skipped for storeRetry.
func (r *Registrar) lookupShared(user string, now time.Time) []Binding {
	sh := r.sharing
	sh.mu.Lock()
	skip := !sh.failedAt.IsZero() && now.Sub(sh.failedAt) < storeRetry
	sh.mu.Unlock()
	if skip {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	bs, err := sh.store.Get(ctx, user, now)
	cancel()
	sh.mu.Lock()
	wasDown := !sh.failedAt.IsZero()
	if err != nil {
		sh.failedAt = now
	} else {
		sh.failedAt = time.Time{}
	}
	sh.mu.Unlock()
	switch {
	case err != nil && !wasDown:
		r.log.Error("shared registration store failed; users registered elsewhere are not found for a while",
			"user", user, "retry_in", storeRetry, "err", err)
		return nil
	case err != nil:
		return nil
	case wasDown:
		r.log.Info("shared registration store back")
	}
	out := bs[:0]
	for _, b := range bs {
		if b.User == user && b.Expires.After(now) && !b.ConnectionBound() {
			b.key = b.ContactKey()
			out = append(out, b)
		}
	}
	sortBindings(out)
	return out
}
