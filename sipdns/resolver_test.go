package sipdns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// newTestResolver returns a resolver that asks z, on clock c, with the
// weighted choice from rnd (nil: math/rand).
func newTestResolver(t *testing.T, z *zone, c *fakeClock, rnd func(int) int) *Resolver {
	t.Helper()
	cfg := Config{Servers: []string{z.Addr()}, Timeout: time.Second, Rand: rnd}
	if c != nil {
		cfg.Now = c.now
	}
	r, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// targetStrings renders targets as "transport addr" for comparison.
func targetStrings(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t.Transport) + " " + t.Addr.String()
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// first returns 0: the weighted choice always takes the first candidate.
func first(int) int { return 0 }

func TestResolve(t *testing.T) {
	z := startZone(t, "example.test", 60,
		// NAPTR: TCP preferred over UDP by order; TLS by preference after TCP.
		`@ 300 IN NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp`,
		`@ 300 IN NAPTR 10 20 "s" "SIPS+D2T" "" _sips._tcp`,
		`@ 300 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp`,
		`@ 300 IN NAPTR 5 10 "s" "SIP+D2S" "" _sip._sctp`, // SCTP: not supported, skipped
		`@ 300 IN NAPTR 5 10 "u" "E2U+sip" "!^.*$!sip:x@y!" .`,
		`_sip._udp 300 IN SRV 10 0 5070 udp1`,
		`_sip._tcp 300 IN SRV 20 0 5072 tcp2`,
		`_sip._tcp 300 IN SRV 10 0 5071 tcp1`,
		`_sips._tcp 300 IN SRV 10 0 5081 tls1`,
		`_sip._sctp 300 IN SRV 10 0 5090 udp1`,
		`udp1 300 IN A 192.0.2.10`,
		`tcp1 300 IN A 192.0.2.11`,
		`tcp1 300 IN AAAA 2001:db8::11`,
		`tcp1 300 IN A 192.0.2.12`,
		`tcp2 300 IN A 192.0.2.13`,
		`tls1 300 IN A 192.0.2.14`,
		// nonaptr: SRV only.
		`_sip._udp.nonaptr 300 IN SRV 10 0 5060 udp1`,
		`_sips._tcp.nonaptr 300 IN SRV 10 0 5061 tls1`,
		`nonaptr 300 IN TXT "x"`,
		// plain: A and AAAA only.
		`plain 300 IN A 192.0.2.20`,
		`plain 300 IN AAAA 2001:db8::20`,
		// dead: an SRV whose target is "." (service not available).
		`_sip._udp.dead 300 IN SRV 0 0 0 .`,
	)
	r := newTestResolver(t, z, nil, first)
	cases := []struct {
		name string
		uri  URI
		want []string
	}{
		{"naptr order, preference, then srv priority, ipv6 first", URI{Host: "example.test"}, []string{
			"tcp [2001:db8::11]:5071", "tcp 192.0.2.11:5071", "tcp 192.0.2.12:5071", "tcp 192.0.2.13:5072",
			"tls 192.0.2.14:5081", "udp 192.0.2.10:5070"}},
		{"sips takes only SIPS+D2T", URI{Secure: true, Host: "EXAMPLE.test"}, []string{"tls 192.0.2.14:5081"}},
		{"transport param skips naptr", URI{Host: "example.test", Transport: "UDP"}, []string{"udp 192.0.2.10:5070"}},
		{"sips transport=tcp is tls", URI{Secure: true, Host: "example.test", Transport: "tcp"}, []string{"tls 192.0.2.14:5081"}},
		{"explicit port skips naptr and srv", URI{Host: "tcp1.example.test", Port: 5999}, []string{
			"udp [2001:db8::11]:5999", "udp 192.0.2.11:5999", "udp 192.0.2.12:5999"}},
		{"explicit port sips", URI{Secure: true, Host: "tls1.example.test", Port: 6000}, []string{"tls 192.0.2.14:6000"}},
		{"no naptr: srv per transport", URI{Host: "nonaptr.example.test"}, []string{"udp 192.0.2.10:5060", "tls 192.0.2.14:5061"}},
		{"no naptr sips: _sips._tcp only", URI{Secure: true, Host: "nonaptr.example.test"}, []string{"tls 192.0.2.14:5061"}},
		{"no srv: a/aaaa on 5060 udp", URI{Host: "plain.example.test"}, []string{"udp [2001:db8::20]:5060", "udp 192.0.2.20:5060"}},
		{"no srv sips: 5061 tls", URI{Secure: true, Host: "plain.example.test"}, []string{"tls [2001:db8::20]:5061", "tls 192.0.2.20:5061"}},
		{"no srv, transport=tcp: 5060 tcp", URI{Host: "plain.example.test", Transport: "tcp"}, []string{"tcp [2001:db8::20]:5060", "tcp 192.0.2.20:5060"}},
		{"numeric ipv4", URI{Host: "198.51.100.7"}, []string{"udp 198.51.100.7:5060"}},
		{"numeric ipv6 bracketed, port, tcp", URI{Host: "[2001:db8::7]", Port: 5080, Transport: "tcp"}, []string{"tcp [2001:db8::7]:5080"}},
		{"numeric sips", URI{Secure: true, Host: "198.51.100.7"}, []string{"tls 198.51.100.7:5061"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Resolve(context.Background(), c.uri)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", c.uri, err)
			}
			if g := targetStrings(got); !equalStrings(g, c.want) {
				t.Errorf("Resolve(%s)\n got %q\nwant %q", c.uri, g, c.want)
			}
		})
	}
	// A numeric host asks nothing.
	if n := z.Count("198.51.100.7", dns.TypeA) + z.Count("198.51.100.7", dns.TypeNAPTR); n != 0 {
		t.Errorf("numeric host caused %d queries", n)
	}
	// An explicit port asks no NAPTR or SRV.
	if n := z.Count("tcp1.example.test", dns.TypeNAPTR) + z.Count("_sip._udp.tcp1.example.test", dns.TypeSRV); n != 0 {
		t.Errorf("explicit port caused %d NAPTR/SRV queries", n)
	}
	// The SRV record each target came from is reported.
	got, _ := r.Resolve(context.Background(), URI{Host: "example.test"})
	if got[0].SRV != "_sip._tcp.example.test." || got[0].Host != "tcp1.example.test." || got[0].Priority != 10 {
		t.Errorf("first target %+v: want SRV _sip._tcp.example.test. host tcp1.example.test. priority 10", got[0])
	}

	for _, c := range []struct {
		name string
		uri  URI
	}{
		{"nxdomain", URI{Host: "nope.example.test"}},
		{"srv target dot", URI{Host: "dead.example.test", Transport: "udp"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := r.Resolve(context.Background(), c.uri); !errors.Is(err, ErrNoTargets) {
				t.Errorf("Resolve(%s) = %v, %v; want ErrNoTargets", c.uri, got, err)
			}
		})
	}
	if _, err := r.Resolve(context.Background(), URI{Secure: true, Host: "example.test", Transport: "udp"}); err == nil {
		t.Error("sips with transport=udp resolved")
	}
}

// TestResolveTransports checks that a resolver limited to UDP ignores the
// NAPTR services of other transports.
func TestResolveTransports(t *testing.T) {
	z := startZone(t, "example.test", 60,
		`@ 300 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp`,
		`@ 300 IN NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp`,
		`_sip._udp 300 IN SRV 10 0 5070 h`,
		`_sip._tcp 300 IN SRV 10 0 5071 h`,
		`h 300 IN A 192.0.2.1`,
	)
	r, err := New(Config{Servers: []string{z.Addr()}, Transports: []Transport{UDP}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(context.Background(), URI{Host: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if g := targetStrings(got); !equalStrings(g, []string{"udp 192.0.2.1:5070"}) {
		t.Errorf("got %q, want only the UDP target", g)
	}
}

// TestSRVWeights checks the RFC 2782 weighted choice: with weights 10, 30
// and 60 in one priority, each record comes first in about that share of
// orderings, and a lower priority always comes first.
func TestSRVWeights(t *testing.T) {
	z := startZone(t, "example.test", 60,
		`_sip._udp 300 IN SRV 10 10 5060 a`,
		`_sip._udp 300 IN SRV 10 30 5060 b`,
		`_sip._udp 300 IN SRV 10 60 5060 c`,
		`_sip._udp 300 IN SRV 20 100 5060 backup`,
		`a 300 IN A 192.0.2.1`,
		`b 300 IN A 192.0.2.2`,
		`c 300 IN A 192.0.2.3`,
		`backup 300 IN A 192.0.2.9`,
	)
	r := newTestResolver(t, z, nil, nil)
	const n = 3000
	firsts := map[string]int{}
	for range n {
		got, err := r.Resolve(context.Background(), URI{Host: "example.test", Transport: "udp"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[3].Addr.Addr() != netip.MustParseAddr("192.0.2.9") {
			t.Fatalf("got %q: want 4 targets, the priority-20 one last", targetStrings(got))
		}
		firsts[got[0].Addr.Addr().String()]++
	}
	// Binomial standard deviation at n=3000 is at most ~27 (0.9 %); allow 4 %.
	for addr, share := range map[string]float64{"192.0.2.1": 0.10, "192.0.2.2": 0.30, "192.0.2.3": 0.60} {
		got := float64(firsts[addr]) / n
		if got < share-0.04 || got > share+0.04 {
			t.Errorf("%s first in %.3f of orderings, want %.2f±0.04 (counts %v)", addr, got, share, firsts)
		}
	}
	// The answers came from the cache after the first resolution.
	if c := z.Count("_sip._udp.example.test", dns.TypeSRV); c != 1 {
		t.Errorf("SRV asked %d times, want 1 (cached)", c)
	}
}

// TestWeightedZero checks RFC 2782's rule for weight 0: such records are
// chosen only when the random pick is 0 or when nothing else is left.
func TestWeightedZero(t *testing.T) {
	recs := []*dns.SRV{
		{Priority: 1, Weight: 5, Target: "five."},
		{Priority: 1, Weight: 0, Target: "zero."},
		{Priority: 0, Weight: 0, Target: "prio0."},
	}
	max := func(n int) int { return n - 1 }
	got := orderSRV(recs, max)
	want := []string{"prio0.", "five.", "zero."}
	for i, s := range got {
		if s.Target != want[i] {
			t.Fatalf("order with the largest pick: %v, want %v", got, want)
		}
	}
	got = orderSRV(recs, first)
	want = []string{"prio0.", "zero.", "five."}
	for i, s := range got {
		if s.Target != want[i] {
			t.Fatalf("order with pick 0: %v, want %v", got, want)
		}
	}
}

func TestCacheTTL(t *testing.T) {
	z := startZone(t, "example.test", 30,
		`h 60 IN A 192.0.2.1`,
		`h 120 IN AAAA 2001:db8::1`,
	)
	c := newFakeClock()
	r := newTestResolver(t, z, c, nil)
	resolve := func() []string {
		t.Helper()
		got, err := r.Resolve(context.Background(), URI{Host: "h.example.test", Port: 5060})
		if err != nil {
			t.Fatal(err)
		}
		return targetStrings(got)
	}
	resolve()
	c.advance(59 * time.Second)
	z.Set(t, `h 60 IN A 192.0.2.2`)
	if got := resolve(); !equalStrings(got, []string{"udp [2001:db8::1]:5060", "udp 192.0.2.1:5060"}) {
		t.Errorf("within TTL: %q, want the cached answers", got)
	}
	if n := z.Count("h.example.test", dns.TypeA); n != 1 {
		t.Errorf("A asked %d times within its TTL, want 1", n)
	}
	c.advance(time.Second) // A expired at 60 s; AAAA lives to 120 s
	if got := resolve(); !equalStrings(got, []string{"udp [2001:db8::1]:5060", "udp 192.0.2.2:5060"}) {
		t.Errorf("A expired: %q, want the new A and the cached AAAA", got)
	}
	if a, aaaa := z.Count("h.example.test", dns.TypeA), z.Count("h.example.test", dns.TypeAAAA); a != 2 || aaaa != 1 {
		t.Errorf("queries A=%d AAAA=%d, want 2 and 1", a, aaaa)
	}
	c.advance(60 * time.Second) // AAAA expired: now NODATA (name exists), cached for the SOA minimum
	if got := resolve(); !equalStrings(got, []string{"udp 192.0.2.2:5060"}) {
		t.Errorf("AAAA expired: %q", got)
	}
	z.Set(t, `h 60 IN A 192.0.2.2`, `h 60 IN AAAA 2001:db8::3`)
	c.advance(29 * time.Second)
	resolve()
	if n := z.Count("h.example.test", dns.TypeAAAA); n != 2 {
		t.Errorf("AAAA asked %d times, want 2 (NODATA cached for 30 s)", n)
	}
	c.advance(time.Second)
	if got := resolve(); !equalStrings(got, []string{"udp [2001:db8::3]:5060", "udp 192.0.2.2:5060"}) {
		t.Errorf("negative entry expired: %q, want the new AAAA", got)
	}
}

// TestNegativeCache checks NXDOMAIN caching for min(SOA TTL, SOA MINIMUM)
// (RFC 2308 §5) and that a name appearing after expiry is found.
func TestNegativeCache(t *testing.T) {
	z := startZone(t, "example.test", 45)
	c := newFakeClock()
	r := newTestResolver(t, z, c, nil)
	u := URI{Host: "new.example.test"}
	for range 3 {
		if _, err := r.Resolve(context.Background(), u); !errors.Is(err, ErrNoTargets) {
			t.Fatalf("Resolve of a missing name: %v, want ErrNoTargets", err)
		}
		c.advance(10 * time.Second)
	}
	if n := z.Count("new.example.test", dns.TypeNAPTR); n != 1 {
		t.Errorf("NAPTR for a missing name asked %d times in 30 s, want 1 (NXDOMAIN cached)", n)
	}
	if n := z.Count("new.example.test", dns.TypeA); n != 1 {
		t.Errorf("A for a missing name asked %d times in 30 s, want 1 (NXDOMAIN cached)", n)
	}
	z.Set(t, `new 300 IN A 192.0.2.5`)
	c.advance(15 * time.Second) // 45 s: expired
	got, err := r.Resolve(context.Background(), u)
	if err != nil {
		t.Fatalf("after the negative TTL: %v", err)
	}
	if g := targetStrings(got); !equalStrings(g, []string{"udp 192.0.2.5:5060"}) {
		t.Errorf("got %q", g)
	}
}

// TestServerFailover checks that a dead server (nothing listening) passes
// the question to the next one within the timeout.
func TestServerFailover(t *testing.T) {
	z := startZone(t, "example.test", 60, `h 60 IN A 192.0.2.1`)
	r, err := New(Config{Servers: []string{"127.0.0.1:1", z.Addr()}, Timeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := r.Resolve(context.Background(), URI{Host: "h.example.test", Port: 5060})
	if err != nil {
		t.Fatal(err)
	}
	if g := targetStrings(got); !equalStrings(g, []string{"udp 192.0.2.1:5060"}) {
		t.Errorf("got %q", g)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with one dead server", d)
	}
	// Every server dead: an error, not a hang.
	r, _ = New(Config{Servers: []string{"127.0.0.1:1"}, Timeout: 200 * time.Millisecond}, nil)
	if _, err := r.Resolve(context.Background(), URI{Host: "h.example.test"}); !errors.Is(err, ErrNoTargets) {
		t.Errorf("no live server: %v, want ErrNoTargets", err)
	}
}

func TestSystemConfig(t *testing.T) {
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })
	resolvConf = t.TempDir() + "/resolv.conf"
	if err := writeFile(resolvConf, "nameserver 192.0.2.53\nnameserver 2001:db8::53\noptions timeout:3\n"); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Servers(); !equalStrings(g, []string{"192.0.2.53:53", "[2001:db8::53]:53"}) {
		t.Errorf("servers %q", g)
	}
	if r.cfg.Timeout != 3*time.Second {
		t.Errorf("timeout %v, want resolv.conf's 3s", r.cfg.Timeout)
	}
	r, _ = New(Config{Servers: []string{"192.0.2.1", "192.0.2.2:5353"}}, nil)
	if g := r.Servers(); !equalStrings(g, []string{"192.0.2.1:53", "192.0.2.2:5353"}) {
		t.Errorf("servers %q", g)
	}
}

// BenchmarkResolveWarm measures a full NAPTR → SRV → AAAA/A resolution from
// a warm cache: the per-call cost a DNS-named trunk adds.
func BenchmarkResolveWarm(b *testing.B) {
	z := startZone(b, "example.test", 60,
		`@ 300 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp`,
		`_sip._udp 300 IN SRV 10 50 5060 a`,
		`_sip._udp 300 IN SRV 10 50 5060 b`,
		`a 300 IN A 192.0.2.1`,
		`a 300 IN AAAA 2001:db8::1`,
		`b 300 IN A 192.0.2.2`,
	)
	r, err := New(Config{Servers: []string{z.Addr()}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	u := URI{Host: "example.test"}
	if _, err := r.Resolve(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(context.Background(), u); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTruncatedOverTCP checks that an answer too large for 512 bytes of UDP
// is asked again over TCP (RFC 1035 §4.2.1) and arrives whole.
func TestTruncatedOverTCP(t *testing.T) {
	lines := []string{}
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("big 300 IN A 192.0.2.%d", i+1))
	}
	z := startZone(t, "example.test", 60, lines...)
	r := newTestResolver(t, z, nil, nil)
	got, err := r.Resolve(context.Background(), URI{Host: "big.example.test", Port: 5060})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 {
		t.Errorf("%d targets, want all 40", len(got))
	}
	if z.Count("tcp", 0) == 0 {
		t.Error("no query over TCP")
	}
}

// TestConcurrentMiss checks that concurrent resolutions of a cold name share
// one query per question.
func TestConcurrentMiss(t *testing.T) {
	z := startZone(t, "example.test", 60,
		`_sip._udp 300 IN SRV 10 0 5060 a`,
		`a 300 IN A 192.0.2.1`,
	)
	z.SetDelay(50 * time.Millisecond)
	r := newTestResolver(t, z, nil, nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := r.Resolve(context.Background(), URI{Host: "example.test", Transport: "udp"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := z.Count("_sip._udp.example.test", dns.TypeSRV); n != 1 {
		t.Errorf("SRV asked %d times by 10 concurrent resolutions, want 1", n)
	}
}
