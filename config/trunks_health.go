package config

import (
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Trunk health and destinations (issue 13, item 4): a trunk may have
// several destinations, tried by priority and weight, and OPTIONS pings
// that mark each destination, and the trunk, down or up.

// TrunkHealth is a trunk's OPTIONS health check (trunks[].ping_interval).
type TrunkHealth struct {
	// PingInterval is how often each destination of the trunk is sent an
	// OPTIONS request; 0 (default) sends none. A destination that does not
	// answer within min(failover_timeout, ping_interval) is marked down,
	// and up again at its first answer (any status). A trunk whose
	// destinations are all down is skipped by routing.
	PingInterval time.Duration `yaml:"ping_interval"`
}

// TrunkDestination is one trunks[].destinations entry: a place the
// trunk's calls may be sent, instead of the URI's host.
type TrunkDestination struct {
	// URI is where requests go (host, port, transport), e.g.
	// sip:192.0.2.10:5060 or sip:sbc2.carrier.example;transport=tcp.
	URI string `yaml:"uri"`
	// Priority orders destinations, lowest first (default 0); Weight
	// shares calls among those of one priority (RFC 2782; default 0).
	Priority uint16 `yaml:"priority"`
	Weight   uint16 `yaml:"weight"`

	// ParsedURI is URI parsed (filled by Validate).
	ParsedURI sip.Uri `yaml:"-"`
}

// trunkHealth validates a trunk's ping interval and destinations.
func (v *validator) trunkHealth(t *Trunk, key string) {
	if t.Health.PingInterval < 0 {
		v.errf(key+".ping_interval", "must be 0 (off) or a positive duration, got %s", t.Health.PingInterval)
	}
	for i := range t.Destinations {
		d := &t.Destinations[i]
		k := fmt.Sprintf("%s.destinations[%d].uri", key, i)
		if d.URI == "" {
			v.errf(k, "required, e.g. sip:192.0.2.10:5060")
			continue
		}
		u, err := parseSIPURI(d.URI)
		if err != nil {
			v.errf(k, "%v", err)
			continue
		}
		d.ParsedURI = u
	}
	if len(t.Destinations) > 0 && t.ParsedProxy != nil {
		v.errf(key+".destinations", "goes without outbound_proxy (each destination is where requests go)")
	}
}
