package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Transports of the WebSocket listeners (RFC 7118): sip.listen entries
// ws://IP:PORT and wss://IP:PORT. Each is an HTTP(S) server that upgrades
// WebSocket.Path to SIP over WebSocket and serves the browser phone at
// /phone.
const (
	TransportWS  = "ws"
	TransportWSS = "wss"
)

// DefaultWebSocketPath is where the ws:// and wss:// listeners accept the
// WebSocket handshake.
const DefaultWebSocketPath = "/ws"

// WebSocket configures the ws:// and wss:// listeners of sip.listen
// (package b2bua, websocket.go).
type WebSocket struct {
	// Path is the HTTP path of the WebSocket handshake (default /ws).
	Path string `yaml:"path"`
	// AllowedOrigins lists the browser origins (scheme://host[:port], as
	// the Origin header carries them) whose pages may open a SIP
	// WebSocket. Empty: only pages served by Switchboard itself (an
	// Origin whose host:port is the Host the handshake was sent to).
	// A handshake without Origin (not a browser) is accepted.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Phone serves the browser phone at /phone on the WebSocket
	// listeners (default true).
	Phone *bool `yaml:"phone"`
}

// PhoneEnabled reports whether the browser phone is served (default true).
func (w *WebSocket) PhoneEnabled() bool { return w.Phone == nil || *w.Phone }

// websocket validates the websocket section and defaults its path.
func (v *validator) websocket() {
	w := &v.c.WebSocket
	if w.Path == "" {
		w.Path = DefaultWebSocketPath
	}
	switch {
	case !strings.HasPrefix(w.Path, "/"):
		v.errf("websocket.path", "must start with /, e.g. /ws; got %q", w.Path)
	case w.Path == "/phone" || strings.HasPrefix(w.Path, "/phone/"):
		v.errf("websocket.path", "%q is the browser phone's path; choose another, e.g. /ws", w.Path)
	case strings.ContainsAny(w.Path, "?# "):
		v.errf("websocket.path", "must be a plain path without query, fragment or spaces; got %q", w.Path)
	}
	seen := map[string]bool{}
	for i, o := range w.AllowedOrigins {
		key := fmt.Sprintf("websocket.allowed_origins[%d]", i)
		norm, err := NormalizeOrigin(o)
		if err != nil {
			v.errf(key, "%v", err)
			continue
		}
		if seen[norm] {
			v.errf(key, "duplicate origin %q", o)
		}
		seen[norm] = true
		w.AllowedOrigins[i] = norm
	}
}

// NormalizeOrigin checks an origin as the Origin header carries it
// (RFC 6454 §6.1: scheme "://" host [ ":" port ], no path) and returns it
// in lower case.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("not an origin: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("want http://HOST[:PORT] or https://HOST[:PORT], got %q", o)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("an origin is scheme://host[:port] only, got %q", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
