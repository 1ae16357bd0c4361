package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard/switchboard/guard"
)

// Security configures attack protection (package guard): failed-digest
// bans, the per-source request rate, scanner User-Agents, the security
// event log and toll-fraud limits. Every key has a safe default.
type Security struct {
	// AuthFailures bans a source after this many failed digests within
	// Window (default 5).
	AuthFailures int `yaml:"auth_failures"`
	// UserFailures bans a user after this many failed digests against it,
	// from any source, within Window (default 20; -1 disables).
	UserFailures int `yaml:"user_failures"`
	// Window is the failure counting window (default 60s).
	Window time.Duration `yaml:"window"`
	// Ban is the first ban's length (default 5m); each further ban of the
	// same source doubles it, up to BanMax (default 24h).
	Ban    time.Duration `yaml:"ban"`
	BanMax time.Duration `yaml:"ban_max"`
	// Rate is the requests per second a source may send on average
	// (default 50; -1 disables the limit), Burst how many at once
	// (default 200).
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// DropUserAgents lists User-Agent substrings (case-insensitive) whose
	// requests are dropped without an answer; absent: guard.DefaultScanners;
	// an empty list drops none.
	DropUserAgents []string `yaml:"drop_user_agents"`
	// Trusted lists CIDR ranges exempt from the rate limit and the
	// scanner drop (trunks' trusted ranges are exempt as well).
	Trusted []string `yaml:"trusted"`
	// Log is the file security events are appended to (default: standard
	// error, beside the process log).
	Log string `yaml:"log"`
	// MaxCalls and CallsPerHour are the default per-user limits
	// (users[].max_calls, users[].calls_per_hour override them); default
	// 0: unbounded.
	MaxCalls     int `yaml:"max_calls"`
	CallsPerHour int `yaml:"calls_per_hour"`
	// Classes are destination classes (international, premium): a user
	// dialling a number matching one needs its name in users[].allow.
	Classes []DestinationClass `yaml:"classes"`

	// TrustedNets is Trusted parsed; filled by Validate.
	TrustedNets []netip.Prefix `yaml:"-"`
}

// DestinationClass is one security.classes entry.
type DestinationClass struct {
	Name  string `yaml:"name"`
	Match string `yaml:"match"`
	// Re is Match compiled; filled by Validate.
	Re *regexp.Regexp `yaml:"-"`
}

// UserLimits are a user's toll-fraud limits (inline in users[]).
type UserLimits struct {
	// MaxCalls bounds the user's concurrent calls (default security.max_calls; -1: unbounded).
	MaxCalls int `yaml:"max_calls"`
	// CallsPerHour bounds calls started per hour (default security.calls_per_hour; -1: unbounded).
	CallsPerHour int `yaml:"calls_per_hour"`
	// Allow lists the destination classes (security.classes) the user may dial.
	Allow []string `yaml:"allow"`
}

// Security defaults.
const (
	DefaultAuthFailures = 5
	DefaultUserFailures = 20
	DefaultWindow       = 60 * time.Second
	DefaultBan          = 5 * time.Minute
	DefaultBanMax       = 24 * time.Hour
	DefaultRate         = 50
	DefaultBurst        = 200
)

// applySecurityDefaults fills the security section's zero keys.
func (c *Config) applySecurityDefaults() {
	s := &c.Security
	setInt(&s.AuthFailures, DefaultAuthFailures)
	setInt(&s.UserFailures, DefaultUserFailures)
	setDur(&s.Window, DefaultWindow)
	setDur(&s.Ban, DefaultBan)
	setDur(&s.BanMax, DefaultBanMax)
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	setInt(&s.Burst, DefaultBurst)
	if s.DropUserAgents == nil {
		s.DropUserAgents = append([]string(nil), guard.DefaultScanners...)
	}
}

// security validates the security section and users' limits.
func (v *validator) security() {
	s := &v.c.Security
	if s.AuthFailures < 1 {
		v.errf("security.auth_failures", "must be 1 or more, got %d", s.AuthFailures)
	}
	if s.UserFailures < -1 {
		v.errf("security.user_failures", "must be -1 (off) or more, got %d", s.UserFailures)
	}
	v.positive("security.window", s.Window)
	v.positive("security.ban", s.Ban)
	v.positive("security.ban_max", s.BanMax)
	if s.BanMax > 0 && s.Ban > s.BanMax {
		v.errf("security.ban_max", "must be at least security.ban (%s), got %s", s.Ban, s.BanMax)
	}
	if s.Rate < 0 && s.Rate != -1 {
		v.errf("security.rate", "must be positive, or -1 (off), got %g", s.Rate)
	}
	if s.Burst < 1 {
		v.errf("security.burst", "must be 1 or more, got %d", s.Burst)
	}
	for i, ua := range s.DropUserAgents {
		if strings.TrimSpace(ua) == "" {
			v.errf(fmt.Sprintf("security.drop_user_agents[%d]", i), "must not be empty")
		}
		s.DropUserAgents[i] = strings.ToLower(ua)
	}
	s.TrustedNets = nil
	for i, t := range s.Trusted {
		p, err := ParsePrefix(t)
		if err != nil {
			v.errf(fmt.Sprintf("security.trusted[%d]", i), "%v", err)
			continue
		}
		s.TrustedNets = append(s.TrustedNets, p)
	}
	if s.MaxCalls < 0 {
		v.errf("security.max_calls", "must be 0 (unbounded) or more, got %d", s.MaxCalls)
	}
	if s.CallsPerHour < 0 {
		v.errf("security.calls_per_hour", "must be 0 (unbounded) or more, got %d", s.CallsPerHour)
	}
	classes := map[string]bool{}
	for i := range s.Classes {
		cl := &s.Classes[i]
		key := fmt.Sprintf("security.classes[%d]", i)
		if !userName.MatchString(cl.Name) {
			v.errf(key+".name", "required: a short name such as international, got %q", cl.Name)
			continue
		}
		if classes[cl.Name] {
			v.errf(key+".name", "duplicate class %q", cl.Name)
		}
		classes[cl.Name] = true
		re, err := regexp.Compile(cl.Match)
		if err != nil || cl.Match == "" {
			v.errf(key+".match", "must be a regular expression on the dialled number, got %q (%v)", cl.Match, err)
			continue
		}
		cl.Re = re
	}
	for i, u := range v.c.Users {
		if u.Limits.MaxCalls < -1 {
			v.errf(fmt.Sprintf("users[%d].max_calls", i), "must be -1 (unbounded) or more, got %d", u.Limits.MaxCalls)
		}
		if u.Limits.CallsPerHour < -1 {
			v.errf(fmt.Sprintf("users[%d].calls_per_hour", i), "must be -1 (unbounded) or more, got %d", u.Limits.CallsPerHour)
		}
		for j, a := range u.Limits.Allow {
			if !classes[a] {
				v.errf(fmt.Sprintf("users[%d].allow[%d]", i, j), "unknown destination class %q (security.classes)", a)
			}
		}
	}
}

// EffectiveLimits returns u's limits with security's defaults applied
// (0 means unbounded in the result).
func (s *Security) EffectiveLimits(u *UserLimits) (maxCalls, perHour int) {
	maxCalls, perHour = u.MaxCalls, u.CallsPerHour
	if maxCalls == 0 {
		maxCalls = s.MaxCalls
	}
	if perHour == 0 {
		perHour = s.CallsPerHour
	}
	return max(maxCalls, 0), max(perHour, 0)
}
