package guard

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// Config is the whole of the guard's settings (config.Security built).
type Config struct {
	Bans BanConfig
	Rate RateConfig
	// DropUserAgents are lower-case User-Agent substrings whose requests
	// are dropped.
	DropUserAgents []string
	// Trusted are sources exempt from the rate limit and the scanner drop
	// (trunks' trusted ranges and security.trusted).
	Trusted []netip.Prefix
	// Classes are the destination classes.
	Classes []Class
}

// Verdict is what Admit decided for a request.
type Verdict int

// Verdicts of Admit.
const (
	// Pass: handle the request.
	Pass Verdict = iota
	// Scanner: a scanner's User-Agent; drop without an answer.
	Scanner
	// Limited: the source is over its rate; drop (UDP) or 503 (streams).
	Limited
)

// Guard bundles the per-request checks with the bans and fraud limits.
type Guard struct {
	cfg    atomic.Pointer[Config]
	drop   atomic.Pointer[scanners] // cfg.DropUserAgents compiled
	events *Events

	// Bans holds failed digests and bans (auth.Limiter).
	Bans *Bans
	// Rate is the per-source request rate.
	Rate *RateLimiter
	// Fraud holds per-user call limits.
	Fraud *Fraud
}

// New returns a Guard logging to events, with the clock now (nil: time.Now).
func New(cfg Config, now func() time.Time, events *Events) *Guard {
	g := &Guard{
		events: events,
		Bans:   NewBans(cfg.Bans, now, events),
		Rate:   NewRateLimiter(cfg.Rate, now),
		Fraud:  NewFraud(cfg.Classes, now, events),
	}
	g.cfg.Store(&cfg)
	g.setDrop(cfg.DropUserAgents)
	return g
}

// SetConfig replaces every setting atomically enough for a reload: each
// part swaps on its own; records (bans, buckets, call counts) are kept.
func (g *Guard) SetConfig(cfg Config) {
	g.cfg.Store(&cfg)
	g.setDrop(cfg.DropUserAgents)
	g.Bans.SetConfig(cfg.Bans)
	g.Rate.SetConfig(cfg.Rate)
	g.Fraud.SetClasses(cfg.Classes)
}

func (g *Guard) setDrop(pats []string) {
	s := compileScanners(pats)
	g.drop.Store(&s)
}

// Trusted reports whether src is in a trusted range.
func (g *Guard) Trusted(src netip.Addr) bool {
	src = src.Unmap()
	for _, p := range g.cfg.Load().Trusted {
		if p.Contains(src) {
			return true
		}
	}
	return false
}

// Admit runs the per-request checks for a request from src with the given
// User-Agent (the hot path: no allocation). It logs what it refuses.
func (g *Guard) Admit(src netip.Addr, userAgent string) Verdict {
	if v := g.AdmitAgent(src, userAgent); v != Pass {
		return v
	}
	if !g.AdmitSource(src) {
		return Limited
	}
	return Pass
}

// AdmitAgent is Admit's scanner check alone: Scanner or Pass.
func (g *Guard) AdmitAgent(src netip.Addr, userAgent string) Verdict {
	if g.drop.Load().match(userAgent) && !g.Trusted(src) {
		g.events.Log(EventScanner, src, "ua", userAgent)
		return Scanner
	}
	return Pass
}

// AdmitSource is Admit's rate check alone, for a transport that applies it
// before parsing (the SIP read filter, on UDP: a flood then costs a bucket
// lookup per datagram, not a parse): false means over the rate (drop).
func (g *Guard) AdmitSource(src netip.Addr) bool {
	if g.Trusted(src) {
		return true
	}
	if ok, first := g.Rate.take(src); !ok {
		if first {
			g.events.Log(EventRateLimit, src) // once per run of refusals
		}
		return false
	}
	return true
}
