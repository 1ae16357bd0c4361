package b2bua

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/sipdns"
)

// Trunks by host name (issue 13, item 1): RFC 3263 resolution and
// failover within the call.
//
//	fork ──trunk host is a name──► trunkDNS.plan: sipdns.Resolve (cached)
//	   │                             ─► drop transports we do not listen on
//	   │                             ─► Targets.Order: live first, held down last
//	   │                             ─► INVITE to the first target, failover timer
//	   │
//	   │   no response within failover_timeout ─┐
//	   │   503 / 408 / transport error (Timer B)├─► target held down (Retry-After
//	   │                                        │   or hold_down), INVITE to the next
//	   │                                        │   target: new branch, same dialog
//	   │                                        │   identifiers, same offer
//	   │   any other answer: relayed as usual ──┘   (RFC 3263 §4.3)
//	   │
//	   └─trunk host is an IP address──► Trunk.route as before (no DNS, no timer)
//
// The CDR lists every target tried (trunk_targets). A trunk given by IP
// address never reaches this file: its signaling path is unchanged.

// resolveTimeout bounds one resolution of a trunk's targets (the DNS
// servers' own timeouts apply per query within it).
const resolveTimeout = 4 * time.Second

// errNoResolver: a trunk given by host name and no DNS resolver (neither
// dns.servers nor a readable /etc/resolv.conf).
var errNoResolver = errors.New("trunk host name and no DNS resolver")

// errNoTrunkTargets: the trunk's host name resolved to nothing usable.
var errNoTrunkTargets = errors.New("trunk host name resolved to no usable target")

// trunkDNS is the target side of a trunk whose next hop (outbound proxy
// or URI host) is a host name, or that has destinations.
type trunkDNS struct {
	// dests are what is resolved: the destinations, or the outbound proxy
	// or the URI, each with the transport the trunk pins (empty for auto:
	// NAPTR and SRV decide).
	dests []trunkDest
	// tlsOnly: sips or tls: required, only TLS targets are used.
	tlsOnly bool
	// tlsClient verifies a TLS target by the trunk's domain (RFC 5922
	// §4.1: the URI's host, not the SRV target); nil without TLS.
	tlsClient *tls.Config
	// targets holds failed targets down (sipdns.Targets).
	targets *sipdns.Targets
	// timeout is the per-target failover timer (failover_timeout).
	timeout time.Duration
	// eyeballs is happy_eyeballs_delay (trunk_eyeballs.go).
	eyeballs time.Duration
}

// trunkDest is one destination of a trunk: a URI to resolve, and its
// priority and weight among the trunk's destinations.
type trunkDest struct {
	uri              sipdns.URI
	priority, weight uint16
}

// newTrunkDNS returns the target side of a trunk, or nil when it has no
// destinations and its next hop is an IP address (the plain path).
func newTrunkDNS(tc config.Trunk, tt *trunkTLS) *trunkDNS {
	var dests []trunkDest
	for _, d := range tc.Destinations {
		dests = append(dests, trunkDest{uri: sipdns.FromSIP(d.ParsedURI), priority: d.Priority, weight: d.Weight})
	}
	if len(dests) == 0 {
		next := tc.ParsedURI
		if tc.ParsedProxy != nil {
			next = *tc.ParsedProxy
		}
		u := sipdns.FromSIP(next)
		if _, err := netip.ParseAddr(strings.Trim(u.Host, "[]")); err == nil || u.Host == "" {
			return nil
		}
		dests = []trunkDest{{uri: u}}
	}
	hold := tc.Failover.HoldDown
	if hold == 0 {
		hold = config.DefaultHoldDown
	}
	d := &trunkDNS{dests: dests, targets: sipdns.NewTargets(hold, nil), timeout: tc.Failover.FailoverTimeout, eyeballs: tc.Failover.HappyEyeballsDelay}
	if d.timeout == 0 {
		d.timeout = config.DefaultFailoverTimeout
	}
	if tt != nil {
		for i := range d.dests {
			if tt.mode != config.TransportAuto && d.dests[i].uri.Transport == "" {
				d.dests[i].uri.Transport = tt.mode
			}
		}
		d.tlsOnly = tt.required || strings.EqualFold(tc.ParsedURI.Scheme, "sips")
		if tt.client != nil {
			d.tlsClient = tt.client.Clone()
			d.tlsClient.ServerName = strings.Trim(tc.ParsedURI.Host, "[]")
		}
	}
	return d
}

// newResolver builds the resolver of trunk host names from dns:. Without
// dns.servers and without a readable /etc/resolv.conf it returns nil and
// logs why: calls to trunks given by host name then fail with 503.
func newResolver(cfg *config.Config, log *slog.Logger) *sipdns.Resolver {
	r, err := sipdns.New(sipdns.Config{Servers: cfg.DNS.Servers, Timeout: cfg.DNS.Timeout, MaxTTL: cfg.DNS.MaxTTL}, log.With("component", "dns"))
	if err != nil {
		log.Warn("no DNS resolver: trunks given by host name cannot be reached", "error", err)
		return nil
	}
	return r
}

// listenerFinder finds our listener for a transport and destination.
type listenerFinder interface {
	listenerFor(transport, dest string) (listener, bool)
}

// resolveTrunk resolves a trunk's destinations (by priority and weight,
// RFC 2782) to targets, keeping only transports Switchboard listens on.
func resolveTrunk(r *Router, t *Trunk, lf listenerFinder, log *slog.Logger) ([]sipdns.Target, error) {
	if r.resolver == nil {
		return nil, errNoResolver
	}
	ds := t.dns.dests
	order := []int{0}
	if len(ds) > 1 {
		order = sipdns.ByPriority(len(ds), func(i int) uint16 { return ds[i].priority }, func(i int) uint16 { return ds[i].weight }, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	var usable []sipdns.Target
	for _, i := range order {
		all, err := r.resolver.Resolve(ctx, ds[i].uri)
		if err != nil {
			log.Info("trunk destination not resolved", "trunk", t.Name, "uri", ds[i].uri.String(), "error", err)
			continue
		}
		for _, tg := range all {
			if t.dns.tlsOnly && tg.Transport != sipdns.TLS {
				continue
			}
			if l, ok := lf.listenerFor(transportName(tg.Transport), tg.Addr.String()); !ok || !sameFamily(l, tg.Addr.Addr()) {
				continue // no socket of ours can reach it
			}
			usable = append(usable, tg)
		}
	}
	if len(usable) == 0 {
		return nil, errNoTrunkTargets
	}
	return usable, nil
}

// trunkTargets resolves a trunk's targets in the order to try: the live
// ones, then those held down (a last resort, soonest back first).
func (c *Call) trunkTargets(t *Trunk) ([]sipdns.Target, error) {
	usable, err := resolveTrunk(c.host.currentPolicy().router, t, c.host, c.log)
	if err != nil {
		return nil, err
	}
	live, held := t.dns.targets.Order(usable)
	out := append(live, held...)
	if len(out) == 0 {
		return nil, errNoTrunkTargets
	}
	return c.eyeballs(t, out) // RFC 8305 for TCP/TLS (trunk_eyeballs.go)
}

// transportName is a sipdns transport as sipgo and our listeners name it.
func transportName(t sipdns.Transport) string { return strings.ToUpper(string(t)) }

// trunkFailover is the state of a call to a trunk given by host name:
// the target being tried, its transaction and the targets left.
type trunkFailover struct {
	trunk   *Trunk
	current sipdns.Target
	out     *outTx
	rest    []sipdns.Target
	// heard: the current target answered something (even 100 Trying); the
	// failover timer no longer applies.
	heard bool
	// eyeballs: the failover timer armed is happy_eyeballs_delay (the next
	// target is the current one's host in the other family).
	eyeballs bool
}

// armFailover arms the failover timer for the current target: the Happy
// Eyeballs delay when the next target is the same host in the other
// address family (trunk_eyeballs.go), failover_timeout otherwise.
func (c *Call) armFailover() {
	f := c.failover
	if len(f.rest) == 0 {
		return
	}
	d := f.trunk.dns.timeout
	f.eyeballs = otherFamily(f.current, f.rest[0])
	if f.eyeballs {
		d = f.trunk.dns.eyeballsDelay()
	}
	c.arm(timerFailover, d)
}

// trunkRequestURI is the Request-URI of a call to trunk t for number
// over transport tr: the trunk's URI with the number as user part, and
// ;transport=tls when TLS carries a sip: URI.
func trunkRequestURI(t *Trunk, number, tr string) sip.Uri {
	u := *t.URI.Clone()
	u.User = number
	if tr == "TLS" && u.Scheme != "sips" {
		if u.UriParams == nil {
			u.UriParams = sip.NewParams()
		}
		if _, ok := u.UriParams.Get("transport"); !ok {
			u.UriParams.Add("transport", "tls")
		}
	}
	return u
}

// startFailover remembers the first target of a DNS-named trunk's call,
// sent as out, and arms the failover timer when another target remains.
func (c *Call) startFailover(t *Trunk, targets []sipdns.Target, out *outTx) {
	c.failover = &trunkFailover{trunk: t, current: targets[0], out: out, rest: targets[1:]}
	c.rec.TrunkTargets = append(c.rec.TrunkTargets, targets[0].String())
	c.noteTLSTarget(t, targets[0])
	c.armFailover()
}

// noteTLSTarget lets the TLS dialer verify a resolved TLS target by the
// trunk's domain (tlsDialConfig): the target is dialled by address.
func (c *Call) noteTLSTarget(t *Trunk, tg sipdns.Target) {
	if tg.Transport == sipdns.TLS && t.dns.tlsClient != nil {
		c.host.currentPolicy().router.dnsTLS.Store(tg.Addr.String(), t.dns.tlsClient)
	}
}

// heardFrom notes that out drew a response: a target that answers is
// given its full transaction time.
func (c *Call) heardFrom(out *outTx) {
	if f := c.failover; f != nil && f.out == out && !f.heard {
		f.heard = true
		c.disarm(timerFailover)
	}
}

// onFailoverTimer: the current target has not answered within
// failover_timeout. Its transaction is abandoned (a late 2xx from it is a
// stray, ACKed and BYEd) and the next target tried.
func (c *Call) onFailoverTimer() {
	f := c.failover
	if f == nil || f.heard || f.out.final != 0 || c.state != stateEarly || len(f.rest) == 0 {
		return
	}
	out := f.out
	out.final = 408
	out.state = outCancelled
	c.settle(out)
	if out.tx != nil {
		out.tx.Terminate()
	}
	why, after := "timeout", f.trunk.dns.timeout
	if f.eyeballs {
		why, after = "no answer (happy eyeballs)", f.trunk.dns.eyeballsDelay()
	}
	c.log.Info("trunk target silent, failing over", "leg", "b", "trunk", f.trunk.Name, "target", f.current.String(), "after", after)
	if !c.failOver(out, why, 0) {
		c.onForkFinal(out, 408, nil)
	}
}

// failOverOn moves a DNS-named trunk's call to its next target when out,
// the current target's INVITE, failed with 503 or 408 (a timeout or a
// transport error arrives as one of them, onTxEnd). False: no failover,
// the failure is handled as usual.
func (c *Call) failOverOn(out *outTx, code int, res *sip.Response) bool {
	if code != 503 && code != 408 {
		return false
	}
	return c.failOver(out, strconv.Itoa(code), retryAfter(res))
}

// failOver holds the current target down and sends the INVITE to the
// next one that takes it; false when none is left.
func (c *Call) failOver(out *outTx, why string, hold time.Duration) bool {
	f := c.failover
	if f == nil || f.out != out || c.state != stateEarly || c.b != nil {
		return false
	}
	f.trunk.dns.targets.Fail(f.current, hold)
	c.disarm(timerFailover)
	if n := len(c.rec.TrunkTargets); n > 0 {
		c.rec.TrunkTargets[n-1] += " → " + why
	}
	for len(f.rest) > 0 {
		next := f.rest[0]
		f.rest = f.rest[1:]
		tr := transportName(next.Transport)
		l, ok := c.host.listenerFor(tr, next.Addr.String())
		if !ok {
			continue
		}
		leg := *out.leg
		leg.LocalCSeq-- // the same CSeq to the next target: a new transaction, not a new request
		leg.Transport, leg.Dest, leg.Laddr, leg.Contact = tr, next.Addr.String(), sipAddr(l.addr), contactFor(l)
		leg.RemoteTag = ""
		leg.RemoteTarget = trunkRequestURI(f.trunk, out.leg.RemoteTarget.User, tr)
		req := c.forkInvite(&leg, out.req.Body())
		no := &outTx{method: sip.INVITE, leg: &leg, req: req, fork: true, offer: out.offer}
		c.rec.TrunkTargets = append(c.rec.TrunkTargets, next.String())
		c.noteTLSTarget(f.trunk, next)
		if err := c.send(no); err != nil {
			c.log.Info("trunk target refused the request", "leg", "b", "target", next.String(), "error", err)
			f.trunk.dns.targets.Fail(next, 0)
			c.rec.TrunkTargets[len(c.rec.TrunkTargets)-1] += " → " + "send failed"
			continue
		}
		c.log.Info("trunk failover", "leg", "b", "trunk", f.trunk.Name, "from", f.current.String(), "to", next.String(), "why", why)
		f.current, f.out, f.heard = next, no, false
		c.armFailover()
		return true
	}
	f.out = nil // the last target's failure is the call's
	return false
}

// retryAfter is a response's Retry-After in seconds (RFC 3261 §20.33),
// 0 when absent or unreadable.
func retryAfter(res *sip.Response) time.Duration {
	if res == nil {
		return 0
	}
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0
	}
	v := h.Value()
	if i := strings.IndexAny(v, " ;("); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// dnsTLSConfig is the TLS client configuration of a resolved trunk
// target dialled by address (noteTLSTarget), or nil.
func (r *Router) dnsTLSConfig(addr string) *tls.Config {
	if v, ok := r.dnsTLS.Load(addr); ok {
		return v.(*tls.Config)
	}
	return nil
}

// dnsTLSMap is the address → TLS configuration map of resolved TLS
// targets (a sync.Map: written by calls, read by the TLS dialer).
type dnsTLSMap = sync.Map

// sameFamily reports whether listener l can send to a: the same address
// family, or a dual-stack IPv6 wildcard ([::]).
func sameFamily(l listener, a netip.Addr) bool {
	la := l.addr.Addr()
	if la.Is6() && la.IsUnspecified() {
		return true
	}
	return (la.Is4() || la.Is4In6()) == (a.Is4() || a.Is4In6())
}
