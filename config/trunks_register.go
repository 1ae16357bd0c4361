package config

import "strings"

// Outbound registration (issue 13, item 4): a trunk whose carrier wants
// a REGISTER before it sends calls (trunks[].register).

// DefaultTrunkRegisterExpires is the registration interval asked of a
// carrier when register.expires is not set (seconds).
const DefaultTrunkRegisterExpires = 600

// TrunkRegister is a trunk's registration with its carrier: the account
// Switchboard registers as, and for how long.
type TrunkRegister struct {
	// Username is the account: the user part of the address of record
	// (sip:USERNAME@<trunk host>), the digest user name and the user part
	// of the registered Contact, on which the carrier's calls arrive.
	Username string `yaml:"username"`
	// Password is the digest password (write "${SB_CARRIER_PASSWORD}"); required.
	Password string `yaml:"password"`
	// Expires is the registration interval asked, in seconds (default
	// 600, at least 10); it is refreshed at half the interval granted.
	Expires int `yaml:"expires"`
	// GIN registers the way RFC 6140 does for a PBX with many numbers:
	// one Contact without a user part, with the bnc parameter ("bulk
	// number contact"), and Require/Proxy-Require: gin. The carrier then
	// sends calls for any of the trunk's numbers (DIDs) to that contact,
	// the number as the Request-URI's user; each is taken as the trunk's
	// call and routed by that number.
	GIN bool `yaml:"gin"`
}

// trunkRegister validates and defaults a trunk's registration.
func (v *validator) trunkRegister(t *Trunk, key string) {
	r := t.Register
	if r == nil {
		return
	}
	if strings.TrimSpace(r.Username) == "" {
		v.errf(key+".register.username", "required")
	}
	if r.Password == "" {
		v.errf(key+".register.password", `required (there is no default password; write "${SB_CARRIER_PASSWORD}")`)
	}
	if r.Expires == 0 {
		r.Expires = DefaultTrunkRegisterExpires
	}
	if r.Expires < 10 {
		v.errf(key+".register.expires", "must be at least 10 seconds, got %d", r.Expires)
	}
}
