package config

import (
	"strings"
	"testing"
	"time"
)

func TestTrunkDNSErrors(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"dns server not an address", "media:", "dns:\n  servers: [ns.example]\nmedia:", `x.yaml:5: dns.servers[0]: "ns.example": want an IP address`},
		{"dns server port", "media:", "dns:\n  servers: ['127.0.0.1:99999']\nmedia:", `x.yaml:5: dns.servers[0]: "127.0.0.1:99999": port must be 1..65535`},
		{"dns timeout", "media:", "dns:\n  timeout: -1s\nmedia:", "x.yaml:5: dns.timeout: must be positive"},
		{"failover timeout", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    failover_timeout: -2s\n", "x.yaml:12: trunks[0].failover_timeout: must be a positive duration"},
		{"hold down", "    trusted: [127.0.0.2/32]\n", "    trusted: [127.0.0.2/32]\n    hold_down: -1s\n", "x.yaml:12: trunks[0].hold_down: must be a positive duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestTrunkDNSDefaults(t *testing.T) {
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
