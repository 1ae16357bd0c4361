package sipdns

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// cacheKey names one question.
type cacheKey struct {
	name  string // canonical (lower-case, fully qualified)
	qtype uint16
}

// answer is what a question resolved to: the records of the asked type
// (empty for a negative answer) and whether the name does not exist.
type answer struct {
	rrs      []dns.RR
	nxdomain bool
	expires  time.Time
}

// cache holds answers until their TTL runs out. A positive answer lives for
// the smallest TTL of its records; a negative one (NXDOMAIN or NODATA) for
// the SOA's TTL or its MINIMUM field, whichever is smaller (RFC 2308 §5); a
// negative answer without an SOA is not cached (RFC 2308 §5).
type cache struct {
	mu      sync.Mutex
	entries map[cacheKey]answer
	max     int
	maxTTL  time.Duration
	now     func() time.Time
}

func newCache(max int, maxTTL time.Duration, now func() time.Time) *cache {
	return &cache{entries: make(map[cacheKey]answer), max: max, maxTTL: maxTTL, now: now}
}

// get returns the live answer for k.
func (c *cache) get(k cacheKey) (answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.entries[k]
	if !ok {
		return answer{}, false
	}
	if !c.now().Before(a.expires) {
		delete(c.entries, k)
		return answer{}, false
	}
	return a, true
}

// put stores a for ttl (capped at maxTTL); a zero ttl stores nothing.
func (c *cache) put(k cacheKey, a answer, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	ttl = min(ttl, c.maxTTL)
	now := c.now()
	a.expires = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
		// Still full: drop arbitrary entries (map order) to make room.
		for key := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = a
}

// answerTTL is how long msg's answer to qtype may be cached and the records
// it holds of that type.
func answerTTL(msg *dns.Msg, qtype uint16) (answer, time.Duration) {
	var a answer
	a.nxdomain = msg.Rcode == dns.RcodeNameError
	ttl := uint32(0)
	first := true
	for _, rr := range msg.Answer {
		h := rr.Header()
		if h.Rrtype != qtype && h.Rrtype != dns.TypeCNAME {
			continue
		}
		if first || h.Ttl < ttl {
			ttl, first = h.Ttl, false
		}
		if h.Rrtype == qtype {
			a.rrs = append(a.rrs, rr)
		}
	}
	if len(a.rrs) > 0 {
		return a, time.Duration(ttl) * time.Second
	}
	// RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM).
	for _, rr := range msg.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return a, time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return a, 0
}
