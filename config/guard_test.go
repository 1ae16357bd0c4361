package config

import (
	"strings"
	"testing"
	"time"
)

func TestSecurityErrors(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"auth failures", "media:", "security:\n  auth_failures: -1\nmedia:", "x.yaml:5: security.auth_failures: must be 1 or more, got -1"},
		{"ban above max", "media:", "security:\n  ban: 2h\n  ban_max: 1h\nmedia:", "x.yaml:6: security.ban_max: must be at least security.ban (2h0m0s), got 1h0m0s"},
		{"negative window", "media:", "security:\n  window: -1s\nmedia:", "x.yaml:5: security.window: must be a positive duration"},
		{"bad rate", "media:", "security:\n  rate: -3\nmedia:", "x.yaml:5: security.rate: must be positive, or -1 (off), got -3"},
		{"bad trusted", "media:", "security:\n  trusted: [not-a-net]\nmedia:", "x.yaml:5: security.trusted[0]:"},
		{"empty user agent", "media:", "security:\n  drop_user_agents: ['']\nmedia:", "x.yaml:5: security.drop_user_agents[0]: must not be empty"},
		{"class regexp", "media:", "security:\n  classes:\n    - {name: intl, match: '^(00'}\nmedia:", "x.yaml:6: security.classes[0].match: must be a regular expression"},
		{"unknown class allowed", `password: "${PW_1000}"}`, `password: "${PW_1000}", allow: [premium]}`, "x.yaml:7: users[0].allow[0]: unknown destination class \"premium\""},
		{"user max calls", `password: "${PW_1000}"}`, `password: "${PW_1000}", max_calls: -2}`, "x.yaml:7: users[0].max_calls: must be -1 (unbounded) or more, got -2"},
		{"typo in security", "media:", "security:\n  auth_failure: 3\nmedia:", `x.yaml:5: unknown key "auth_failure" in security (did you mean "auth_failures"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestSecurityDefaults(t *testing.T) {
	c, err := parse("x.yaml", []byte(strings.Replace(base, `password: "${PW_1000}"}`, `password: "${PW_1000}", calls_per_hour: 7}`, 1)), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Security
	if s.AuthFailures != 5 || s.Window != time.Minute || s.Ban != 5*time.Minute || s.BanMax != 24*time.Hour || s.Rate != 50 || len(s.DropUserAgents) == 0 {
		t.Fatalf("defaults: %+v", s)
	}
	if mc, ph := s.EffectiveLimits(&c.Users[0].Limits); mc != 0 || ph != 7 {
		t.Fatalf("limits %d %d", mc, ph)
	}
	c, err = parse("x.yaml", []byte(strings.Replace(base, "media:", "security:\n  drop_user_agents: []\nmedia:", 1)), env(map[string]string{"PW_1000": "x"}))
	if err != nil || len(c.Security.DropUserAgents) != 0 || c.Security.DropUserAgents == nil {
		t.Fatalf("empty list: %v %#v", err, c.Security.DropUserAgents)
	}
}
