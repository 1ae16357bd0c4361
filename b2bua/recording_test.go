package b2bua

import (
	"testing"

	"github.com/switchboard/switchboard/config"
)

// TestCallPolicies: a call is recorded (or gets music on hold) when its
// route, its caller (user or trunk) or its callee says so, and only then.
func TestCallPolicies(t *testing.T) {
	all := config.CallPolicy{Recording: config.RecordAll}
	pol := &policy{users: map[string]config.User{
		"1000": {Name: "1000"},
		"1001": {Name: "1001", Policy: all},
	}}
	trunk := &Trunk{Name: "carrier", Policy: all}
	plain := &Trunk{Name: "plain"}
	cases := []struct {
		name string
		c    *Call
		want bool
	}{
		{"nobody", &Call{caller: "1000", target: Target{Kind: TargetUser, Number: "1000"}}, false},
		{"route", &Call{caller: "1000", target: Target{Kind: TargetUser, Number: "1000", Policy: all}}, true},
		{"caller user", &Call{caller: "1001", target: Target{Kind: TargetTrunk, Trunk: plain}}, true},
		{"callee user", &Call{caller: "1000", target: Target{Kind: TargetUser, Number: "1001"}}, true},
		{"source trunk", &Call{caller: "trunk:carrier", fromTrunk: trunk, target: Target{Kind: TargetUser, Number: "1000"}}, true},
		{"target trunk", &Call{caller: "1000", target: Target{Kind: TargetTrunk, Trunk: trunk}}, true},
		{"plain trunk", &Call{caller: "1000", target: Target{Kind: TargetTrunk, Trunk: plain}}, false},
	}
	for _, tc := range cases {
		if got := tc.c.wantRecording(pol); got != tc.want {
			t.Errorf("%s: wantRecording = %v, want %v", tc.name, got, tc.want)
		}
	}
}
