package guard

import (
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// maxTracked bounds the sources (and, separately, users) Bans keeps.
const maxTracked = 1 << 16

// BanConfig sets the failed-digest limits.
type BanConfig struct {
	// Failures bans a source after this many failed digests within Window.
	Failures int
	// UserFailures bans a user (from every source) after this many failed
	// digests against it within Window; 0 disables the per-user limit.
	UserFailures int
	// Window is the counting window, started by the first failure.
	Window time.Duration
	// Ban is the first ban's length; each further ban of the same source
	// doubles it, up to BanMax.
	Ban, BanMax time.Duration
}

// record is one source's or user's failures and bans.
type record struct {
	start    time.Time // first failure of the current window
	failures int
	until    time.Time // banned until (zero: not banned)
	bans     int       // bans so far (the next lasts Ban·2^bans)
	last     time.Time // last failure or ban end, for expiry
}

// Bans counts failed digest attempts per source address and per user and
// bans those over the limit (RFC 3261 §22 leaves this to the server; this
// is what fail2ban and Kamailio's htable-based bans do in-process).
type Bans struct {
	cfg    BanConfig
	now    func() time.Time
	events *Events

	mu      sync.Mutex
	sources map[netip.Addr]*record
	users   map[string]*record
	untrack int // failures not tracked because the tables were full
}

// NewBans returns a Bans; now is the clock (nil: time.Now), events where
// bans and failures are logged (nil: nowhere).
func NewBans(cfg BanConfig, now func() time.Time, events *Events) *Bans {
	if now == nil {
		now = time.Now
	}
	return &Bans{cfg: cfg, now: now, events: events, sources: map[netip.Addr]*record{}, users: map[string]*record{}}
}

// SetConfig replaces the limits (reload); records are kept.
func (b *Bans) SetConfig(cfg BanConfig) {
	b.mu.Lock()
	b.cfg = cfg
	b.mu.Unlock()
}

// Blocked reports whether src, or user (when not empty), is banned now.
// A ban that has run out is lifted here (event=unban).
func (b *Bans) Blocked(src netip.Addr, user string) bool {
	now := b.now()
	b.mu.Lock()
	srcBanned, srcLifted := b.checkLocked(b.sources[src], now)
	var userBanned, userLifted bool
	if user != "" {
		userBanned, userLifted = b.checkLocked(b.users[user], now)
	}
	b.mu.Unlock()
	if srcLifted {
		b.events.Log(EventUnban, src)
	}
	if userLifted {
		b.events.Log(EventUnban, netip.Addr{}, "user", user)
	}
	if srcBanned || userBanned {
		b.events.Log(EventBlocked, src, "user", user)
	}
	return srcBanned || userBanned
}

// checkLocked reports whether r is banned at now, and whether its ban ran
// out just now (then it is cleared).
func (b *Bans) checkLocked(r *record, now time.Time) (banned, lifted bool) {
	if r == nil || r.until.IsZero() {
		return false, false
	}
	if now.Before(r.until) {
		return true, false
	}
	r.until = time.Time{}
	r.failures = 0
	r.last = now
	return false, true
}

// Failed records a failed digest from src claiming user; known says whether
// the user exists (unknown users are not tracked per user, so a scanner
// cannot fill the table with invented names). It logs the failure and any
// ban it causes.
func (b *Bans) Failed(src netip.Addr, user string, known bool) {
	now := b.now()
	event := EventAuthFailure
	if !known {
		event = EventUnknownUser
	}
	b.events.Log(event, src, "user", user)
	b.mu.Lock()
	cfg := b.cfg
	srcBan := failLocked(b, b.sources, src, now, cfg.Failures)
	var userBan time.Duration
	if known && user != "" && cfg.UserFailures > 0 {
		userBan = failLocked(b, b.users, user, now, cfg.UserFailures)
	}
	b.mu.Unlock()
	if srcBan > 0 {
		b.events.Log(EventBan, src, "user", user, "for", strconv.FormatInt(int64(srcBan/time.Second), 10)+"s")
	}
	if userBan > 0 {
		b.events.Log(EventBan, src, "banned_user", user, "for", strconv.FormatInt(int64(userBan/time.Second), 10)+"s")
	}
}

// failLocked counts one failure of key in m and returns the ban it starts
// (0: none).
func failLocked[K comparable](b *Bans, m map[K]*record, key K, now time.Time, limit int) time.Duration {
	r := m[key]
	if r == nil {
		if len(m) >= maxTracked {
			b.sweepLocked(now)
			if len(m) >= maxTracked {
				b.untrack++
				return 0
			}
		}
		r = &record{}
		m[key] = r
	}
	r.last = now
	if !r.until.IsZero() && now.Before(r.until) {
		return 0 // already banned
	}
	if r.failures == 0 || now.Sub(r.start) >= b.cfg.Window {
		r.start, r.failures = now, 0
	}
	r.failures++
	if limit <= 0 || r.failures < limit {
		return 0
	}
	d := b.cfg.Ban
	for i := 0; i < r.bans && d < b.cfg.BanMax; i++ {
		d *= 2
	}
	if b.cfg.BanMax > 0 && d > b.cfg.BanMax {
		d = b.cfg.BanMax
	}
	r.bans++
	r.failures = 0
	r.until = now.Add(d)
	return d
}

// sweepLocked forgets records that are not banned and have been quiet for
// longer than BanMax (after which their ban count no longer matters).
func (b *Bans) sweepLocked(now time.Time) {
	keep := b.cfg.BanMax
	if keep < b.cfg.Window {
		keep = b.cfg.Window
	}
	for k, r := range b.sources {
		if (r.until.IsZero() || !now.Before(r.until)) && now.Sub(r.last) > keep {
			delete(b.sources, k)
		}
	}
	for k, r := range b.users {
		if (r.until.IsZero() || !now.Before(r.until)) && now.Sub(r.last) > keep {
			delete(b.users, k)
		}
	}
}

// Untracked is how many failures were not counted because the tables were full.
func (b *Bans) Untracked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.untrack
}
