package registrar

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/auth"
)

// Config configures a Registrar.
type Config struct {
	// StateDir holds bindings.json, the persisted bindings.
	StateDir string
	// Domain is the SIP domain of the addresses of record (for logs).
	Domain string
	// MinExpires is the shortest registration accepted (423 below it).
	MinExpires int
	// MaxExpires is the longest registration granted; longer ones are clamped.
	MaxExpires int
	// DefaultExpires applies when the request gives no expiry.
	DefaultExpires int
	// MaxContacts bounds the bindings of one user (default 10). When a new
	// contact would exceed it, the user's least recently refreshed binding
	// is dropped.
	MaxContacts int
	// SweepInterval is how often expired bindings are pruned from memory and
	// the state file (default 30s; negative disables the sweeper, which
	// tests do: expired bindings are never returned either way).
	SweepInterval time.Duration
	// FlowTimer is the keep-alive interval in seconds asked of RFC 5626
	// outbound UAs (the Flow-Timer header; default DefaultFlowTimer).
	FlowTimer int
}

// Binding is one registered contact of a user (RFC 3261 §10.3).
type Binding struct {
	// User is the address-of-record's user part (the authenticated user).
	User string `json:"user"`
	// Contact is the Contact URI the user registered.
	Contact string `json:"contact"`
	// Source is the ip:port the REGISTER came from: requests for a phone
	// behind NAT go there (over the same connection for TCP), not to Contact.
	Source string `json:"source"`
	// Transport is the transport the REGISTER arrived on ("UDP", "TCP").
	Transport string `json:"transport"`
	// Expires is when the binding lapses.
	Expires time.Time `json:"expires"`
	// Q is the contact's preference (0..1; 1 when the contact gave none).
	Q float64 `json:"q"`
	// CallID and CSeq are of the REGISTER that last refreshed the binding,
	// for RFC 3261 §10.3 step 7 ordering.
	CallID string `json:"call_id"`
	CSeq   uint32 `json:"cseq"`
	// Instance is the contact's +sip.instance parameter (RFC 5626), if any.
	Instance string `json:"instance,omitempty"`
	// UserAgent is the registering device's User-Agent header, for operators.
	UserAgent string `json:"user_agent,omitempty"`
	// RegID is the contact's reg-id when it registered an RFC 5626 flow
	// (outbound.go); TempGRUU is its temporary GRUU token (gruu.go).
	RegID    string `json:"reg_id,omitempty"`
	TempGRUU string `json:"temp_gruu,omitempty"`
	// Updated is when the binding was last refreshed.
	Updated time.Time `json:"updated"`

	key string // contact URI comparison key (RFC 3261 §19.1.4), not persisted
}

// Registrar keeps the bindings of registered users: it answers REGISTER,
// serves lookups for routing and persists bindings across restarts.
type Registrar struct {
	auth *auth.Authenticator
	now  func() time.Time
	log  *slog.Logger
	path string

	mu      sync.Mutex
	cfg     Config
	users   map[string][]Binding // user → bindings, unsorted
	version uint64               // bumped on every change
	written uint64               // version last persisted

	sharing *sharing // shared store, nil for memory only (store_shared.go)

	dirty    chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	closing  sync.Once
	closeErr error
}

// bindingsFile is the name, under StateDir, of the persisted bindings.
const bindingsFile = "bindings.json"

// New returns a Registrar that authenticates with a (digest, RFC 3261 §22)
// and loads the bindings persisted under cfg.StateDir. now is the clock (nil
// means time.Now). Close it to stop its goroutine and flush bindings.
func New(cfg Config, a *auth.Authenticator, now func() time.Time, log *slog.Logger) (*Registrar, error) {
	if a == nil {
		return nil, fmt.Errorf("registrar: nil authenticator")
	}
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("registrar: empty state dir")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = withDefaults(cfg)
	if cfg.MinExpires < 1 || cfg.MaxExpires < cfg.MinExpires || cfg.DefaultExpires < cfg.MinExpires || cfg.DefaultExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("registrar: inconsistent expires bounds min=%d max=%d default=%d",
			cfg.MinExpires, cfg.MaxExpires, cfg.DefaultExpires)
	}
	r := &Registrar{
		auth:  a,
		now:   now,
		log:   log.With("component", "registrar"),
		path:  filepath.Join(cfg.StateDir, bindingsFile),
		cfg:   cfg,
		users: make(map[string][]Binding),
		dirty: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	r.wg.Add(1)
	go r.run(cfg.SweepInterval)
	return r, nil
}

func withDefaults(cfg Config) Config {
	if cfg.MinExpires == 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.DefaultExpires == 0 {
		cfg.DefaultExpires = min(max(600, cfg.MinExpires), cfg.MaxExpires)
	}
	if cfg.MaxContacts <= 0 {
		cfg.MaxContacts = 10
	}
	if cfg.FlowTimer <= 0 {
		cfg.FlowTimer = DefaultFlowTimer
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 30 * time.Second
	}
	return cfg
}

// SetLimits replaces the expiry bounds and MaxContacts (for a SIGHUP
// reload). StateDir and SweepInterval keep their values.
func (r *Registrar) SetLimits(cfg Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg.StateDir, cfg.SweepInterval = r.cfg.StateDir, r.cfg.SweepInterval
	cfg = withDefaults(cfg)
	if cfg.MinExpires < 1 || cfg.MaxExpires < cfg.MinExpires || cfg.DefaultExpires < cfg.MinExpires || cfg.DefaultExpires > cfg.MaxExpires {
		return fmt.Errorf("registrar: inconsistent expires bounds min=%d max=%d default=%d",
			cfg.MinExpires, cfg.MaxExpires, cfg.DefaultExpires)
	}
	r.cfg = cfg
	return nil
}

// Lookup returns user's unexpired bindings, highest q first (then the most
// recently refreshed first). The slice is a copy.
func (r *Registrar) Lookup(user string) []Binding {
	now := r.now()
	r.mu.Lock()
	bs := live(r.users[user], now)
	r.mu.Unlock()
	if len(bs) == 0 && r.sharing != nil {
		return r.lookupShared(user, now) // registered through another instance?
	}
	sortBindings(bs)
	return bs
}

// Bindings returns every unexpired binding, by user then as Lookup orders
// them (for status pages and tests).
func (r *Registrar) Bindings() []Binding {
	now := r.now()
	r.mu.Lock()
	users := make([]string, 0, len(r.users))
	for u := range r.users {
		users = append(users, u)
	}
	var out []Binding
	slices.Sort(users)
	for _, u := range users {
		bs := live(r.users[u], now)
		sortBindings(bs)
		out = append(out, bs...)
	}
	r.mu.Unlock()
	return out
}

// live returns a copy of the bindings in bs that have not expired at now.
func live(bs []Binding, now time.Time) []Binding {
	out := make([]Binding, 0, len(bs))
	for _, b := range bs {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

func sortBindings(bs []Binding) {
	slices.SortStableFunc(bs, func(a, b Binding) int {
		switch {
		case a.Q > b.Q:
			return -1
		case a.Q < b.Q:
			return 1
		}
		return b.Updated.Compare(a.Updated)
	})
}

// changed records a change (r.mu held) and wakes the persister.
func (r *Registrar) changed() {
	r.version++
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// run persists changes and sweeps expired bindings until Close.
func (r *Registrar) run(sweep time.Duration) {
	defer r.wg.Done()
	var tick <-chan time.Time
	if sweep > 0 {
		t := time.NewTicker(sweep)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.dirty:
			r.persistLogged()
		case <-tick:
			r.Sweep()
			r.persistLogged()
		case <-r.done:
			return
		}
	}
}

func (r *Registrar) persistLogged() {
	if err := r.persist(); err != nil {
		r.log.Error("persisting bindings failed; will retry on next change", "file", r.path, "err", err)
	}
}

// Sweep removes expired bindings now (the sweeper goroutine calls it every
// SweepInterval). It reports how many it removed.
func (r *Registrar) Sweep() int {
	now := r.now()
	return r.remove("binding expired", func(b Binding) bool { return !b.Expires.After(now) })
}

// remove deletes the bindings gone says are, logging each with what; it
// reports how many.
func (r *Registrar) remove(what string, gone func(Binding) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for u, bs := range r.users {
		keep := bs[:0]
		for _, b := range bs {
			if gone(b) {
				n++
				r.log.Info(what, "user", u, "contact", b.Contact, "source", b.Source, "transport", b.Transport)
			} else {
				keep = append(keep, b)
			}
		}
		if len(keep) == 0 {
			delete(r.users, u)
		} else {
			r.users[u] = keep
		}
	}
	if n > 0 {
		r.changed()
	}
	return n
}

// Close stops the sweeper and writes the bindings one last time. It returns
// the error of that final write; later calls return the same.
func (r *Registrar) Close() error {
	r.closing.Do(func() {
		close(r.done)
		r.wg.Wait()
		r.closeErr = r.persist()
	})
	return r.closeErr
}
