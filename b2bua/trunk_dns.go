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

// trunkDNS is the DNS side of a trunk whose next hop (outbound proxy or
// URI host) is a host name.
type trunkDNS struct {
	// uri is what is resolved: the outbound proxy or the URI, with the
	// transport the trunk pins (empty for auto: NAPTR and SRV decide).
	uri sipdns.URI
	// tlsOnly: sips or tls: required, only TLS targets are used.
	tlsOnly bool
	// tlsClient verifies a TLS target by the trunk's domain (RFC 5922
	// §4.1: the URI's host, not the SRV target); nil without TLS.
	tlsClient *tls.Config
	// targets holds failed targets down (sipdns.Targets).
	targets *sipdns.Targets
	// timeout is the per-target failover timer (failover_timeout).
	timeout time.Duration
}

// newTrunkDNS returns the DNS side of a trunk, or nil when its next hop
// is an IP address.
func newTrunkDNS(tc config.Trunk, tt *trunkTLS) *trunkDNS {
	var next sip.Uri
	if tc.ParsedProxy != nil {
		next = *tc.ParsedProxy
	} else {
		next = tc.ParsedURI
	}
	u := sipdns.FromSIP(next)
	if _, err := netip.ParseAddr(strings.Trim(u.Host, "[]")); err == nil || u.Host == "" {
		return nil
	}
	d := &trunkDNS{uri: u, targets: sipdns.NewTargets(tc.Failover.HoldDown, nil), timeout: tc.Failover.FailoverTimeout}
	if d.timeout == 0 {
		d.timeout = config.DefaultFailoverTimeout
	}
	if tc.Failover.HoldDown == 0 {
		d.targets = sipdns.NewTargets(config.DefaultHoldDown, nil)
	}
	if tt != nil {
		if tt.mode != config.TransportAuto {
			d.uri.Transport = tt.mode
		}
		d.tlsOnly = tt.required || u.Secure
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

// trunkTargets resolves a trunk's targets in the order to try: the live
// ones, then those held down (a last resort, soonest back first), keeping
// only transports Switchboard listens on.
func (c *Call) trunkTargets(t *Trunk) ([]sipdns.Target, error) {
	r := c.host.currentPolicy().router
	if r.resolver == nil {
		return nil, errNoResolver
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	all, err := r.resolver.Resolve(ctx, t.dns.uri)
	if err != nil {
		c.log.Info("trunk not resolved", "leg", "b", "trunk", t.Name, "uri", t.dns.uri.String(), "error", err)
		return nil, errNoTrunkTargets
	}
	usable := all[:0:0]
	for _, tg := range all {
		if t.dns.tlsOnly && tg.Transport != sipdns.TLS {
			continue
		}
		if _, ok := c.host.listenerFor(transportName(tg.Transport), tg.Addr.String()); !ok {
			continue
		}
		usable = append(usable, tg)
	}
	live, held := t.dns.targets.Order(usable)
	out := append(live, held...)
	if len(out) == 0 {
		return nil, errNoTrunkTargets
	}
	return out, nil
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
	if len(c.failover.rest) > 0 {
		c.arm(timerFailover, t.dns.timeout)
	}
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
	c.log.Info("trunk target silent, failing over", "leg", "b", "trunk", f.trunk.Name, "target", f.current.String(), "after", f.trunk.dns.timeout)
	if !c.failOver(out, "timeout", 0) {
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
		if len(f.rest) > 0 {
			c.arm(timerFailover, f.trunk.dns.timeout)
		}
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
