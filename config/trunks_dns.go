package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Trunk DNS and failover (issue 13, item 1): a trunk URI or outbound proxy
// given by host name is resolved by RFC 3263 (package sipdns) through the
// resolvers of the dns: section, and a call tries the targets in turn.

// Failover defaults.
const (
	// DefaultFailoverTimeout is how long a trunk target may stay silent
	// (not even 100 Trying) before the call moves to the next one: well
	// under Timer B (32 s), above any round trip a carrier has.
	DefaultFailoverTimeout = 2 * time.Second
	// DefaultHoldDown is how long a failed target is avoided when its
	// failure carried no Retry-After.
	DefaultHoldDown = 30 * time.Second
	// DefaultHappyEyeballsDelay is the Connection Attempt Delay of
	// RFC 8305 §5: how long one address family has before the other is
	// tried.
	DefaultHappyEyeballsDelay = 250 * time.Millisecond
)

// DNS configures how host names of trunks and outbound proxies are
// resolved (RFC 3263: NAPTR, SRV, AAAA and A records).
type DNS struct {
	// Servers are the DNS servers asked, in order, as "ip" or "ip:port"
	// (port 53 by default). Empty: the system's (/etc/resolv.conf).
	Servers []string `yaml:"servers"`
	// Timeout bounds one query to one server (default 2s, or
	// resolv.conf's timeout).
	Timeout time.Duration `yaml:"timeout"`
	// MaxTTL caps how long an answer is cached (default 1h).
	MaxTTL time.Duration `yaml:"max_ttl"`
}

// TrunkFailover is how a trunk's calls move between the targets its URI
// resolves to (trunks[].failover_timeout, trunks[].hold_down).
type TrunkFailover struct {
	// FailoverTimeout is how long a target may leave an INVITE without
	// any response before the next target is tried (default 2s).
	FailoverTimeout time.Duration `yaml:"failover_timeout"`
	// HoldDown is how long a target that failed (timeout, 503, 408,
	// transport error) is avoided unless a Retry-After says otherwise
	// (default 30s).
	HoldDown time.Duration `yaml:"hold_down"`
	// HappyEyeballsDelay is how long the IPv6 address of a target with
	// both AAAA and A records has before IPv4 is tried (RFC 8305): a
	// TCP/TLS connection attempt to IPv4 starts beside the IPv6 one, and
	// over UDP an IPv6 address that has not answered the INVITE is
	// abandoned for IPv4 (default 250ms; failover_timeout when that is
	// shorter).
	HappyEyeballsDelay time.Duration `yaml:"happy_eyeballs_delay"`
}

// dns validates the dns: section.
func (v *validator) dns() {
	d := &v.c.DNS
	for i, s := range d.Servers {
		key := fmt.Sprintf("dns.servers[%d]", i)
		host, port := s, ""
		if h, p, err := net.SplitHostPort(s); err == nil {
			host, port = h, p
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
			v.errf(key, "%q: want an IP address, optionally with :port", s)
			continue
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				v.errf(key, "%q: port must be 1..65535", s)
			}
		}
	}
	if d.Timeout < 0 {
		v.errf("dns.timeout", "must be positive, got %s", d.Timeout)
	}
	if d.MaxTTL < 0 {
		v.errf("dns.max_ttl", "must be positive, got %s", d.MaxTTL)
	}
}

// trunkFailover validates and defaults a trunk's failover settings.
func (v *validator) trunkFailover(t *Trunk, key string) {
	f := &t.Failover
	if f.FailoverTimeout == 0 {
		f.FailoverTimeout = DefaultFailoverTimeout
	}
	if f.HoldDown == 0 {
		f.HoldDown = DefaultHoldDown
	}
	v.positive(key+".failover_timeout", f.FailoverTimeout)
	v.positive(key+".hold_down", f.HoldDown)
	if f.HappyEyeballsDelay == 0 {
		f.HappyEyeballsDelay = DefaultHappyEyeballsDelay
	}
	v.positive(key+".happy_eyeballs_delay", f.HappyEyeballsDelay)
}
