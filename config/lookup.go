package config

import (
	"net/netip"
	"strings"
)

// User returns the user named name.
func (c *Config) User(name string) (*User, bool) {
	for i := range c.Users {
		if c.Users[i].Name == name {
			return &c.Users[i], true
		}
	}
	return nil, false
}

// Trunk returns the trunk named name.
func (c *Config) Trunk(name string) (*Trunk, bool) {
	for i := range c.Trunks {
		if c.Trunks[i].Name == name {
			return &c.Trunks[i], true
		}
	}
	return nil, false
}

// TrunkFor returns the first trunk whose trusted ranges contain addr: a
// request from there is accepted without digest authentication. It needs
// Validate to have filled Trunk.TrustedNets.
func (c *Config) TrunkFor(addr netip.Addr) (*Trunk, bool) {
	addr = addr.Unmap()
	for i := range c.Trunks {
		if c.Trunks[i].Trusts(addr) {
			return &c.Trunks[i], true
		}
	}
	return nil, false
}

// Trusts reports whether addr lies in one of the trunk's trusted ranges.
func (t *Trunk) Trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range t.TrustedNets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// TrunkName returns NAME for a route with To "trunk:NAME", else "".
func (r *Route) TrunkName() string {
	name, ok := strings.CutPrefix(r.To, RouteTrunkPrefix)
	if !ok {
		return ""
	}
	return name
}

// Apply reports whether dialled matches the route and, if so, the number
// after rewriting: Rewrite expanded with Match's captures (regexp.Expand
// syntax), or dialled unchanged when Rewrite is empty. It needs Validate to
// have compiled Re.
func (r *Route) Apply(dialled string) (string, bool) {
	if r.Re == nil {
		return "", false
	}
	m := r.Re.FindStringSubmatchIndex(dialled)
	if m == nil {
		return "", false
	}
	if r.Rewrite == "" {
		return dialled, true
	}
	return string(r.Re.ExpandString(nil, r.Rewrite, dialled, m)), true
}

// Route returns the first route (in file order) that matches dialled, and
// the number to dial after rewriting.
func (c *Config) Route(dialled string) (*Route, string, bool) {
	for i := range c.Routes {
		if out, ok := c.Routes[i].Apply(dialled); ok {
			return &c.Routes[i], out, true
		}
	}
	return nil, "", false
}
