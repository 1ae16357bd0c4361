package sipdns

import (
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zone is a table-driven authoritative DNS server for tests: miekg/dns's own
// dns.Server on 127.0.0.1 (random port) answering from records; names in
// the zone that have no record of the asked type get NODATA, names with no
// record at all NXDOMAIN, both with the zone's SOA.
type zone struct {
	mu      sync.Mutex
	origin  string
	records []dns.RR
	soa     *dns.SOA
	queries map[string]int // "name TYPE" or "udp"/"tcp" → count
	addr    string
	delay   time.Duration // before each answer
}

// startZone serves the records (zone-file lines, relative to origin) with an
// SOA whose MINIMUM is negTTL seconds.
func startZone(t testing.TB, origin string, negTTL uint32, lines ...string) *zone {
	t.Helper()
	z := &zone{origin: dns.Fqdn(origin), queries: make(map[string]int)}
	soa, err := dns.NewRR(z.origin + " 3600 IN SOA ns." + z.origin + " host." + z.origin + " 1 7200 900 86400 " + strconv.FormatUint(uint64(negTTL), 10))
	if err != nil {
		t.Fatal(err)
	}
	z.soa = soa.(*dns.SOA)
	z.set(t, lines...)
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

// set replaces the zone's records.
func (z *zone) set(t testing.TB, lines ...string) {
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

// count returns how many times name/qtype was asked.
func (z *zone) count(name string, qtype uint16) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	if qtype == 0 {
		return z.queries[name] // "udp" or "tcp"
	}
	return z.queries[dns.CanonicalName(name)+" "+dns.TypeToString[qtype]]
}

// ServeDNS answers one question from the table.
func (z *zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
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
