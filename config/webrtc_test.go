package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebRTCErrors(t *testing.T) {
	for _, tt := range []struct {
		name, add, want string
	}{
		{"consent too long", "webrtc:\n  consent_timeout: 45s\n", "x.yaml:16: webrtc.consent_timeout: must be a duration up to 30s"},
		{"cert without key", "webrtc:\n  cert: a.pem\n", "x.yaml:16: webrtc.cert: cert and key go together"},
		{"missing cert", "webrtc:\n  cert: nope.pem\n  key: nope.key\n", "webrtc.cert: stat "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(base+tt.add), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestWebRTCDefaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.yaml")
	c, err := parse(path, []byte(strings.Replace(base, `password: "${PW_1000}"}`, `password: "${PW_1000}", webrtc: true}`, 1)), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebRTC.Consent() != 30*time.Second || !c.Users[0].WebRTC {
		t.Fatalf("consent %s, user webrtc %v", c.WebRTC.Consent(), c.Users[0].WebRTC)
	}
	if cert, key := c.WebRTC.Files(path); cert != "" || key != "" {
		t.Fatalf("files %q %q without config", cert, key)
	}
	c.WebRTC.Cert, c.WebRTC.Key = "w.pem", "/abs/w.key"
	if cert, key := c.WebRTC.Files(path); cert != filepath.Join(dir, "w.pem") || key != "/abs/w.key" {
		t.Fatalf("files %q %q", cert, key)
	}
	_ = os.Remove(path)
}
