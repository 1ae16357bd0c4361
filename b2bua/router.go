package b2bua

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/sipdns"
)

// TargetKind says where a routed call goes.
type TargetKind int

// Route target kinds.
const (
	TargetUser TargetKind = iota
	TargetTrunk
	TargetReject
	// TargetService is answered by Switchboard itself (service_call.go).
	TargetService
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
	// Fallback are the route's fallback trunks left and FallbackOn the
	// statuses that move to them (trunk_policy.go).
	Fallback   []*Trunk
	FallbackOn []int
	// Process forces the processing path (media_mode: process); Transcode
	// allows transcoding when the legs share no codec.
	Process, Transcode bool
	// Service names the built-in service of a TargetService (echo, tone,
	// playback, conference) and Options its file or tone; Policy is the
	// route's recording and hold policy.
	Service string
	Options config.ServiceOptions
	Policy  config.CallPolicy
	// Streams is the route's video policy (call_streams.go).
	Streams config.StreamPolicy
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
	// Codecs is the trunk's codec preference (empty: media.codecs).
	Codecs []string
	// Causes are the trunk's overrides of the cause tables (nil: none).
	Causes *cause.Overrides
	// TransitTo lists the trunks this trunk's calls may go out to.
	TransitTo []string
	// DIDs maps numbers dialled on this trunk's calls to local users.
	DIDs map[string]string
	// maxCalls bounds the calls up at once to the trunk (0: none) and
	// active counts them (trunk_policy.go).
	maxCalls int64
	active   atomic.Int64
	// rate is its max_cps (trunk_rate.go; nil: unlimited).
	rate *trunkRate
	// oc is the reduction the trunk asked for (RFC 7339, overload_oc.go).
	oc trunkOC
	// tls chooses between TLS and the plain transport (trunk_tls.go).
	tls *trunkTLS
	// Fingerprints and CommonNames identify the trunk by the client
	// certificate of a TLS connection (trunks[].tls_clients).
	Fingerprints, CommonNames []string
	// clientRoots verify a client certificate named by CommonNames.
	clientRoots *x509.CertPool
	// Policy is the trunk's recording and hold policy.
	Policy config.CallPolicy
	// dns resolves a next hop given by host name, or the destinations
	// (trunk_dns.go); nil for an IP address.
	dns *trunkDNS
	// health is the OPTIONS ping state (trunk_health.go); nil without
	// ping_interval.
	health *trunkHealth
	// reg is the outbound registration (trunk_register.go); nil without
	// register:.
	reg *trunkReg
	// ident signs calls to the trunk (nil without identity:), numbering
	// is its E.164 plan and rewriteFrom its rewrite_from (identity.go).
	ident       *trunkIdentity
	numbering   identity.Numbering
	rewriteFrom bool
	// noPAI: asserted_identity none, no P-Asserted-Identity (privacy.go).
	noPAI bool
}

// mayTransitTo reports whether a call from t may be routed to trunk name.
func (t *Trunk) mayTransitTo(name string) bool {
	return slices.Contains(t.TransitTo, name)
}

// Router turns a dialled number into a Target by ordered rules: the first
// rule whose regular expression matches wins.
type Router struct {
	rules  []config.Route
	trunks []*Trunk
	byName map[string]*Trunk
	// tlsByDest is the TLS client configuration of each trunk's TLS
	// destination host:port.
	tlsByDest map[string]*tls.Config
	// resolver resolves trunks given by host name, and dnsTLS holds the
	// TLS configuration of their TLS targets by address (trunk_dns.go).
	resolver *sipdns.Resolver
	dnsTLS   dnsTLSMap
}

// errNotValidated: a Router is built only from a configuration that
// config.Validate has parsed (one parse: compiled routes, parsed trunk URIs
// and trusted ranges), never by parsing the strings again.
var errNotValidated = errors.New("configuration not validated (config.Validate fills the parsed fields)")

// NewRouter builds a router from a validated configuration.
func NewRouter(cfg *config.Config) (*Router, error) {
	r := &Router{byName: map[string]*Trunk{}, tlsByDest: map[string]*tls.Config{}}
	for _, tc := range cfg.Trunks {
		if tc.ParsedURI.Host == "" || len(tc.TrustedNets) != len(tc.Trusted) {
			return nil, fmt.Errorf("trunk %s: %w", tc.Name, errNotValidated)
		}
		t := newTrunk(tc)
		if err := t.provisionTLS(tc); err != nil {
			return nil, err
		}
		t.dns = newTrunkDNS(tc, t.tls)
		t.health = newTrunkHealth(tc)
		t.reg = newTrunkReg(tc)
		if t.tls.client != nil {
			r.tlsByDest[t.tls.tlsDest] = t.tls.client
		}
		r.trunks = append(r.trunks, t)
		r.byName[t.Name] = t
	}
	for i, rc := range cfg.Routes {
		if rc.Re == nil {
			return nil, fmt.Errorf("routes[%d]: %w", i, errNotValidated)
		}
		if name := rc.TrunkName(); name != "" && r.byName[name] == nil {
			return nil, fmt.Errorf("routes[%d].to: unknown trunk %q", i, name)
		}
		r.rules = append(r.rules, rc)
	}
	return r, nil
}

// newTrunk derives where a trunk's requests go from its parsed configuration.
func newTrunk(tc config.Trunk) *Trunk {
	t := &Trunk{Name: tc.Name, Transport: "UDP", URI: *tc.ParsedURI.Clone(), Trusted: tc.TrustedNets, Codecs: tc.Codecs, Causes: tc.CauseOverrides, TransitTo: tc.TransitTo, Policy: tc.Policy, DIDs: tc.DIDs, maxCalls: int64(tc.MaxCalls)}
	if tp, ok := t.URI.UriParams.Get("transport"); ok && tp != "" {
		t.Transport = strings.ToUpper(tp)
	}
	host, port := trunkHostPort(tc)
	if port == 0 {
		port = sip.DefaultPort(t.Transport)
	}
	t.Dest = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
	t.ident, t.numbering, t.rewriteFrom = newTrunkIdentity(tc), tc.Numbering.Plan(), tc.Numbering.RewriteFrom
	t.noPAI = tc.AssertedIdentity == config.AssertNone
	if tc.MaxCPS > 0 {
		t.rate = newTrunkRate(tc.MaxCPS)
	}
	return t
}

// trunkHostPort is where a trunk's requests go: its outbound proxy, or
// its URI's host; port 0 when not given.
func trunkHostPort(tc config.Trunk) (string, int) {
	if p := tc.ParsedProxy; p != nil {
		return p.Host, p.Port
	}
	return tc.ParsedURI.Host, tc.ParsedURI.Port
}

// Route finds the target for a dialled number; ok is false when no rule
// matches. A rule to a trunk that health checks found down is passed over
// for the next matching rule; when every matching rule is such, the first
// of them is the answer (the trunk may be back).
func (r *Router) Route(dialled string) (t Target, ok bool) {
	return r.RouteFrom(Caller{}, dialled)
}

// RouteFrom is Route for a caller: a trunk's DIDs come first, and rules
// whose source does not admit the caller are passed over (trunk_policy.go).
func (r *Router) RouteFrom(from Caller, dialled string) (t Target, ok bool) {
	if t, ok := didTarget(from, dialled); ok {
		return t, true
	}
	var down *Target
	for i := range r.rules {
		rule := &r.rules[i]
		if !from.allows(&rule.Select) {
			continue
		}
		m := rule.Re.FindStringSubmatchIndex(dialled)
		if m == nil {
			continue
		}
		number := dialled
		if rule.Rewrite != "" {
			number = string(rule.Re.ExpandString(nil, rule.Rewrite, dialled, m))
		}
		t = Target{Number: number, Rule: rule.Match, Process: rule.MediaMode == config.MediaProcess, Transcode: rule.Transcoding(), Policy: rule.Policy, Streams: rule.Streams}
		switch {
		case config.IsService(rule.To):
			t.Kind, t.Service, t.Options = TargetService, rule.To, rule.Service
		case rule.To == "user":
			t.Kind = TargetUser
		case strings.HasPrefix(rule.To, "trunk:"):
			t.Kind = TargetTrunk
			t.Trunk = r.byName[strings.TrimPrefix(rule.To, "trunk:")]
			for _, name := range rule.Select.FallbackTrunks {
				t.Fallback = append(t.Fallback, r.byName[name])
			}
			t.FallbackOn = rule.Select.FallbackOn
			if t.Trunk.isDown() || t.Trunk.full() {
				if down == nil {
					d := t
					down = &d
				}
				continue
			}
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
	if down != nil {
		return *down, true
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
