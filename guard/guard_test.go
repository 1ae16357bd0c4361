package guard

import (
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// syncBuf is a bytes.Buffer safe for concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }

func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var (
	srcA = netip.MustParseAddr("192.0.2.7")
	srcB = netip.MustParseAddr("192.0.2.8")
)

func TestBans(t *testing.T) {
	cfg := BanConfig{Failures: 3, UserFailures: 5, Window: time.Minute, Ban: 5 * time.Minute, BanMax: 12 * time.Minute}
	// Each step: advance the clock, then fail (from src as user) or check.
	type step struct {
		advance time.Duration
		fail    bool
		src     netip.Addr
		user    string
		blocked bool // expected Blocked(src, user) after the step
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"below the limit", []step{
			{0, true, srcA, "300", false}, {0, true, srcA, "300", false},
		}},
		{"limit bans, right password refused too", []step{
			{0, true, srcA, "300", false}, {0, true, srcA, "300", false}, {0, true, srcA, "300", true},
			{time.Second, false, srcA, "300", true}, // Blocked whatever the password
			{0, false, srcB, "301", false},          // another source is not
		}},
		{"window expires", []step{
			{0, true, srcA, "300", false}, {0, true, srcA, "300", false},
			{time.Minute, true, srcA, "300", false}, // new window: count 1
			{0, true, srcA, "300", false},
		}},
		{"ban runs out, second ban doubles, capped", []step{
			{0, true, srcA, "x", false}, {0, true, srcA, "x", false}, {0, true, srcA, "x", true},
			{5*time.Minute - time.Second, false, srcA, "", true},
			{time.Second, false, srcA, "", false}, // 5m ban over
			{0, true, srcA, "x", false}, {0, true, srcA, "x", false}, {0, true, srcA, "x", true},
			{10*time.Minute - time.Second, false, srcA, "", true}, // 10m ban
			{time.Second, false, srcA, "", false},
			{0, true, srcA, "x", false}, {0, true, srcA, "x", false}, {0, true, srcA, "x", true},
			{12*time.Minute - time.Second, false, srcA, "", true}, // 20m capped at 12m
			{time.Second, false, srcA, "", false},
		}},
		{"per-user ban from many sources", []step{
			{0, true, netip.MustParseAddr("198.51.100.1"), "300", false},
			{0, true, netip.MustParseAddr("198.51.100.2"), "300", false},
			{0, true, netip.MustParseAddr("198.51.100.3"), "300", false},
			{0, true, netip.MustParseAddr("198.51.100.4"), "300", false},
			{0, true, netip.MustParseAddr("198.51.100.5"), "300", true},
			{0, false, srcB, "300", true},  // the user is banned from everywhere
			{0, false, srcB, "301", false}, // another user is not
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			var log syncBuf
			b := NewBans(cfg, clk.now, NewEvents(&log, clk.now))
			for i, s := range tc.steps {
				clk.add(s.advance)
				if s.fail {
					b.Failed(s.src, s.user, s.user != "x")
				}
				if got := b.Blocked(s.src, s.user); got != s.blocked {
					t.Fatalf("step %d: Blocked(%s, %q) = %v, want %v\n%s", i, s.src, s.user, got, s.blocked, log.String())
				}
			}
		})
	}
}

func TestBansUnknownUserNotTrackedPerUser(t *testing.T) {
	clk := newClock()
	b := NewBans(BanConfig{Failures: 100, UserFailures: 1, Window: time.Minute, Ban: time.Minute, BanMax: time.Hour}, clk.now, nil)
	b.Failed(srcA, "ghost", false)
	if b.Blocked(srcB, "ghost") {
		t.Fatal("an unknown user was banned per user")
	}
	if len(b.users) != 0 {
		t.Fatalf("unknown user tracked: %v", b.users)
	}
}

func TestEventsFormat(t *testing.T) {
	clk := newClock()
	for _, tc := range []struct {
		event string
		src   netip.Addr
		kv    []string
		want  string
	}{
		{EventAuthFailure, srcA, []string{"user", "300"}, "2026-12-03T07:00:00.000Z switchboard security event=auth_failure src=192.0.2.7 user=300\n"},
		{EventBan, netip.MustParseAddr("::ffff:192.0.2.7"), []string{"user", "300", "for", "300s"}, "2026-12-03T07:00:00.000Z switchboard security event=ban src=192.0.2.7 user=300 for=300s\n"},
		{EventScanner, netip.MustParseAddr("2001:db8::1"), []string{"ua", "friendly scanner\r\n2026 x src=1.2.3.4"}, "2026-12-03T07:00:00.000Z switchboard security event=scanner src=2001:db8::1 ua=friendly%20scanner%0D%0A2026%20x%20src%3D1.2.3.4\n"},
		{EventUnban, netip.Addr{}, []string{"user", ""}, "2026-12-03T07:00:00.000Z switchboard security event=unban src=- user=-\n"},
	} {
		var buf bytes.Buffer
		NewEvents(&buf, clk.now).Log(tc.event, tc.src, tc.kv...)
		if buf.String() != tc.want {
			t.Errorf("got  %q\nwant %q", buf.String(), tc.want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     RateConfig
		advance time.Duration // between requests
		n       int
		allowed int
	}{
		{"burst then refused", RateConfig{Rate: 10, Burst: 5}, 0, 20, 5},
		{"sustained at the rate", RateConfig{Rate: 10, Burst: 5}, 100 * time.Millisecond, 50, 50},
		{"twice the rate", RateConfig{Rate: 10, Burst: 5}, 50 * time.Millisecond, 40, 5 + 20},
		{"off", RateConfig{Rate: -1, Burst: 1}, 0, 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			r := NewRateLimiter(tc.cfg, clk.now)
			got := 0
			for i := 0; i < tc.n; i++ {
				if r.Allow(srcA) {
					got++
				}
				clk.add(tc.advance)
			}
			if got < tc.allowed-1 || got > tc.allowed {
				t.Fatalf("allowed %d of %d, want %d", got, tc.n, tc.allowed)
			}
			if tc.cfg.Rate > 0 && !r.Allow(srcB) {
				t.Fatal("another source was limited")
			}
		})
	}
}

func TestRateLimiterBounded(t *testing.T) {
	clk := newClock()
	r := NewRateLimiter(RateConfig{Rate: 1, Burst: 1, MaxSources: rateShards * 4}, clk.now)
	for i := 0; i < 10000; i++ {
		r.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	total := 0
	for i := range r.shards {
		total += len(r.shards[i].m)
	}
	if total > rateShards*5 {
		t.Fatalf("%d sources tracked, bound is about %d", total, rateShards*5)
	}
	if r.Overflow() == 0 {
		t.Fatal("no overflow counted")
	}
	// Once idle sources have refilled they are swept for new ones.
	clk.add(2 * time.Second)
	before := r.Overflow()
	r.Allow(netip.MustParseAddr("10.200.0.1"))
	if r.Overflow() != before {
		t.Fatal("idle sources were not swept")
	}
}

func TestGuardAdmit(t *testing.T) {
	clk := newClock()
	var log syncBuf
	g := New(Config{
		Rate:           RateConfig{Rate: 1, Burst: 2},
		DropUserAgents: DefaultScanners,
		Trusted:        []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
	}, clk.now, NewEvents(&log, clk.now))
	trunk := netip.MustParseAddr("198.51.100.9")
	for _, tc := range []struct {
		src  netip.Addr
		ua   string
		want Verdict
	}{
		{srcA, "friendly-scanner", Scanner},
		{srcA, "SIPVicious/0.3", Scanner},
		{srcA, "Linphone/5", Pass},
		{srcA, "", Pass},
		{srcA, "", Limited},
		{srcA, "", Limited},
		{trunk, "friendly-scanner", Pass}, // trusted
		{trunk, "", Pass},
		{trunk, "", Pass},
		{trunk, "", Pass},
	} {
		if got := g.Admit(tc.src, tc.ua); got != tc.want {
			t.Errorf("Admit(%s, %q) = %d, want %d", tc.src, tc.ua, got, tc.want)
		}
	}
	if n := strings.Count(log.String(), "event=rate_limit"); n != 1 {
		t.Errorf("%d rate_limit lines, want 1 per run:\n%s", n, log.String())
	}
	if n := strings.Count(log.String(), "event=scanner"); n != 2 {
		t.Errorf("%d scanner lines, want 2", n)
	}
}

func TestFraud(t *testing.T) {
	intl := Class{Name: "international", Re: regexp.MustCompile(`^(\+|00)`)}
	prem := Class{Name: "premium", Re: regexp.MustCompile(`^1?900`)}
	for _, tc := range []struct {
		name    string
		lim     Limits
		dialled []string
		advance time.Duration
		release bool // release each admitted call at once
		want    []string
	}{
		{"international refused", Limits{}, []string{"0044123", "+33123", "1001"}, 0, true,
			[]string{"destination class international not allowed", "destination class international not allowed", ""}},
		{"international allowed", Limits{Allow: []string{"international"}}, []string{"0044123", "1900555"}, 0, true,
			[]string{"", "destination class premium not allowed"}},
		{"max calls", Limits{MaxCalls: 2}, []string{"1001", "1002", "1003"}, 0, false,
			[]string{"", "", "max calls reached"}},
		{"max calls released", Limits{MaxCalls: 1}, []string{"1001", "1002", "1003"}, 0, true,
			[]string{"", "", ""}},
		{"calls per hour", Limits{CallsPerHour: 2}, []string{"1001", "1002", "1003"}, 10 * time.Minute, true,
			[]string{"", "", "calls per hour reached"}},
		{"hour slides", Limits{CallsPerHour: 2}, []string{"1001", "1002", "1003"}, 31 * time.Minute, true,
			[]string{"", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			f := NewFraud([]Class{intl, prem}, clk.now, nil)
			for i, d := range tc.dialled {
				rel, ref := f.Admit("300", srcA, d, tc.lim)
				got := ""
				if ref != nil {
					got = ref.Reason
				} else if tc.release {
					rel()
					rel() // idempotent
				}
				if got != tc.want[i] {
					t.Fatalf("call %d to %s: refusal %q, want %q", i, d, got, tc.want[i])
				}
				clk.add(tc.advance)
			}
			if tc.release && f.Active("300") != 0 {
				t.Fatalf("active %d after releases", f.Active("300"))
			}
		})
	}
}

// BenchmarkAdmit is the per-request cost of the guard's hot path (a known
// source under its rate, a normal User-Agent): must not allocate.
func BenchmarkAdmit(b *testing.B) {
	g := New(Config{Rate: RateConfig{Rate: 1e12, Burst: 1 << 30}, DropUserAgents: DefaultScanners,
		Trusted: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}, nil, NewEvents(nil, nil))
	ua := "Yealink SIP-T46S 66.86.0.15"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if g.Admit(srcA, ua) != Pass {
			b.Fatal("refused")
		}
	}
}

// BenchmarkRateAllowParallel is the rate check from many goroutines and
// sources (shard contention).
func BenchmarkRateAllowParallel(b *testing.B) {
	r := NewRateLimiter(RateConfig{Rate: 1e12, Burst: 1 << 30}, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			r.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		}
	})
}

func BenchmarkScannerMatch(b *testing.B) {
	sc := compileScanners(DefaultScanners)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sc.match("Yealink SIP-T46S 66.86.0.15")
	}
}

func BenchmarkRateAllow(b *testing.B) {
	r := NewRateLimiter(RateConfig{Rate: 1e12, Burst: 1 << 30}, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Allow(srcA)
	}
}
