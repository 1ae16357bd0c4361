package sipdns

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func target(tp Transport, addr, host string) Target {
	return Target{Transport: tp, Addr: netip.MustParseAddrPort(addr), Host: host}
}

func TestTargetsHoldDown(t *testing.T) {
	c := newFakeClock()
	ts := NewTargets(30*time.Second, c.now)
	a := target(UDP, "192.0.2.1:5060", "a.")
	b := target(UDP, "192.0.2.2:5060", "b.")
	d := target(UDP, "192.0.2.3:5060", "d.")
	list := []Target{a, b, d}

	ts.Fail(a, 0)                         // configured hold-down: 30 s
	ts.Fail(b, 10*time.Second)            // Retry-After: 10 s
	ts.Avoid(b, c.now().Add(time.Second)) // an earlier end does not shorten it
	live, held := ts.Order(list)
	if g := targetStrings(live); !equalStrings(g, targetStrings([]Target{d})) {
		t.Errorf("live %q, want only d", g)
	}
	if g := targetStrings(held); !equalStrings(g, targetStrings([]Target{b, a})) {
		t.Errorf("held %q, want b (10 s) before a (30 s)", g)
	}
	if !ts.Avoided(a) || ts.Avoided(d) {
		t.Error("Avoided wrong")
	}
	// The same address over another transport is another target.
	if ts.Avoided(target(TCP, "192.0.2.1:5060", "a.")) {
		t.Error("TCP target avoided after a UDP failure")
	}
	c.advance(10 * time.Second)
	live, _ = ts.Order(list)
	if g := targetStrings(live); !equalStrings(g, targetStrings([]Target{b, d})) {
		t.Errorf("after 10 s live %q, want b, d", g)
	}
	c.advance(20 * time.Second)
	live, held = ts.Order(list)
	if len(held) != 0 || !equalStrings(targetStrings(live), targetStrings(list)) {
		t.Errorf("after 30 s live %q held %q, want all live", targetStrings(live), targetStrings(held))
	}
	if n := len(ts.until); n != 0 {
		t.Errorf("%d expired hold-downs kept", n)
	}
}

func TestInterleave(t *testing.T) {
	in := []netip.Addr{
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:192.0.2.4"),
	}
	got := Interleave(in)
	want := []string{"2001:db8::1", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}
	for i := range want {
		if i >= len(got) || got[i].String() != want[i] {
			t.Fatalf("Interleave = %v, want %v", got, want)
		}
	}
}

func TestByHost(t *testing.T) {
	list := []Target{
		target(TCP, "[2001:db8::1]:5060", "a."), target(TCP, "192.0.2.1:5060", "a."),
		target(TCP, "192.0.2.2:5060", "b."),
		target(UDP, "192.0.2.2:5060", "b."),
	}
	groups := ByHost(list)
	if len(groups) != 3 || len(groups[0]) != 2 || len(groups[1]) != 1 || len(groups[2]) != 1 {
		t.Fatalf("ByHost = %v, want runs of 2, 1, 1", groups)
	}
	// A run cannot grow into the next one by append.
	_ = append(groups[0], Target{})
	if list[2].Host != "b." {
		t.Error("append to a run overwrote the next")
	}
}

func TestFromSIP(t *testing.T) {
	for _, c := range []struct {
		in   string
		want URI
	}{
		{"sip:alice@Example.com", URI{Host: "Example.com"}},
		{"sips:example.com:5071", URI{Secure: true, Host: "example.com", Port: 5071}},
		{"sip:example.com;transport=TCP;maddr=192.0.2.1", URI{Host: "192.0.2.1", Transport: "TCP"}},
		{"sip:[2001:db8::1]:5080", URI{Host: "2001:db8::1", Port: 5080}},
	} {
		var u sip.Uri
		if err := sip.ParseUri(c.in, &u); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		got := FromSIP(u)
		got.Host = strings.Trim(got.Host, "[]")
		if got != c.want {
			t.Errorf("FromSIP(%s) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// TestByPriority: a configured list is ordered as SRV records are, by
// priority first, weighted within one priority (first() picks the
// zero-weight and then the first entry).
func TestByPriority(t *testing.T) {
	prio := []uint16{20, 10, 10, 30}
	weight := []uint16{5, 0, 5, 1}
	got := ByPriority(len(prio), func(i int) uint16 { return prio[i] }, func(i int) uint16 { return weight[i] }, first)
	want := []int{1, 2, 0, 3}
	if !slices.Equal(got, want) {
		t.Fatalf("ByPriority = %v, want %v", got, want)
	}
}
