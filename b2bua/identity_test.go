package b2bua

import (
	"testing"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/identity"
)

// TestIdentityAttestation: the auto attestation level by who calls with
// which number (RFC 8588 §4).
func TestIdentityAttestation(t *testing.T) {
	plan := identity.Numbering{CountryCode: "1"}
	pol := &policy{
		users: map[string]config.User{"2155551212": {Name: "2155551212"}, "1000": {Name: "1000"}},
		cfg:   &config.Config{Trunks: []config.Trunk{{Name: "carrier", DIDs: map[string]string{"2155550100": "1000"}}}},
	}
	for _, c := range []struct {
		name, caller, orig string
		trunk              bool
		want               string
	}{
		{"user with its own number", "2155551212", "12155551212", false, "A"},
		{"user with a DID mapped to it", "1000", "12155550100", false, "A"},
		{"user with an extension", "1000", "1000", false, "B"},
		{"user with another number", "2155551212", "12155550000", false, "B"},
		{"call from a trunk", "trunk:carrier", "12155551212", true, "C"},
	} {
		call := &Call{caller: c.caller}
		if c.trunk {
			call.fromTrunk = &Trunk{Name: "carrier"}
		}
		if got := call.attestation(plan, c.orig, pol); got != c.want {
			t.Errorf("%s: attest %s, want %s", c.name, got, c.want)
		}
	}
}

func TestIdentityHeaderUser(t *testing.T) {
	for in, want := range map[string]string{
		`"Alice" <sip:+12155551212@example.com;user=phone>`: "+12155551212",
		`<tel:+12155551212;verstat=TN-Validation-Passed>`:   "+12155551212",
		`sip:2155551212@example.com`:                        "2155551212",
		`<sip:example.com>`:                                 "",
	} {
		if got, _ := headerUser(in); got != want {
			t.Errorf("headerUser(%q) = %q, want %q", in, got, want)
		}
	}
}
