package config

import "time"

// Defaults applied by ApplyDefaults to keys left out (or zero).
const (
	DefaultRingTimeout       = 60 * time.Second
	DefaultSessionExpires    = 1800 * time.Second
	DefaultMinSE             = 90 * time.Second
	DefaultInactivityTimeout = 60 * time.Second
	DefaultQuarantine        = 10 * time.Second
	DefaultLatchPackets      = 3
	DefaultShutdownGrace     = 30 * time.Second
	DefaultMinExpires        = 60
	DefaultMaxExpires        = 3600
	DefaultRegisterExpires   = 600
	DefaultNonceLifetime     = 5 * time.Minute
	// DefaultTransactionLinger is Kamailio tm's wait timer, not RFC 3261's
	// 64×T1 = 32 s: see configs/README.md, sip.transaction_linger.
	DefaultTransactionLinger = 5 * time.Second
	DefaultRecordsDir        = "var/records"
	DefaultStateDir          = "var/state"
	DefaultPorts             = "20000-29999"
	DefaultUserAgent         = "Switchboard"
	DefaultRejectStatus      = 403
	DefaultLogLevel          = "info"
	DefaultLogFormat         = "text"
	// DefaultGCPercent trades heap for collector CPU: a call leaves tens
	// of KiB of short-lived garbage behind, and at 100 the collector was a
	// quarter of the signaling CPU (README, Benchmarks).
	DefaultGCPercent = 400
	// DefaultHEPAgentID is the capture agent id of HEP packets.
	DefaultHEPAgentID = 2001
)

// DefaultCodecs returns the codecs offered when media.codecs is not set, in
// preference order.
func DefaultCodecs() []string {
	return []string{"PCMU", "PCMA", "G722", "opus", "telephone-event"}
}

// ApplyDefaults fills every key left zero with its default. Load calls it
// before Validate; call it yourself for a Config built in code. Negative
// values are left for Validate to reject.
func (c *Config) ApplyDefaults() {
	s := &c.SIP
	if s.Realm == "" {
		s.Realm = s.Domain
	}
	if s.UserAgent == "" {
		s.UserAgent = DefaultUserAgent
	}
	setInt(&s.MinExpires, DefaultMinExpires)
	setInt(&s.MaxExpires, DefaultMaxExpires)
	setInt(&s.DefaultExpires, DefaultRegisterExpires)
	setDur(&s.NonceLifetime, DefaultNonceLifetime)
	setDur(&s.TransactionLinger, DefaultTransactionLinger)
	if len(s.DigestAlgorithms) == 0 {
		s.DigestAlgorithms = []string{"SHA-256", "MD5"}
	}

	m := &c.Media
	if m.Advertise == "" && m.Address != "" && m.Address != "0.0.0.0" && m.Address != "::" {
		m.Advertise = m.Address
	}
	if m.Ports == "" {
		m.Ports = DefaultPorts
	}
	if len(m.Codecs) == 0 {
		m.Codecs = DefaultCodecs()
	}
	setDur(&m.InactivityTimeout, DefaultInactivityTimeout)
	setDur(&m.Quarantine, DefaultQuarantine)
	setInt(&m.LatchPackets, DefaultLatchPackets)

	for i := range c.Routes {
		if c.Routes[i].To == RouteReject && c.Routes[i].Status == 0 {
			c.Routes[i].Status = DefaultRejectStatus
		}
	}

	setDur(&c.Calls.RingTimeout, DefaultRingTimeout)
	setDur(&c.Calls.SessionExpires, DefaultSessionExpires)
	setDur(&c.Calls.MinSE, DefaultMinSE)
	if c.Records.Dir == "" {
		c.Records.Dir = DefaultRecordsDir
	}
	if c.State.Dir == "" {
		c.State.Dir = DefaultStateDir
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	setInt(&c.Runtime.GCPercent, DefaultGCPercent)
	if c.HEP.AgentID == 0 {
		c.HEP.AgentID = DefaultHEPAgentID
	}
	setDur(&c.ShutdownGrace, DefaultShutdownGrace)
	c.applySecurityDefaults()
	c.applyOverloadDefaults()
	c.applyServiceDefaults()
	c.applyRegistrarDefaults()
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

func setDur(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}
