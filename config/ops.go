package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// API is the operations interface: the HTTP API, Prometheus /metrics and
// the live dashboard, served on one address (package ops).
type API struct {
	// Listen is the host:port the API serves on, e.g. 127.0.0.1:8080.
	// Empty: no API. Anything that is not loopback exposes call control
	// and records to that network: put it behind a firewall or a proxy.
	Listen string `yaml:"listen"`
	// Token is the bearer token every API request must carry
	// ("Authorization: Bearer TOKEN"); /metrics is exempt only with
	// MetricsOpen. Empty: a random token is generated at first start, kept
	// in <state.dir>/api_token (0600) and printed once. Use ${ENV} to take
	// it from the environment.
	Token string `yaml:"token"`
	// MetricsOpen serves /metrics without the token (Prometheus scrapers
	// often carry none); the rest of the API still needs it.
	MetricsOpen bool `yaml:"metrics_open"`
}

// records checks the shape of records.database_url (pgrecords parses it
// fully at start).
func (v *validator) records() {
	u := v.c.Records.DatabaseURL
	if u == "" {
		return
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") && !strings.Contains(u, "=") {
		v.errf("records.database_url", "want a PostgreSQL URL such as postgres://switchboard@127.0.0.1:5432/switchboard?sslmode=disable")
	}
}

// HEP exports every SIP message to a Homer collector (HEP v3 over UDP,
// package hep).
type HEP struct {
	// Collector is the collector's host:port; empty: no export.
	Collector string `yaml:"collector"`
	// AgentID is the capture agent id shown in Homer (default 2001).
	AgentID uint32 `yaml:"agent_id"`
	// Password is the collector's HEP auth key, if it wants one.
	Password string `yaml:"password"`
}

func (v *validator) hep() {
	h := &v.c.HEP
	if h.Collector == "" {
		return
	}
	if _, port, err := net.SplitHostPort(h.Collector); err != nil || port == "" {
		v.errf("hep.collector", "want host:port such as 127.0.0.1:9060, got %q", h.Collector)
	}
}

// APITokenFile is the name, under state.dir, of the file holding a
// generated API token.
const APITokenFile = "api_token"

func (v *validator) api() {
	a := &v.c.API
	if a.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(a.Listen)
	if err != nil || port == "" {
		v.errf("api.listen", "want host:port such as 127.0.0.1:8080, got %q", a.Listen)
		return
	}
	if host == "" {
		v.errf("api.listen", "give the address to bind, e.g. 127.0.0.1:%s (an empty host would serve every interface)", port)
	}
	if a.Token != "" && len(a.Token) < 16 {
		v.errf("api.token", "must be at least 16 characters (or empty for a generated one), got %d", len(a.Token))
	}
}

// ResolveAPIToken gives an enabled API without a configured token the one
// kept in <state.dir>/api_token, generating it (32 random bytes, base64url)
// at first start and writing it once to out as "api token: SECRET".
func ResolveAPIToken(c *Config, out io.Writer) error {
	a := &c.API
	if a.Listen == "" || a.Token != "" {
		return nil
	}
	path := filepath.Join(c.State.Dir, APITokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		a.Token = strings.TrimSpace(string(b))
		if len(a.Token) >= 16 {
			return nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("api token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("api token: %w", err)
	}
	a.Token = base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(c.State.Dir, 0o700); err != nil {
		return fmt.Errorf("api token: %w", err)
	}
	if err := renameio.WriteFile(path, []byte(a.Token+"\n"), 0o600); err != nil {
		return fmt.Errorf("api token: %w", err)
	}
	fmt.Fprintf(out, "api token: %s (kept in %s)\n", a.Token, path)
	return nil
}
