package b2bua

import (
	"testing"

	"github.com/switchboard/switchboard/config"
)

// TestRouteBySource: routes apply to the callers their source names (a
// user, a group, a trunk), a trunk's DIDs ring users before any route,
// and a route's fallback trunks travel with its target.
func TestRouteBySource(t *testing.T) {
	cfg := &config.Config{
		Users: []config.User{{Name: "1000", Password: "a", Groups: []string{"intl"}}, {Name: "1001", Password: "b"}},
		Trunks: []config.Trunk{
			{Name: "lcr", URI: "sip:192.0.2.1"},
			{Name: "carrier", URI: "sip:192.0.2.2", Trusted: []string{"192.0.2.2"}, DIDs: map[string]string{"5550100": "1001"}},
		},
		Routes: []config.Route{
			{Match: `^00\d+$`, To: "trunk:lcr", Select: config.RoutePolicy{Source: []string{"group:intl"}, Fallback: []string{"trunk:carrier"}}},
			{Match: `^00\d+$`, To: "reject", Status: 403, Reason: "International calls not allowed"},
			{Match: `^1\d{3}$`, To: "user", Select: config.RoutePolicy{Source: []string{"user:1000", "trunk:carrier"}}},
		},
	}
	validated(t, cfg)
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	carrier := r.byName["carrier"]
	for _, tc := range []struct {
		name    string
		from    Caller
		dialled string
		want    TargetKind
		number  string
		ok      bool
	}{
		{"group allowed international", Caller{User: "1000", Groups: []string{"intl"}}, "00441234", TargetTrunk, "00441234", true},
		{"user without the group refused", Caller{User: "1001"}, "00441234", TargetReject, "00441234", true},
		{"user source matches", Caller{User: "1000", Groups: []string{"intl"}}, "1001", TargetUser, "1001", true},
		{"other user passed over", Caller{User: "1001"}, "1000", 0, "", false},
		{"trunk source matches", Caller{Trunk: carrier}, "1000", TargetUser, "1000", true},
		{"DID rings its user", Caller{Trunk: carrier}, "5550100", TargetUser, "1001", true},
		{"DID only for its trunk", Caller{User: "1000"}, "5550100", 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := r.RouteFrom(tc.from, tc.dialled)
			if ok != tc.ok || (ok && (got.Kind != tc.want || got.Number != tc.number)) {
				t.Fatalf("RouteFrom = %+v, %v; want kind %v number %q, %v", got, ok, tc.want, tc.number, tc.ok)
			}
		})
	}
	got, _ := r.RouteFrom(Caller{User: "1000", Groups: []string{"intl"}}, "0049")
	if got.Kind != TargetTrunk || len(got.Fallback) != 1 || got.Fallback[0] != carrier || len(got.FallbackOn) == 0 {
		t.Fatalf("fallback not carried: %+v", got)
	}
}
