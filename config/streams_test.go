package config

import (
	"strings"
	"testing"
)

func TestStreamPolicy(t *testing.T) {
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"bad user video", `password: "${PW_1000}"}`, `password: "${PW_1000}", video: off}`, `x.yaml:7: users[0].video: must be one of relay, drop, got "off"`},
		{"bad route video", `to: user}`, `to: user, video: yes}`, `x.yaml:13: routes[0].video: must be one of relay, drop, got "yes"`},
		{"bad trunk video", "    trusted: [127.0.0.2/32]", "    trusted: [127.0.0.2/32]\n    video: block", `x.yaml:12: trunks[0].video: must be one of relay, drop, got "block"`},
		{"drop", "    trusted: [127.0.0.2/32]", "    trusted: [127.0.0.2/32]\n    video: drop", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(map[string]string{"PW_1000": "x"}))
			if tt.want == "" {
				if err != nil || !c.Trunks[0].Streams.Drops() || c.Users[0].Streams.Drops() {
					t.Fatalf("err %v, trunk %+v", err, c.Trunks[0].Streams)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}
