package sipdns

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/sipdns/dnstest"
)

// zone is the test DNS server (package dnstest): miekg/dns's own
// dns.Server on 127.0.0.1 answering from a table of records.
type zone = dnstest.Zone

// startZone serves the records (zone-file lines, relative to origin) with an
// SOA whose MINIMUM is negTTL seconds.
func startZone(t testing.TB, origin string, negTTL uint32, lines ...string) *zone {
	return dnstest.Start(t, origin, negTTL, lines...)
}

// fakeClock is a settable clock for cache and hold-down tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
