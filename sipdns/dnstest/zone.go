// Package dnstest serves a table of DNS records from an in-process
// authoritative server (miekg/dns's dns.Server) on loopback, for tests of
// RFC 3263 resolution: package sipdns's unit tests and the end-to-end
// tests of trunks given by host name.
//
//	Start(t, origin, negTTL, records...) ──► UDP + TCP on 127.0.0.1:random
//	  question ──► records of that name and type ──► answer
//	           └─► name known, type not ──► NODATA + SOA
//	           └─► name unknown ─────────► NXDOMAIN + SOA
//
// Over UDP an answer is truncated at 512 bytes (TC set), as RFC 1035
// §4.2.1 has it, so that a client's retry over TCP can be tested.
package dnstest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Zone is a running test DNS server answering from its records. It is
// safe for concurrent use.
type Zone struct {
	mu      sync.Mutex
	origin  string
	records []dns.RR
	soa     *dns.SOA
	queries map[string]int // "name TYPE" or "udp"/"tcp" → count
	addr    string
	delay   time.Duration // before each answer
}

// Start serves the records (zone-file lines, relative to origin) with an
// SOA whose MINIMUM is negTTL seconds; the server stops when the test ends.
func Start(t testing.TB, origin string, negTTL uint32, lines ...string) *Zone {
	t.Helper()
	z := &Zone{origin: dns.Fqdn(origin), queries: make(map[string]int)}
	soa, err := dns.NewRR(z.origin + " 3600 IN SOA ns." + z.origin + " host." + z.origin + " 1 7200 900 86400 " + strconv.FormatUint(uint64(negTTL), 10))
	if err != nil {
		t.Fatal(err)
	}
	z.soa = soa.(*dns.SOA)
	z.Set(t, lines...)
	pc, l := listenPair(t)
	z.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: z}, {Listener: l, Handler: z}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("dns server did not start")
		}
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return z
}

// Addr is the server's address as ip:port (the same port for UDP and TCP).
func (z *Zone) Addr() string { return z.addr }

// listenPair opens a UDP socket and a TCP listener on the same loopback
// port. Another test (or process) may hold the TCP side of a port the
// kernel hands out free for UDP, so a taken pair is let go and another
// tried.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
		lastErr = err
	}
	t.Fatalf("no loopback port free for both UDP and TCP: %v", lastErr)
	return nil, nil
}

// Set replaces the zone's records.
func (z *Zone) Set(t testing.TB, lines ...string) {
	t.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + z.origin + "\n" + l)
		if err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	z.mu.Lock()
	z.records = rrs
	z.mu.Unlock()
}

// SetDelay makes the server wait d before each answer.
func (z *Zone) SetDelay(d time.Duration) {
	z.mu.Lock()
	z.delay = d
	z.mu.Unlock()
}

// Count returns how many times name/qtype was asked; with qtype 0, name
// is "udp" or "tcp" and Count how many questions came over it.
func (z *Zone) Count(name string, qtype uint16) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	if qtype == 0 {
		return z.queries[name]
	}
	return z.queries[dns.CanonicalName(name)+" "+dns.TypeToString[qtype]]
}

// ServeDNS answers one question from the table.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	z.mu.Lock()
	z.queries[name+" "+dns.TypeToString[q.Qtype]]++
	z.queries[w.LocalAddr().Network()]++
	exists := false
	for _, rr := range z.records {
		if dns.CanonicalName(rr.Header().Name) != name {
			continue
		}
		exists = true
		if rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	delay := z.delay
	z.mu.Unlock()
	time.Sleep(delay)
	if len(m.Answer) == 0 {
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{dns.Copy(z.soa)}
	}
	if w.LocalAddr().Network() == "udp" {
		m.Truncate(dns.MinMsgSize) // RFC 1035 §4.2.1: 512 bytes, TC set beyond
	}
	_ = w.WriteMsg(m)
}
