package config

import (
	"strings"
	"testing"
)

func TestWebSocketErrors(t *testing.T) {
	listen := "[udp://127.0.0.1:5060, 'ws://127.0.0.1:8088', 'wss://127.0.0.1:8089']"
	for _, tt := range []struct {
		name, ws, want string
	}{
		{"relative path", "websocket:\n  path: ws\n", `x.yaml:16: websocket.path: must start with /`},
		{"phone path", "websocket:\n  path: /phone\n", `x.yaml:16: websocket.path: "/phone" is the browser phone's path`},
		{"origin with path", "websocket:\n  allowed_origins: ['https://pbx.example.com/phone']\n", `x.yaml:16: websocket.allowed_origins[0]: an origin is scheme://host[:port] only`},
		{"origin scheme", "websocket:\n  allowed_origins: ['ftp://pbx.example.com']\n", `x.yaml:16: websocket.allowed_origins[0]: want http://HOST[:PORT] or https://HOST[:PORT]`},
		{"duplicate origin", "websocket:\n  allowed_origins: ['https://a.example', 'https://A.example']\n", `x.yaml:16: websocket.allowed_origins[1]: duplicate origin`},
		{"unknown key", "websocket:\n  origins: ['https://a.example']\n", `x.yaml:16: unknown key "origins" in websocket`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(base, "[udp://127.0.0.1:5060]", listen, 1) + tt.ws
			_, err := parse("configs/x.yaml", []byte(y), env(map[string]string{"PW_1000": "x"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestWebSocketDefaults(t *testing.T) {
	y := strings.Replace(base, "[udp://127.0.0.1:5060]", "['ws://127.0.0.1:8088', 'wss://[::1]:8089']", 1) +
		"websocket:\n  allowed_origins: ['HTTPS://PBX.example.com:8089']\n"
	c, err := parse("x.yaml", []byte(y), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIP.Listeners) != 2 || c.SIP.Listeners[0].Transport != TransportWS || c.SIP.Listeners[1].Transport != TransportWSS {
		t.Fatalf("listeners %+v", c.SIP.Listeners)
	}
	w := c.WebSocket
	if w.Path != DefaultWebSocketPath || !w.PhoneEnabled() || w.AllowedOrigins[0] != "https://pbx.example.com:8089" {
		t.Fatalf("websocket %+v", w)
	}
}
