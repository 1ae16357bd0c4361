package config

import (
	"strings"
	"testing"
)

func TestSRTPErrors(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"bad media mode", "  address: 127.0.0.1", "  address: 127.0.0.1\n  srtp: maybe", `x.yaml:6: media.srtp: must be one of off, opportunistic, required, got "maybe"`},
		{"bad user mode", `password: "${PW_1000}"}`, `password: "${PW_1000}", srtp: mandatory}`, `x.yaml:7: users[0].srtp: must be one of off, opportunistic, required, got "mandatory"`},
		{"fallback with required", "    trusted: [127.0.0.2/32]", "    trusted: [127.0.0.2/32]\n    srtp: required\n    srtp_fallback: true", "x.yaml:13: trunks[0].srtp_fallback: only with srtp: opportunistic"},
		{"fallback with default off", `password: "${PW_1000}"}`, `password: "${PW_1000}", srtp: "off", srtp_fallback: true}`, "x.yaml:7: users[0].srtp_fallback: only with srtp: opportunistic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestSRTPDefaults(t *testing.T) {
	c, err := parse("x.yaml", []byte(strings.Replace(base, `password: "${PW_1000}"}`, `password: "${PW_1000}", srtp: required}`, 1)), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Users[0].SRTP.Effective(c.Media.SRTP); p.Mode != SRTPRequired {
		t.Fatalf("user: %+v", p)
	}
	if p := c.Trunks[0].SRTP.Effective(c.Media.SRTP); p.Mode != SRTPOpportunistic || p.Fallback {
		t.Fatalf("trunk default: %+v", p)
	}
}
