package b2bua

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
)

// TargetKind says where a routed call goes.
type TargetKind int

// Route target kinds.
const (
	TargetUser TargetKind = iota
	TargetTrunk
	TargetReject
)

// Target is the router's answer for one dialled number.
type Target struct {
	Kind TargetKind
	// Number is the dialled user part after rewriting.
	Number string
	// Trunk is set for TargetTrunk.
	Trunk *Trunk
	// Status and Reason are set for TargetReject.
	Status int
	Reason string
	// Rule is the matching rule's pattern, recorded in the CDR.
	Rule string
}

// Trunk is a provisioned SIP peer.
type Trunk struct {
	Name string
	// URI is the Request-URI template: its user part is replaced by the number.
	URI sip.Uri
	// Dest is host:port requests are sent to (the outbound proxy or the URI's host).
	Dest string
	// Transport is UDP or TCP.
	Transport string
	Trusted   []netip.Prefix
}

// Router turns a dialled number into a Target by ordered rules: the first
// rule whose regular expression matches wins.
type Router struct {
	rules  []config.Route
	trunks []*Trunk
	byName map[string]*Trunk
}

// NewRouter builds a router from a validated configuration.
func NewRouter(cfg *config.Config) (*Router, error) {
	r := &Router{byName: map[string]*Trunk{}}
	for _, tc := range cfg.Trunks {
		t, err := newTrunk(tc)
		if err != nil {
			return nil, err
		}
		r.trunks = append(r.trunks, t)
		r.byName[t.Name] = t
	}
	for i, rc := range cfg.Routes {
		if rc.Re == nil {
			re, err := regexp.Compile(rc.Match)
			if err != nil {
				return nil, fmt.Errorf("routes[%d].match: %w", i, err)
			}
			rc.Re = re
		}
		if name, ok := strings.CutPrefix(rc.To, "trunk:"); ok && r.byName[name] == nil {
			return nil, fmt.Errorf("routes[%d].to: unknown trunk %q", i, name)
		}
		r.rules = append(r.rules, rc)
	}
	return r, nil
}

func newTrunk(tc config.Trunk) (*Trunk, error) {
	t := &Trunk{Name: tc.Name, Transport: "UDP"}
	if err := sip.ParseUri(tc.URI, &t.URI); err != nil {
		return nil, fmt.Errorf("trunk %s: uri %q: %w", tc.Name, tc.URI, err)
	}
	if t.URI.Host == "" {
		return nil, fmt.Errorf("trunk %s: uri %q has no host", tc.Name, tc.URI)
	}
	if tp, ok := t.URI.UriParams.Get("transport"); ok && tp != "" {
		t.Transport = strings.ToUpper(tp)
	}
	host, port := t.URI.Host, t.URI.Port
	if tc.OutboundProxy != "" {
		var p sip.Uri
		if err := sip.ParseUri(tc.OutboundProxy, &p); err != nil {
			return nil, fmt.Errorf("trunk %s: outbound_proxy %q: %w", tc.Name, tc.OutboundProxy, err)
		}
		host, port = p.Host, p.Port
	}
	if port == 0 {
		port = sip.DefaultPort(t.Transport)
	}
	t.Dest = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
	for _, c := range tc.Trusted {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("trunk %s: trusted %q: %w", tc.Name, c, err)
		}
		t.Trusted = append(t.Trusted, p)
	}
	return t, nil
}

// Route finds the target for a dialled number; ok is false when no rule matches.
func (r *Router) Route(dialled string) (t Target, ok bool) {
	for _, rule := range r.rules {
		m := rule.Re.FindStringSubmatchIndex(dialled)
		if m == nil {
			continue
		}
		number := dialled
		if rule.Rewrite != "" {
			number = string(rule.Re.ExpandString(nil, rule.Rewrite, dialled, m))
		}
		t = Target{Number: number, Rule: rule.Match}
		switch {
		case rule.To == "user":
			t.Kind = TargetUser
		case strings.HasPrefix(rule.To, "trunk:"):
			t.Kind = TargetTrunk
			t.Trunk = r.byName[strings.TrimPrefix(rule.To, "trunk:")]
		default:
			t.Kind = TargetReject
			t.Status, t.Reason = rule.Status, rule.Reason
			if t.Status == 0 {
				t.Status = 403
			}
			if t.Reason == "" {
				t.Reason = reasonPhrase(t.Status)
			}
		}
		return t, true
	}
	return Target{}, false
}

// TrunkFor returns the trunk whose trusted ranges contain addr, or nil.
func (r *Router) TrunkFor(addr netip.Addr) *Trunk {
	addr = addr.Unmap()
	for _, t := range r.trunks {
		for _, p := range t.Trusted {
			if p.Contains(addr) {
				return t
			}
		}
	}
	return nil
}
