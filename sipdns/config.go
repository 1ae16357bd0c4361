package sipdns

import (
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// Config configures a Resolver. The zero value asks the system's resolvers
// (/etc/resolv.conf) with a 2 s timeout per query.
type Config struct {
	// Servers are the DNS servers asked, in order, as "host" or "host:port"
	// (port 53 when absent). Empty means the nameservers of /etc/resolv.conf.
	Servers []string
	// Timeout bounds one query to one server; 0 means 2 s (or resolv.conf's
	// timeout when Servers is empty).
	Timeout time.Duration
	// Transports are the transports the caller can use, in its order of
	// preference; NAPTR services and SRV queries for others are ignored
	// (RFC 3263 §4.1). Empty means UDP, TCP, TLS.
	Transports []Transport
	// MaxTTL caps how long any answer is cached; 0 means one hour.
	MaxTTL time.Duration
	// MaxEntries bounds the cache; 0 means 4096.
	MaxEntries int
	// Now is the clock for the cache; nil means time.Now.
	Now func() time.Time
	// Rand returns a uniform integer in [0, n) for the SRV weighted choice;
	// nil means math/rand/v2's IntN. It must be safe for concurrent use.
	Rand func(n int) int
}

// resolvConf is where the system's resolvers are read from.
var resolvConf = "/etc/resolv.conf"

// withDefaults returns c with its zero fields filled.
func (c Config) withDefaults() (Config, error) {
	if len(c.Servers) == 0 {
		cc, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return c, err
		}
		for _, s := range cc.Servers {
			c.Servers = append(c.Servers, net.JoinHostPort(s, cc.Port))
		}
		if c.Timeout == 0 && cc.Timeout > 0 {
			c.Timeout = time.Duration(cc.Timeout) * time.Second
		}
	} else {
		servers := make([]string, len(c.Servers))
		for i, s := range c.Servers {
			if _, _, err := net.SplitHostPort(s); err != nil {
				s = net.JoinHostPort(s, strconv.Itoa(53))
			}
			servers[i] = s
		}
		c.Servers = servers
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if len(c.Transports) == 0 {
		c.Transports = []Transport{UDP, TCP, TLS}
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = time.Hour
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 4096
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.IntN
	}
	return c, nil
}
