package config

import (
	"fmt"
	"slices"
	"strings"
)

// Routing policy by source (issue 13, item 5): routes that apply only to
// some callers (a user, a group of users, a trunk), DIDs that map a
// trunk's inbound numbers to users, and route lists that fall back to
// another trunk on chosen failures.

// Route source kinds (routes[].source entries "KIND:NAME").
const (
	SourceUser  = "user"
	SourceGroup = "group"
	SourceTrunk = "trunk"
)

// DefaultFallbackOn are the statuses of a trunk that move a call to the
// route's next fallback trunk when routes[].fallback_on is not set: the
// trunk could not take the call, as opposed to the callee refusing it.
var DefaultFallbackOn = []int{408, 480, 500, 502, 503, 504}

// RoutePolicy is the source condition and the fallback list of a route.
type RoutePolicy struct {
	// Source, when set, limits the route to these callers: "user:1000",
	// "group:sales" (users[].groups), "trunk:carrier". Empty: any caller.
	Source []string `yaml:"source"`
	// Fallback lists trunks ("trunk:NAME") tried in turn when the route's
	// trunk fails with a status in FallbackOn.
	Fallback []string `yaml:"fallback"`
	// FallbackOn are the failure statuses that move to the next fallback
	// trunk (default DefaultFallbackOn).
	FallbackOn []int `yaml:"fallback_on"`

	// Sources is Source parsed, and FallbackTrunks Fallback's trunk names
	// (filled by Validate).
	Sources        []RouteSource `yaml:"-"`
	FallbackTrunks []string      `yaml:"-"`
}

// RouteSource is one parsed routes[].source entry.
type RouteSource struct {
	Kind, Name string
}

// routePolicy validates a route's source and fallback keys.
func (v *validator) routePolicy(r *Route, key string, trunks map[string]bool) {
	p := &r.Select
	p.Sources, p.FallbackTrunks = nil, nil
	groups := map[string]bool{}
	users := map[string]bool{}
	for _, u := range v.c.Users {
		users[u.Name] = true
		for _, g := range u.Groups {
			groups[g] = true
		}
	}
	for i, s := range p.Source {
		k := fmt.Sprintf("%s.source[%d]", key, i)
		kind, name, ok := strings.Cut(s, ":")
		switch {
		case !ok || name == "":
			v.errf(k, "want user:NAME, group:NAME or trunk:NAME, got %q", s)
			continue
		case kind == SourceUser && !users[name]:
			v.errf(k, "unknown user %q", name)
		case kind == SourceGroup && !groups[name]:
			v.errf(k, "no user is in group %q (users[].groups)", name)
		case kind == SourceTrunk && !trunks[name]:
			v.errf(k, "unknown trunk %q", name)
		case kind != SourceUser && kind != SourceGroup && kind != SourceTrunk:
			v.errf(k, "want user:NAME, group:NAME or trunk:NAME, got %q", s)
			continue
		}
		p.Sources = append(p.Sources, RouteSource{Kind: kind, Name: name})
	}
	if len(p.Fallback) > 0 && !strings.HasPrefix(r.To, RouteTrunkPrefix) {
		v.errf(key+".fallback", "only applies to to: trunk:NAME")
	}
	for i, f := range p.Fallback {
		name, ok := strings.CutPrefix(f, RouteTrunkPrefix)
		if !ok || !trunks[name] {
			v.errf(fmt.Sprintf("%s.fallback[%d]", key, i), "want trunk:NAME of a configured trunk, got %q", f)
			continue
		}
		p.FallbackTrunks = append(p.FallbackTrunks, name)
	}
	for i, c := range p.FallbackOn {
		if c < 400 || c > 699 {
			v.errf(fmt.Sprintf("%s.fallback_on[%d]", key, i), "must be a failure status 400-699, got %d", c)
		}
	}
	if len(p.FallbackOn) == 0 {
		p.FallbackOn = slices.Clone(DefaultFallbackOn)
	}
}

// trunkDIDs validates a trunk's DID map (each number maps to a user)
// and its max_calls.
func (v *validator) trunkDIDs(t *Trunk, key string) {
	if t.MaxCalls < 0 {
		v.errf(key+".max_calls", "must be 0 (unbounded) or more, got %d", t.MaxCalls)
	}
	if t.MaxCPS < 0 {
		v.errf(key+".max_cps", "must be 0 (unbounded) or more, got %g", t.MaxCPS)
	}
	users := map[string]bool{}
	for _, u := range v.c.Users {
		users[u.Name] = true
	}
	for did, user := range t.DIDs {
		if !users[user] {
			v.errf(key+".dids", "number %q maps to unknown user %q", did, user)
		}
	}
}

// Matches reports whether a caller — user name (empty for a trunk), its
// groups, and trunk name (empty for a user) — is one the route's source
// allows.
func (p *RoutePolicy) Matches(user string, groups []string, trunk string) bool {
	if len(p.Sources) == 0 {
		return true
	}
	for _, s := range p.Sources {
		switch s.Kind {
		case SourceUser:
			if user != "" && s.Name == user {
				return true
			}
		case SourceGroup:
			if user != "" && slices.Contains(groups, s.Name) {
				return true
			}
		case SourceTrunk:
			if trunk != "" && s.Name == trunk {
				return true
			}
		}
	}
	return false
}
