package guard

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// rateShards spreads sources over this many locks.
const rateShards = 64

// RateConfig sets the per-source request rate.
type RateConfig struct {
	// Rate is the sustained requests per second one source may send.
	Rate float64
	// Burst is the bucket size: requests a quiet source may send at once.
	Burst int
	// MaxSources bounds the sources tracked (all shards together).
	MaxSources int
}

// bucket is one source's token bucket (stored by value: no allocation once
// a source is known).
type bucket struct {
	tokens  float64
	last    int64 // unix nanoseconds of the last refill
	limited bool  // the last request was refused
}

type rateShard struct {
	mu sync.Mutex
	m  map[netip.Addr]bucket
	_  [40]byte // keep shards on separate cache lines
}

// RateLimiter is a token bucket per source address in a bounded, sharded
// map, as Kamailio's pike module keeps one: each request takes a token, a
// source gains Rate tokens per second up to Burst, and an empty bucket means
// the request is refused. Idle sources (a full bucket) are forgotten when
// a shard is full.
type RateLimiter struct {
	cfg      atomic.Pointer[RateConfig]
	now      func() time.Time
	shards   [rateShards]rateShard
	overflow atomic.Uint64
}

// NewRateLimiter returns a RateLimiter with the clock now (nil: time.Now).
func NewRateLimiter(cfg RateConfig, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	r := &RateLimiter{now: now}
	for i := range r.shards {
		r.shards[i].m = make(map[netip.Addr]bucket)
	}
	r.SetConfig(cfg)
	return r
}

// SetConfig replaces the rate (reload).
func (r *RateLimiter) SetConfig(cfg RateConfig) {
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 1 << 16
	}
	r.cfg.Store(&cfg)
}

// Allow takes one token from src's bucket and reports whether there was
// one. A Rate of 0 or less allows everything.
func (r *RateLimiter) Allow(src netip.Addr) bool {
	ok, _ := r.take(src)
	return ok
}

// take is Allow that also reports whether this refusal is the first of a
// run (so that a flood is logged once, not per packet).
func (r *RateLimiter) take(src netip.Addr) (allowed, first bool) {
	cfg := r.cfg.Load()
	if cfg.Rate <= 0 {
		return true, false
	}
	now := r.now().UnixNano()
	sh := &r.shards[shardOf(src)]
	sh.mu.Lock()
	b, ok := sh.m[src]
	if !ok {
		if len(sh.m) >= cfg.MaxSources/rateShards+1 {
			sweepShard(sh, cfg, now)
			if len(sh.m) >= cfg.MaxSources/rateShards+1 {
				// Full of active sources: let it through untracked rather
				// than evict one that is being limited.
				sh.mu.Unlock()
				r.overflow.Add(1)
				return true, false
			}
		}
		b = bucket{tokens: float64(cfg.Burst), last: now}
	} else if dt := now - b.last; dt > 0 {
		b.tokens += float64(dt) * cfg.Rate / 1e9
		if b.tokens > float64(cfg.Burst) {
			b.tokens = float64(cfg.Burst)
		}
		b.last = now
	}
	allowed = b.tokens >= 1
	if allowed {
		b.tokens--
	}
	first = !allowed && !b.limited
	b.limited = !allowed
	sh.m[src] = b
	sh.mu.Unlock()
	return allowed, first
}

// sweepShard forgets sources whose bucket has refilled (they are as good as new).
func sweepShard(sh *rateShard, cfg *RateConfig, now int64) {
	full := int64(float64(cfg.Burst) / cfg.Rate * 1e9)
	for k, b := range sh.m {
		if now-b.last >= full {
			delete(sh.m, k)
		}
	}
}

// Overflow is how many requests passed untracked because a shard was full.
func (r *RateLimiter) Overflow() uint64 { return r.overflow.Load() }

// shardOf hashes an address (FNV-1a over its 16 bytes) to a shard.
func shardOf(a netip.Addr) int {
	b := a.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % rateShards)
}
