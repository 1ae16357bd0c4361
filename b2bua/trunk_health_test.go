package b2bua

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
)

// TestRouteSkipsDownTrunk: a route to a trunk health checks found down
// (or at its max_calls) is passed over for the next matching route; when
// every matching trunk is down, the first one is still the answer.
func TestRouteSkipsDownTrunk(t *testing.T) {
	cfg := &config.Config{
		Trunks: []config.Trunk{
			{Name: "primary", URI: "sip:192.0.2.1", Health: config.TrunkHealth{PingInterval: time.Second}},
			{Name: "backup", URI: "sip:192.0.2.2", Health: config.TrunkHealth{PingInterval: time.Second}},
		},
		Routes: []config.Route{
			{Match: `^9(\d+)$`, To: "trunk:primary", Rewrite: "$1"},
			{Match: `^9(\d+)$`, To: "trunk:backup", Rewrite: "$1"},
		},
	}
	validated(t, cfg)
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := func() string {
		tg, ok := r.Route("95551234")
		if !ok || tg.Kind != TargetTrunk || tg.Number != "5551234" {
			t.Fatalf("route %+v %v", tg, ok)
		}
		return tg.Trunk.Name
	}
	if n := name(); n != "primary" {
		t.Fatalf("both up: %s, want primary", n)
	}
	r.byName["primary"].health.down.Store(true)
	if n := name(); n != "backup" {
		t.Fatalf("primary down: %s, want backup", n)
	}
	r.byName["backup"].health.down.Store(true)
	if n := name(); n != "primary" {
		t.Fatalf("both down: %s, want primary (the first match)", n)
	}

	// A trunk at max_calls is passed over as a down one.
	r.byName["primary"].health.down.Store(false)
	r.byName["backup"].health.down.Store(false)
	p := r.byName["primary"]
	p.maxCalls = 1
	c := &Call{}
	if !c.takeTrunk(p) || !p.full() {
		t.Fatal("first call not admitted, or trunk not full at max_calls 1")
	}
	if n := name(); n != "backup" {
		t.Fatalf("primary full: %s, want backup", n)
	}
	if (&Call{}).takeTrunk(p) {
		t.Fatal("a second call admitted over max_calls 1")
	}
	c.releaseTrunk()
	if n := name(); n != "primary" || p.active.Load() != 0 {
		t.Fatalf("after release: %s (active %d), want primary", n, p.active.Load())
	}
}

// TestTrunkDestinations: a trunk with destinations takes the target path
// (trunk_dns.go) even when each is an IP address, with each destination's
// priority and weight; a trunk by IP address without them does not.
func TestTrunkDestinations(t *testing.T) {
	cfg := &config.Config{
		Trunks: []config.Trunk{
			{Name: "multi", URI: "sip:carrier.example", Destinations: []config.TrunkDestination{
				{URI: "sip:192.0.2.1:5060", Priority: 20}, {URI: "sip:192.0.2.2:5070;transport=tcp", Priority: 10, Weight: 5}}},
			{Name: "plain", URI: "sip:192.0.2.3:5060"},
		},
	}
	validated(t, cfg)
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := r.byName["multi"].dns
	if d == nil || len(d.dests) != 2 || d.dests[1].priority != 10 || d.dests[1].weight != 5 || d.dests[1].uri.Transport != "tcp" {
		t.Fatalf("multi: %+v", d)
	}
	if r.byName["plain"].dns != nil {
		t.Fatal("a trunk by IP address left the plain path")
	}
}
