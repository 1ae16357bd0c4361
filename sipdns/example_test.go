package sipdns_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/switchboard/switchboard/sipdns"
)

// A trunk walks the resolved targets for one request: the live ones first,
// one SRV target (run of addresses) after another, racing the addresses of a
// run IPv6 first; a target that times out or answers 503 is held down so the
// next requests start elsewhere.
func ExampleTargets() {
	// In a trunk: list, err := resolver.Resolve(ctx, sipdns.FromSIP(uri)).
	list := []sipdns.Target{
		{Transport: sipdns.TCP, Addr: netip.MustParseAddrPort("[2001:db8::1]:5060"), Host: "a.example.com."},
		{Transport: sipdns.TCP, Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Host: "a.example.com."},
		{Transport: sipdns.TCP, Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Host: "b.example.com."},
	}
	holds := sipdns.NewTargets(30*time.Second, nil) // one per trunk, long-lived
	holds.Fail(list[0], 0)                          // IPv6 address timed out
	holds.Fail(list[2], 120*time.Second)            // 503 with Retry-After: 120

	live, held := holds.Order(list)
	for _, run := range sipdns.ByHost(live) {
		fmt.Println("try", run)
	}
	fmt.Println("last resort", held)
	// Output:
	// try [tcp 192.0.2.1:5060]
	// last resort [tcp [2001:db8::1]:5060 tcp 192.0.2.2:5060]
}
