// Package sipdns finds where to send a SIP request: it resolves a SIP or
// SIPS URI to an ordered list of targets (transport, address, and the SRV
// record each came from) by RFC 3263, through a cache, and keeps the
// hold-down list a caller consults when it fails over between them.
//
// # Flow
//
//	URI{Secure, Host, Port, Transport}
//	  │
//	  ├─ host is an IP literal ─────────────► one target: URI port or 5060/5061,
//	  │                                       URI transport or UDP (TLS for sips)
//	  ├─ explicit port ─────────────────────┐ (RFC 3263 §4.2: no NAPTR, no SRV)
//	  ├─ ;transport= ── SRV _sip._udp|_sip._tcp|_sips._tcp ──┐
//	  │                   └─ none ──────────┤                │
//	  └─ NAPTR host (flag "s"; SIP+D2U, SIP+D2T, SIPS+D2T;   │
//	       sips: SIPS+D2T only; by order, preference)        │
//	       ├─ each ─► SRV replacement ───────────────────────┤
//	       └─ none ─► SRV of every supported transport ──────┤
//	                    └─ none ──────────┐                  │
//	                                      ▼                  ▼
//	                          AAAA + A of host        SRV by priority, weighted
//	                          on port or default      random in one priority
//	                                      │           (RFC 2782); "." = none
//	                                      │                  │
//	                                      │          AAAA + A of each SRV target
//	                                      ▼                  ▼
//	                 addresses interleaved IPv6 first (RFC 8305 §4)
//	                                      │
//	                                      ▼
//	                    []Target in try order (duplicates dropped)
//	                                      │
//	     caller: Targets.Order ─► live, held; one host's addresses ─► Race
//	     (Happy Eyeballs, RFC 8305 §5: next attempt after DefaultAttemptDelay
//	     or a failure, first to connect wins, the others cancelled or
//	     dropped); on timeout / 503 / 408 / ICMP: Targets.Fail(t, retryAfter)
//
// Every question (name, type) goes through one cache: a positive answer
// lives for its smallest record TTL, a negative one (NXDOMAIN or NODATA) for
// min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), and one without an SOA is not
// cached; every entry is capped at Config.MaxTTL. A miss asks the configured
// servers in order (Config.Servers, default /etc/resolv.conf), each bounded
// by Config.Timeout; a timeout, SERVFAIL or REFUSED moves to the next
// server, a truncated UDP answer is asked again over TCP. A failed lookup
// is passed over within one resolution; Resolve fails (ErrNoTargets) only
// when nothing resolved. Time (Config.Now) and the weighted choice
// (Config.Rand) are injected for tests.
//
// # Why miekg/dns
//
// Go's net.Resolver has LookupSRV (already sorted, without the owner name
// and TTL) but no NAPTR lookup, no TTLs, no SOA for negative caching and no
// choice of server per resolver; RFC 3263 needs all of them. github.com/miekg/dns
// is the DNS library CoreDNS is built on: complete record types (NAPTR,
// SRV, SOA), a client with per-query contexts and TCP fallback, resolv.conf
// parsing, and a server the tests run in-process to serve a table of
// records. The RFC 2782 ordering and the cache are ours: they are a page
// each and depend on the injected clock and random source.
//
// # Locks
//
// cache.mu guards the cache map; Targets.mu guards the hold-down map. Each
// is a leaf: no lock is held while another is taken or while a query is
// on the wire. Concurrent misses for one question share one query
// (golang.org/x/sync/singleflight); a resolution asks a host's AAAA and A
// together (RFC 8305 §3), from two goroutines it waits for, unless both
// are cached (the warm path starts no goroutine: BenchmarkResolveWarm).
package sipdns
