// Package config holds Switchboard's configuration: the YAML shape, strict
// decoding, ${ENV} expansion and validation.
//
//	file ──read──► ${ENV} expand ──► yaml.v3 (KnownFields) ──► Config ──► Validate ──► ready
//
// The types in this file are the contract used by every other package; the
// loader lives in load.go.
package config

import (
	"net/netip"
	"regexp"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
)

// Config is the whole of Switchboard's configuration.
type Config struct {
	SIP     SIP     `yaml:"sip"`
	Media   Media   `yaml:"media"`
	Users   []User  `yaml:"users"`
	Trunks  []Trunk `yaml:"trunks"`
	Routes  []Route `yaml:"routes"`
	Calls   Calls   `yaml:"calls"`
	Records Records `yaml:"records"`
	State   State   `yaml:"state"`
	Log     Log     `yaml:"log"`
	Runtime Runtime `yaml:"runtime"`
	API     API     `yaml:"api"`
	HEP     HEP     `yaml:"hep"`
	// Registrar says where registrations are kept (config/registrar.go).
	Registrar Registrar `yaml:"registrar"`
	// QualityReports publishes RFC 6035 call quality reports (config/vq.go).
	QualityReports QualityReports `yaml:"quality_reports"`
	Security       Security       `yaml:"security"` // attack protection (config/guard.go)
	Overload       Overload       `yaml:"overload"` // admission control (config/overload.go)
	Services       Services       `yaml:"services"` // echo, tone, playback, recording, MOH, conference (config/services.go)
	DNS            DNS            `yaml:"dns"`      // resolvers for trunk host names (config/trunks_dns.go)
	WebRTC         WebRTC         `yaml:"webrtc"`   // ICE-lite, DTLS-SRTP certificate, consent (config/webrtc.go)
	Identity       Identity       `yaml:"identity"` // STIR/SHAKEN verification of calls from trunks (config/identity.go)
	Tones          Tones          `yaml:"tones"`    // tone plan and failure announcements (config/tones.go)
	ShutdownGrace  time.Duration  `yaml:"shutdown_grace"`

	// WebSocket is SIP over WebSocket and the browser phone (config/websocket.go).
	WebSocket WebSocket `yaml:"websocket"`

	// Path is the file the configuration was read from (not a YAML key).
	Path string `yaml:"-"`

	// lines maps a key path ("sip.listen[1]") to its line in Path (filled by Load),
	// so that Validate can name file, line and key.
	lines map[string]int
}

// SIP configures the signaling half.
type SIP struct {
	// Listen lists transport URLs: udp://127.0.0.1:5060, tcp://[::1]:5060.
	Listen []string `yaml:"listen"`
	// Domain is the SIP domain users register in; also the digest realm.
	Domain string `yaml:"domain"`
	// Realm overrides the digest realm (defaults to Domain).
	Realm string `yaml:"realm"`
	// UserAgent is the User-Agent/Server header value.
	UserAgent string `yaml:"user_agent"`
	// Registration bounds.
	MinExpires     int `yaml:"min_expires"`
	MaxExpires     int `yaml:"max_expires"`
	DefaultExpires int `yaml:"default_expires"`
	// NonceLifetime bounds how long a digest nonce is valid (stale=true after).
	NonceLifetime time.Duration `yaml:"nonce_lifetime"`
	// DigestAlgorithms lists the digest challenges offered, most preferred
	// first (RFC 8760 §2.4): SHA-256, MD5. Clients that take the topmost
	// challenge and know only MD5 need MD5 first.
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	// TransactionLinger is how long a completed transaction stays to
	// absorb retransmissions (RFC 3261 Timer J, RFC 6026 Timers L and M).
	TransactionLinger time.Duration `yaml:"transaction_linger"`
	// TLS is the certificate of the tls:// listeners (config/tls.go).
	TLS TLS `yaml:"tls"`

	// Listeners is Listen parsed (filled by Validate).
	Listeners []Listener `yaml:"-"`
}

// Listener is one parsed sip.listen entry.
type Listener struct {
	// Transport is "udp", "tcp", "tls", "ws" or "wss" (lower case, as sipgo's ListenAndServe takes it).
	Transport string
	// Addr is the local address and port.
	Addr netip.AddrPort
}

// Media configures RTP anchoring.
type Media struct {
	// Address is the local address RTP sockets bind to.
	Address string `yaml:"address"`
	// Advertise is the address written into SDP (defaults to Address).
	Advertise string `yaml:"advertise"`
	// Ports is the RTP port range "min-max" (even ports for RTP, odd for RTCP).
	Ports string `yaml:"ports"`
	// Codecs lists the codecs offered, by SDP name, in preference order.
	Codecs []string `yaml:"codecs"`
	// InactivityTimeout ends a call when no RTP arrives for this long (default 60s).
	InactivityTimeout time.Duration `yaml:"inactivity_timeout"`
	// Quarantine keeps released ports out of use for this long (default 10s).
	Quarantine time.Duration `yaml:"quarantine"`
	// LatchPackets is how many consecutive packets from a new source latch it (default 3).
	LatchPackets int `yaml:"latch_packets"`
	// OpusComplexity is the Opus encoder complexity 1-10 of transcoded
	// calls (default 5).
	OpusComplexity int `yaml:"opus_complexity"`
	// SRTP is the default media security of users and trunks: off,
	// opportunistic (the default) or required (config/srtp.go).
	SRTP string `yaml:"srtp"`

	// PortMin and PortMax are Ports parsed (filled by Validate); PortMin is even.
	PortMin int `yaml:"-"`
	PortMax int `yaml:"-"`
	// BindAddr is Address parsed and AdvertiseAddr is Advertise parsed, or
	// BindAddr when Advertise is empty (filled by Validate).
	BindAddr      netip.Addr `yaml:"-"`
	AdvertiseAddr netip.Addr `yaml:"-"`
}

// User is a local subscriber that registers and places calls.
type User struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
	// DisplayName is optional.
	DisplayName string `yaml:"display_name"`
	// Codecs, when set, are the codecs offered to the user's phones, in
	// preference order (default media.codecs).
	Codecs []string `yaml:"codecs"`
	// Limits are the user's toll-fraud limits (max_calls, calls_per_hour, allow; config/guard.go).
	Limits UserLimits `yaml:",inline"`
	// SRTP is the media security of calls to and from the user (srtp, srtp_fallback; config/srtp.go).
	SRTP SRTPPolicy `yaml:",inline"`
	// Policy is the user's recording and hold policy (config/services.go).
	Policy CallPolicy `yaml:",inline"`
	// Streams is the user's video policy (video; config/streams.go).
	Streams StreamPolicy `yaml:",inline"`
	// Groups name the user's groups, for routes[].source "group:NAME" (config/trunks_policy.go).
	Groups []string `yaml:"groups"`
	// WebRTC makes calls to the user WebRTC legs: ICE-lite, DTLS-SRTP,
	// UDP/TLS/RTP/SAVPF (config/webrtc.go).
	WebRTC bool `yaml:"webrtc"`
}

// Trunk is a SIP peer reached by URI.
type Trunk struct {
	Name string `yaml:"name"`
	// URI is where calls to the trunk are sent, e.g. sip:carrier.example:5060;transport=udp.
	URI string `yaml:"uri"`
	// OutboundProxy, when set, is where requests are sent instead of the URI's host.
	OutboundProxy string `yaml:"outbound_proxy"`
	// Trusted lists CIDR ranges whose requests are accepted without digest.
	Trusted []string `yaml:"trusted"`
	// Codecs, when set, are the codecs offered to the trunk, in
	// preference order (default media.codecs).
	Codecs []string `yaml:"codecs"`
	// Causes overrides the RFC 3398 cause tables for this trunk's calls
	// (package cause): q850_to_sip for the status relayed to the caller
	// when the trunk's final response carries a Q.850 Reason, sip_to_q850
	// for the cause of its statuses.
	Causes cause.Config `yaml:"causes"`
	// TransitTo names the trunks this trunk's calls may be routed out to.
	// Trunk-to-trunk transit is refused unless the pair is listed here
	// (toll fraud: a trusted trunk reaching another carrier).
	TransitTo []string `yaml:"transit_to"`
	// TLS is the trunk's transport choice and TLS settings (config/tls.go).
	TLS TrunkTLS `yaml:",inline"`
	// QualityCollector is the SIP URI the RFC 6035 quality reports of this
	// trunk's calls go to (config/vq.go); empty: quality_reports.collector.
	QualityCollector       string   `yaml:"quality_collector"`
	ParsedQualityCollector *sip.Uri `yaml:"-"`
	// SRTP is the media security of calls to and from the trunk (srtp, srtp_fallback; config/srtp.go).
	SRTP SRTPPolicy `yaml:",inline"`
	// Policy is the trunk's recording and hold policy (config/services.go).
	Policy CallPolicy `yaml:",inline"`
	// Streams is the trunk's video policy (video; config/streams.go).
	Streams StreamPolicy `yaml:",inline"`
	// Failover is how calls move between the targets of a trunk given by
	// host name (config/trunks_dns.go).
	Failover TrunkFailover `yaml:",inline"`
	// Health is the trunk's OPTIONS ping (config/trunks_health.go).
	Health TrunkHealth `yaml:",inline"`
	// Destinations, when set, are where the trunk's calls go, by priority
	// and weight, instead of the URI's host (config/trunks_health.go).
	Destinations []TrunkDestination `yaml:"destinations"`
	// Register, when set, registers with the carrier (config/trunks_register.go).
	Register *TrunkRegister `yaml:"register"`
	// DIDs maps numbers dialled on calls from this trunk to local users
	// (config/trunks_policy.go).
	DIDs map[string]string `yaml:"dids"`
	// MaxCalls bounds the calls up at once to this trunk (0: unbounded;
	// config/trunks_policy.go).
	MaxCalls int `yaml:"max_calls"`
	// MaxCPS bounds the new calls a second sent to this trunk (0:
	// unbounded; config/trunks_policy.go).
	MaxCPS float64 `yaml:"max_cps"`
	// Identity, when set, signs the calls sent to the trunk (STIR/SHAKEN;
	// config/identity.go).
	Identity *TrunkIdentity `yaml:"identity"`
	// Numbering is the trunk's numbering plan for E.164 (config/identity.go).
	Numbering TrunkNumbering `yaml:"numbering"`
	// AssertedIdentity says how the caller's identity is asserted to the
	// trunk: pai (P-Asserted-Identity, RFC 3325; the default) or none
	// (config/privacy.go).
	AssertedIdentity string `yaml:"asserted_identity"`

	// CauseOverrides is Causes built (nil when empty); filled by Validate.
	CauseOverrides *cause.Overrides `yaml:"-"`
	// TrustedNets is Trusted parsed (filled by Validate); a bare address becomes a /32 or /128.
	TrustedNets []netip.Prefix `yaml:"-"`
	// ParsedURI is URI parsed, and ParsedProxy OutboundProxy parsed (nil
	// when empty); both filled by Validate.
	ParsedURI   sip.Uri  `yaml:"-"`
	ParsedProxy *sip.Uri `yaml:"-"`
}

// Route is one ordered routing rule.
type Route struct {
	// Match is a regular expression on the dialled user part.
	Match string `yaml:"match"`
	// To is "user", "trunk:NAME", "reject" or a built-in service (echo,
	// tone, playback, conference: config/services.go).
	To string `yaml:"to"`
	// Rewrite is an expansion template using Match's captures ($1, ${name}); empty keeps the number.
	Rewrite string `yaml:"rewrite"`
	// Status is the response code for To: reject (default 403).
	Status int `yaml:"status"`
	// Reason is the reason phrase for To: reject.
	Reason string `yaml:"reason"`
	// MediaMode is "relay" (default: the relay whenever both legs share a
	// codec and ptime) or "process" (every call of the route through the
	// processing path: jitter buffer, concealment, re-encoding).
	MediaMode string `yaml:"media_mode"`
	// Transcode allows calls of the route to be transcoded when the legs
	// share no codec (default true); false keeps today's 488.
	Transcode *bool `yaml:"transcode"`
	// Policy is the route's recording and hold policy, Service a service
	// route's file or tone (config/services.go).
	Policy  CallPolicy     `yaml:",inline"`
	Service ServiceOptions `yaml:",inline"`
	// Select is the route's source condition and fallback trunks (config/trunks_policy.go).
	Select RoutePolicy `yaml:",inline"`
	// Streams is the route's video policy (video; config/streams.go).
	Streams StreamPolicy `yaml:",inline"`

	// Re is Match compiled (filled by Validate).
	Re *regexp.Regexp `yaml:"-"`
}

// Route media modes.
const (
	MediaRelay   = "relay"
	MediaProcess = "process"
)

// Transcoding reports whether the route allows transcoding (default true).
func (r *Route) Transcoding() bool { return r.Transcode == nil || *r.Transcode }

// Calls holds per-call limits.
type Calls struct {
	// RingTimeout ends an unanswered call (default 60s).
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// MaxCalls bounds concurrent calls (0 = unbounded).
	MaxCalls int `yaml:"max_calls"`
	// SessionExpires is the session interval (RFC 4028) Switchboard asks
	// of callees and gives a caller that supports timers but asked none
	// (default 1800s).
	SessionExpires time.Duration `yaml:"session_expires"`
	// MinSE is the smallest session interval Switchboard accepts: a
	// caller asking less gets 422 (default 90s, RFC 4028 §4; lower only
	// for tests).
	MinSE time.Duration `yaml:"min_se"`
}

// Records configures CDR output.
type Records struct {
	Dir string `yaml:"dir"`
	// DatabaseURL, when set, also ships every record into PostgreSQL
	// (package pgrecords): postgres://user:pass@host:port/db?sslmode=…
	DatabaseURL string `yaml:"database_url"`
}

// State configures persistent state (registrations, generated passwords).
type State struct {
	Dir string `yaml:"dir"`
}

// Runtime tunes the Go runtime. It is read at start only (not on SIGHUP),
// and the GOGC, GOMEMLIMIT and GOMAXPROCS environment variables, when set,
// take precedence over it.
type Runtime struct {
	// GCPercent is the garbage collector's heap growth target (GOGC).
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimit is a soft heap limit (GOMEMLIMIT) such as "1GiB"; the
	// collector works harder as the heap approaches it. Empty: none.
	MemoryLimit string `yaml:"memory_limit"`
	// MaxProcs bounds the cores Switchboard runs on (GOMAXPROCS); 0: all.
	MaxProcs int `yaml:"max_procs"`

	// MemoryLimitBytes is MemoryLimit parsed (0: none); filled by Validate.
	MemoryLimitBytes int64 `yaml:"-"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}
