package media

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults applied by NewEngine to zero fields of Config.
const (
	// DefaultQuarantine is how long a released port pair stays unusable.
	DefaultQuarantine = 10 * time.Second
	// DefaultInactivity is the media timeout the configuration layer should
	// use; Config.Inactivity itself treats zero as "disabled".
	DefaultInactivity = 60 * time.Second
	// DefaultLatchPackets is how many consecutive packets from one new
	// source address move the latch.
	DefaultLatchPackets = 3

	defaultClock = 8000
	maxSweep     = time.Second
	minSweep     = 5 * time.Millisecond
	// readBufferSize is a reactor's read buffer, for RTP and RTCP alike.
	readBufferSize = 2048
)

// Config configures an Engine.
type Config struct {
	// Bind is the local address the RTP and RTCP sockets bind to. The zero
	// value binds the IPv4 wildcard 0.0.0.0.
	Bind netip.Addr
	// Advertise is the address written into SDP (c=). The zero value uses
	// Bind, which must then be a specific address.
	Advertise netip.Addr
	// PortMin and PortMax bound the RTP ports. RTP ports are even, RTCP is
	// RTP+1 (RFC 3550 §11), and both must lie in [PortMin, PortMax].
	PortMin, PortMax int
	// Quarantine is how long a released port pair is kept out of use so that
	// late packets of the old call do not reach a new one. The pair stays
	// bound meanwhile, discarding what arrives, and for a few seconds after
	// (doc.go, Port pairs), so every port in [PortMin, PortMax] may hold an
	// open socket. Zero means DefaultQuarantine, a negative value disables
	// quarantine.
	Quarantine time.Duration
	// Inactivity ends a started, unpaused bridge that has received no RTP in
	// either direction for this long. Zero disables the timeout; the
	// configuration layer's default is DefaultInactivity.
	Inactivity time.Duration
	// LatchPackets is how many consecutive valid RTP packets from one new
	// source address are needed to latch onto it. Zero or negative means
	// DefaultLatchPackets.
	LatchPackets int
	// Now returns the current time. Nil means time.Now; tests inject a
	// controllable clock.
	Now func() time.Time
}

// ErrConfig is wrapped by every configuration error NewEngine returns.
var ErrConfig = errors.New("media: invalid config")

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if !c.Bind.IsValid() {
		c.Bind = netip.IPv4Unspecified()
	}
	c.Bind = c.Bind.Unmap()
	if !c.Advertise.IsValid() {
		if c.Bind.IsUnspecified() {
			return c, fmt.Errorf("%w: Advertise is required when Bind is %s", ErrConfig, c.Bind)
		}
		c.Advertise = c.Bind
	}
	c.Advertise = c.Advertise.Unmap()
	if c.Advertise.IsUnspecified() {
		return c, fmt.Errorf("%w: Advertise %s is unspecified", ErrConfig, c.Advertise)
	}
	if c.PortMin%2 == 1 {
		c.PortMin++
	}
	if c.PortMin < 1 || c.PortMax > 65535 || c.PortMin+1 > c.PortMax {
		return c, fmt.Errorf("%w: port range %d-%d holds no RTP/RTCP pair", ErrConfig, c.PortMin, c.PortMax)
	}
	switch {
	case c.Quarantine == 0:
		c.Quarantine = DefaultQuarantine
	case c.Quarantine < 0:
		c.Quarantine = 0
	}
	if c.Inactivity < 0 {
		c.Inactivity = 0
	}
	if c.LatchPackets <= 0 {
		c.LatchPackets = DefaultLatchPackets
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// sweepInterval is how often the sweeper runs: once a second, or four times
// per inactivity period when that is shorter.
func (c Config) sweepInterval() time.Duration {
	d := maxSweep
	if c.Inactivity > 0 {
		d = min(d, c.Inactivity/4)
	}
	return max(d, minSweep)
}
