package config

import (
	"fmt"
	"time"
)

// Overload configures admission control of new calls (b2bua/overload.go):
// a new INVITE that finds Switchboard past its capacity gets a stateless
// 503 with Retry-After before any transaction or media state is made.
// Requests of calls in progress are never refused by it.
type Overload struct {
	// Enabled turns admission control on (default true).
	Enabled *bool `yaml:"enabled"`
	// MaxQueueDelay is the standing delay of the SIP UDP socket's receive
	// queue above which new INVITEs are refused: the least time any
	// datagram waited there during the last 100 ms (default 50ms). A
	// short stall makes a burst of delayed datagrams, not a standing
	// queue, and refuses nothing.
	MaxQueueDelay time.Duration `yaml:"max_queue_delay"`
	// MaxSetups bounds the INVITEs in flight: received and admitted, not
	// yet finally answered (default 0: unbounded). Set it to about the
	// call rate the machine holds times the longest ring time expected.
	MaxSetups int `yaml:"max_setups"`
	// RetryAfter is the Retry-After of the 503 (RFC 3261 §20.33), whole
	// seconds (default 5s).
	RetryAfter time.Duration `yaml:"retry_after"`
	// FDReserve is the descriptors kept for everything but media sockets:
	// listeners, TCP/TLS connections, record files, the API (default 256).
	// New calls are refused when fewer than a call's four media sockets
	// are left beyond it.
	FDReserve int `yaml:"fd_reserve"`
}

// Overload defaults.
const (
	DefaultMaxQueueDelay = 50 * time.Millisecond
	DefaultRetryAfter    = 5 * time.Second
	DefaultFDReserve     = 256
)

// On reports whether admission control is enabled (the default).
func (o *Overload) On() bool { return o.Enabled == nil || *o.Enabled }

// applyOverloadDefaults fills the overload section's zero keys.
func (c *Config) applyOverloadDefaults() {
	o := &c.Overload
	setDur(&o.MaxQueueDelay, DefaultMaxQueueDelay)
	setDur(&o.RetryAfter, DefaultRetryAfter)
	setInt(&o.FDReserve, DefaultFDReserve)
}

// overload validates the overload section.
func (v *validator) overload() {
	o := &v.c.Overload
	v.positive("overload.max_queue_delay", o.MaxQueueDelay)
	if o.MaxSetups < 0 {
		v.errf("overload.max_setups", "must be 0 (unbounded) or more, got %d", o.MaxSetups)
	}
	if o.RetryAfter < time.Second || o.RetryAfter%time.Second != 0 {
		v.errf("overload.retry_after", "must be whole seconds, at least 1s, got %s", o.RetryAfter)
	}
	if o.FDReserve < 16 {
		v.errf("overload.fd_reserve", "must be 16 or more (listeners, record files, connections), got %d", o.FDReserve)
	}
}

// Media sockets of one bridged call: two endpoints, each an RTP and an
// RTCP socket.
const fdsPerCall = 4

// CheckDescriptors checks the configuration against limit, the process's
// descriptor limit (RLIMIT_NOFILE, raised to its hard limit at start). It
// returns an error, naming file, line and key, when not even the
// configured calls fit, and a warning when the media port range could
// bind more sockets than the limit allows (admission control then refuses
// calls by descriptors before the ports run out).
func (c *Config) CheckDescriptors(limit uint64) (warning string, err error) {
	o := &c.Overload
	calls := max(c.Calls.MaxCalls, 1)
	need := uint64(o.FDReserve + fdsPerCall*calls)
	if limit < need {
		key := "overload.fd_reserve"
		if c.Calls.MaxCalls > 0 {
			key = "calls.max_calls"
		}
		return "", fmt.Errorf("%s: %d calls need %d descriptors (%d media sockets each plus overload.fd_reserve %d), but the descriptor limit (RLIMIT_NOFILE, hard) is %d: raise it (systemd LimitNOFILE=, ulimit -Hn) or lower the key",
			c.where(key), calls, need, fdsPerCall, o.FDReserve, limit)
	}
	pairs := (c.Media.PortMax - c.Media.PortMin + 1) / 2
	if full := uint64(o.FDReserve + 2*pairs); limit < full {
		return fmt.Sprintf("media.ports %d-%d can bind %d sockets, more than the descriptor limit %d leaves beyond overload.fd_reserve %d: new calls are refused by descriptors first (about %d concurrent calls)",
			c.Media.PortMin, c.Media.PortMax, 2*pairs, limit, o.FDReserve, (limit-uint64(o.FDReserve))/fdsPerCall), nil
	}
	return "", nil
}
