package config

import (
	"strings"
	"testing"
	"time"
)

func TestTrunkConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"dns server not an address", "media:", "dns:\n  servers: [ns.example]\nmedia:", `x.yaml:5: dns.servers[0]: "ns.example": want an IP address`},
		{"dns server port", "media:", "dns:\n  servers: ['127.0.0.1:99999']\nmedia:", `x.yaml:5: dns.servers[0]: "127.0.0.1:99999": port must be 1..65535`},
		{"dns timeout", "media:", "dns:\n  timeout: -1s\nmedia:", "x.yaml:5: dns.timeout: must be positive"},
		{"failover timeout", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    failover_timeout: -2s\n", "x.yaml:12: trunks[0].failover_timeout: must be a positive duration"},
		{"register without password", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    register: {username: acct}\n", "x.yaml:12: trunks[0].register.password: required (there is no default password"},
		{"register expires", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    register: {username: acct, password: x, expires: 5}\n", "x.yaml:12: trunks[0].register.expires: must be at least 10"},
		{"route source", `{match: '^1\d{3}$', to: user}`, `{match: '^1\d{3}$', to: user, source: [user:nobody]}`, `routes[0].source[0]: unknown user "nobody"`},
		{"route fallback", `{match: '^1\d{3}$', to: user}`, `{match: '^1\d{3}$', to: user, fallback: [trunk:carrier]}`, "routes[0].fallback: only applies to to: trunk:NAME"},
		{"did user", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    dids: {\"5550100\": \"9999\"}\n", `trunks[0].dids: number "5550100" maps to unknown user "9999"`},
		{"hold down", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    hold_down: -1s\n", "x.yaml:12: trunks[0].hold_down: must be a positive duration"},
		{"happy eyeballs delay", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    happy_eyeballs_delay: -1ms\n", "x.yaml:12: trunks[0].happy_eyeballs_delay: must be a positive duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestTrunkConfigDefaults(t *testing.T) {
	y := strings.Replace(base, "media:", "dns:\n  servers: [127.0.0.1, '[::1]:5353']\nmedia:", 1)
	c, err := parse("x.yaml", []byte(y), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Trunks[0].Failover
	if f.FailoverTimeout != 2*time.Second || f.HoldDown != 30*time.Second {
		t.Fatalf("failover defaults: %+v", f)
	}
	if len(c.DNS.Servers) != 2 {
		t.Fatalf("dns.servers: %v", c.DNS.Servers)
	}
}
