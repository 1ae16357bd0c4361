package sipdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// Target is one place to send a request: a transport and an address, with
// the records it came from. Resolve returns targets in the order to try.
type Target struct {
	// Transport is the transport to use.
	Transport Transport
	// Addr is the address and port to send to.
	Addr netip.AddrPort
	// Host is the name Addr was resolved from (the SRV target, or the URI's
	// host); for a numeric URI it is the address itself.
	Host string
	// SRV is the owner name of the SRV record that named Host (for example
	// "_sip._udp.example.com."), empty when no SRV record was used.
	SRV string
	// Priority and Weight are the SRV record's; zero without one.
	Priority, Weight uint16
}

// String renders t as "udp 192.0.2.1:5060 (sip1.example.com. via _sip._udp.example.com.)".
func (t Target) String() string {
	s := string(t.Transport) + " " + t.Addr.String()
	if t.SRV != "" {
		s += " (" + t.Host + " via " + t.SRV + ")"
	}
	return s
}

// Resolver resolves SIP URIs to targets (RFC 3263 §4) through a cache.
// It is safe for concurrent use.
type Resolver struct {
	cfg    Config
	log    *slog.Logger
	cache  *cache
	udp    *dns.Client
	tcp    *dns.Client
	flight singleflight.Group
}

// New returns a Resolver for cfg. It fails only when cfg names no servers
// and /etc/resolv.conf cannot be read.
func New(cfg Config, log *slog.Logger) (*Resolver, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("sipdns: system resolvers: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return nil, errors.New("sipdns: no DNS servers")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Resolver{
		cfg:   cfg,
		log:   log,
		cache: newCache(cfg.MaxEntries, cfg.MaxTTL, cfg.Now),
		udp:   &dns.Client{Net: "udp", Timeout: cfg.Timeout},
		tcp:   &dns.Client{Net: "tcp", Timeout: cfg.Timeout},
	}, nil
}

// Servers returns the DNS servers the resolver asks, in order.
func (r *Resolver) Servers() []string { return slices.Clone(r.cfg.Servers) }

// Resolve returns the targets for u in the order to try them (RFC 3263 §4):
//
//   - a numeric host is the only target; its transport is the URI's, or UDP
//     (TLS for sips) (§4.1, §4.2);
//   - an explicit port skips NAPTR and SRV: the host's addresses on that port
//     (§4.2);
//   - a transport parameter skips NAPTR: the SRV records for that transport,
//     else the host's addresses on the default port (§4.1, §4.2);
//   - otherwise the NAPTR records of the host, in order and preference, each
//     leading to its SRV records; without usable NAPTR records the SRV
//     records of every supported transport (sips: TLS only); without SRV
//     records the host's addresses on the default port over UDP (TLS for
//     sips) (§4.1, §4.2).
//
// SRV records are ordered by priority and weight (RFC 2782) and the
// addresses of one SRV target interleaved IPv6 first (RFC 8305 §4). A lookup
// that fails (server timeout, SERVFAIL) is passed over; when no target is
// found the error wraps ErrNoTargets and the lookup errors.
func (r *Resolver) Resolve(ctx context.Context, u URI) ([]Target, error) {
	tp, pinned, err := u.transport()
	if err != nil {
		return nil, err
	}
	if !pinned {
		tp = r.defaultTransport(u)
	}
	if addr, ok := u.numericHost(); ok {
		return []Target{{Transport: tp, Addr: netip.AddrPortFrom(addr, portOr(u.Port, tp)), Host: addr.String()}}, nil
	}
	host := dns.Fqdn(strings.ToLower(u.Host))
	res := resolution{r: r, ctx: ctx}
	switch {
	case u.Port != 0:
		res.hostTargets(host, tp, u.Port)
	case pinned:
		if !res.srvTargets(tp.srvPrefix()+host, tp) {
			res.hostTargets(host, tp, tp.DefaultPort())
		}
	default:
		if !res.naptrTargets(host, u.Secure) && !res.srvEach(host, u.Secure) {
			res.hostTargets(host, tp, tp.DefaultPort())
		}
	}
	if len(res.out) == 0 {
		return nil, fmt.Errorf("sipdns: %s: %w", u, errors.Join(append([]error{ErrNoTargets}, res.errs...)...))
	}
	r.log.Debug("sip uri resolved", "uri", u.String(), "targets", len(res.out), "first", res.out[0].String())
	return res.out, nil
}

// defaultTransport is the transport for a URI that names none: UDP for sip
// and TLS for sips (RFC 3263 §4.1), or the first supported reliable one
// when UDP is not supported.
func (r *Resolver) defaultTransport(u URI) Transport {
	if u.Secure {
		return TLS
	}
	if r.supports(UDP) || !r.supports(TCP) {
		return UDP
	}
	return TCP
}

func (r *Resolver) supports(t Transport) bool { return slices.Contains(r.cfg.Transports, t) }

func portOr(p uint16, t Transport) uint16 {
	if p != 0 {
		return p
	}
	return t.DefaultPort()
}

// resolution collects the targets of one Resolve call.
type resolution struct {
	r    *Resolver
	ctx  context.Context
	out  []Target
	errs []error
}

// naptrServices maps the NAPTR services of RFC 3263 §4.1 to transports.
var naptrServices = map[string]Transport{"SIP+D2U": UDP, "SIP+D2T": TCP, "SIPS+D2T": TLS}

// naptrTargets follows the host's NAPTR records (RFC 3263 §4.1): those with
// flag "s" and a supported service (SIPS+D2T alone for sips), by order then
// preference (RFC 3403 §4.1), each to its SRV records. It reports whether
// any usable NAPTR record led to a target.
func (res *resolution) naptrTargets(host string, secure bool) bool {
	a, err := res.r.lookup(res.ctx, host, dns.TypeNAPTR)
	if err != nil {
		res.errs = append(res.errs, err)
		return false
	}
	var usable []*dns.NAPTR
	for _, rr := range a.rrs {
		n := rr.(*dns.NAPTR)
		tp, ok := naptrServices[strings.ToUpper(n.Service)]
		if !ok || !strings.EqualFold(n.Flags, "s") || !res.r.supports(tp) || (secure && tp != TLS) {
			continue
		}
		usable = append(usable, n)
	}
	slices.SortStableFunc(usable, func(a, b *dns.NAPTR) int {
		if a.Order != b.Order {
			return int(a.Order) - int(b.Order)
		}
		return int(a.Preference) - int(b.Preference)
	})
	found := false
	for _, n := range usable {
		if res.srvTargets(n.Replacement, naptrServices[strings.ToUpper(n.Service)]) {
			found = true
		}
	}
	return found
}

// srvEach asks the SRV records of every supported transport in the
// configured order (sips: _sips._tcp only), as RFC 3263 §4.1 says to when
// there are no NAPTR records. It reports whether any led to a target.
func (res *resolution) srvEach(host string, secure bool) bool {
	found := false
	for _, tp := range res.r.cfg.Transports {
		if secure && tp != TLS {
			continue
		}
		if res.srvTargets(tp.srvPrefix()+host, tp) {
			found = true
		}
	}
	return found
}

// srvTargets appends the targets of the SRV records at name, ordered by RFC
// 2782, and reports whether there were any. A target of "." means the
// service is decidedly not available (RFC 2782).
func (res *resolution) srvTargets(name string, tp Transport) bool {
	a, err := res.r.lookup(res.ctx, name, dns.TypeSRV)
	if err != nil {
		res.errs = append(res.errs, err)
		return false
	}
	records := make([]*dns.SRV, 0, len(a.rrs))
	for _, rr := range a.rrs {
		records = append(records, rr.(*dns.SRV))
	}
	n := len(res.out)
	for _, s := range orderSRV(records, res.r.cfg.Rand) {
		if s.Target == "." {
			continue
		}
		for _, addr := range res.addresses(s.Target) {
			res.add(Target{Transport: tp, Addr: netip.AddrPortFrom(addr, s.Port), Host: dns.CanonicalName(s.Target),
				SRV: dns.CanonicalName(name), Priority: s.Priority, Weight: s.Weight})
		}
	}
	return len(res.out) > n
}

// hostTargets appends the host's addresses on port.
func (res *resolution) hostTargets(host string, tp Transport, port uint16) {
	for _, addr := range res.addresses(host) {
		res.add(Target{Transport: tp, Addr: netip.AddrPortFrom(addr, port), Host: host})
	}
}

// addresses returns host's AAAA and A addresses, interleaved IPv6 first.
// The two queries go out together (RFC 8305 §3) so that a slow family does
// not delay the other.
func (res *resolution) addresses(host string) []netip.Addr {
	type result struct {
		a   answer
		err error
	}
	var results [2]result
	qtypes := [2]uint16{dns.TypeAAAA, dns.TypeA}
	name := dns.CanonicalName(host)
	cached := 0
	for i, qtype := range qtypes {
		if a, ok := res.r.cache.get(cacheKey{name: name, qtype: qtype}); ok {
			results[i] = result{a: a}
			cached++
		}
	}
	if cached < len(qtypes) {
		// A miss: both questions go out at once (cache hits answer again
		// from the cache without waiting).
		var wg sync.WaitGroup
		for i, qtype := range qtypes {
			wg.Go(func() {
				a, err := res.r.lookup(res.ctx, host, qtype)
				results[i] = result{a, err}
			})
		}
		wg.Wait()
	}
	var addrs []netip.Addr
	for _, r := range results {
		if r.err != nil {
			res.errs = append(res.errs, r.err)
			continue
		}
		for _, rr := range r.a.rrs {
			var ip netip.Addr
			switch rr := rr.(type) {
			case *dns.AAAA:
				ip, _ = netip.AddrFromSlice(rr.AAAA)
			case *dns.A:
				ip, _ = netip.AddrFromSlice(rr.A.To4())
			}
			if ip.IsValid() {
				addrs = append(addrs, ip.Unmap())
			}
		}
	}
	return Interleave(addrs)
}

// add appends t unless the same transport and address is already listed.
func (res *resolution) add(t Target) {
	for _, o := range res.out {
		if o.Transport == t.Transport && o.Addr == t.Addr {
			return
		}
	}
	res.out = append(res.out, t)
}
