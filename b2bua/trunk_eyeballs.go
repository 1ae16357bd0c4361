package b2bua

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/sipdns"
)

// Happy Eyeballs for SIP (issue 13, item 3; after RFC 8305): a trunk
// target (an SRV target, or the URI's host) with both AAAA and A records
// is resolved to its addresses IPv6 first, alternating families
// (sipdns.Interleave). What happens next depends on the transport:
//
//	TCP/TLS: eyeballs ─► sipdns.Race over the host's addresses:
//	           [::1]   connect ──────────╳ (silent)     cancelled, held down
//	           127.0.0.2   after 250 ms ─► connect ✓ ──► INVITE over it
//	         the winning connection is left in sipgo's pool (Connect, our
//	         patch 7), so the INVITE sent to its address uses it; a loser
//	         that connects late is closed (Disconnect).
//	UDP:     the INVITE goes to the IPv6 address; the failover timer is
//	         happy_eyeballs_delay instead of failover_timeout while the
//	         next target is the same host in the other family, so a
//	         silent IPv6 path costs that delay, not failover_timeout and
//	         never Timer B (trunk_dns.go does the failover).
//
// Either way the addresses left behind are held down like any failed
// target, so later calls go straight to the family that works, and the
// CDR's trunk_targets lists them ("→ slower", "→ connect failed").

// connector opens a connection ahead of a request (sipgoSender; a test's
// sender need not be one, and then nothing is raced).
type connector interface {
	connect(ctx context.Context, transport string, to netip.AddrPort) (sip.Connection, error)
	disconnect(transport string, to netip.AddrPort, c sip.Connection)
}

var _ connector = (*sipgoSender)(nil)

func (s *sipgoSender) connect(ctx context.Context, transport string, to netip.AddrPort) (sip.Connection, error) {
	return s.ua.TransportLayer().Connect(ctx, transport, sipAddrPort(to))
}

func (s *sipgoSender) disconnect(transport string, to netip.AddrPort, c sip.Connection) {
	_ = s.ua.TransportLayer().Disconnect(transport, sipAddrPort(to), c)
}

// sipAddrPort is a as sipgo's transport layer names an address.
func sipAddrPort(a netip.AddrPort) sip.Addr {
	return sip.Addr{IP: net.IP(a.Addr().Unmap().AsSlice()), Port: int(a.Port())}
}

// eyeballsDelay is the trunk's happy_eyeballs_delay, never longer than
// its failover_timeout.
func (d *trunkDNS) eyeballsDelay() time.Duration {
	if d.eyeballs <= 0 || d.eyeballs > d.timeout {
		return d.timeout
	}
	return d.eyeballs
}

// otherFamily reports whether b is a's host in the other address family
// (the next Happy Eyeballs attempt after a).
func otherFamily(a, b sipdns.Target) bool {
	return a.Host == b.Host && a.Addr.Port() == b.Addr.Port() && a.Transport == b.Transport &&
		a.Addr.Addr().Unmap().Is4() != b.Addr.Addr().Unmap().Is4()
}

// eyeballs races the connections to the first target's addresses when
// it is a TCP or TLS host with several (RFC 8305 §5) and returns the
// targets with the winner first and the losers gone (held down, listed
// in the CDR). Without a race to run, targets come back as they are.
// The race runs before the INVITE is sent, bounded by failover_timeout.
func (c *Call) eyeballs(t *Trunk, targets []sipdns.Target) ([]sipdns.Target, error) {
	conn, ok := c.sip.(connector)
	if !ok || (targets[0].Transport != sipdns.TCP && targets[0].Transport != sipdns.TLS) {
		return targets, nil
	}
	group := sipdns.ByHost(targets)[0] // one host's addresses, IPv6 first
	n := len(group)
	if n < 2 {
		return targets, nil
	}
	for _, tg := range group {
		c.noteTLSTarget(t, tg) // the TLS handshake verifies the trunk's name
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.dns.timeout)
	defer cancel()
	start := time.Now()
	dial := func(ctx context.Context, i int) (sip.Connection, error) {
		return conn.connect(ctx, transportName(group[i].Transport), group[i].Addr)
	}
	drop := func(i int, cn sip.Connection) { // connected after another won
		conn.disconnect(transportName(group[i].Transport), group[i].Addr, cn)
	}
	w, _, outcome := sipdns.Race(ctx, n, t.dns.eyeballsDelay(), dial, drop)
	for i, err := range outcome {
		if i == w || errors.Is(err, sipdns.ErrNotTried) {
			continue
		}
		why := "connect failed"
		switch {
		case errors.Is(err, sipdns.ErrSlower):
			why = "slower"
		case errors.Is(err, context.DeadlineExceeded):
			why = "connect timeout"
		}
		t.dns.targets.Fail(group[i], 0)
		c.rec.TrunkTargets = append(c.rec.TrunkTargets, group[i].String()+" → "+why)
		c.log.Info("trunk address passed over (happy eyeballs)", "leg", "b", "trunk", t.Name, "target", group[i].String(), "why", why, "error", err)
	}
	rest := targets[n:]
	out := make([]sipdns.Target, 0, len(targets))
	if w >= 0 {
		c.log.Debug("trunk address connected first (happy eyeballs)", "leg", "b", "trunk", t.Name, "target", group[w].String(), "after", time.Since(start))
		out = append(out, group[w])
	}
	for i := range group {
		if errors.Is(outcome[i], sipdns.ErrNotTried) {
			out = append(out, group[i]) // never reached: still a fallback
		}
	}
	out = append(out, rest...)
	if len(out) == 0 {
		return nil, errNoTrunkTargets
	}
	return out, nil
}
