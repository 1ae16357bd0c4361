package b2bua

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/config"
)

// TestGeneratedCertificateKept: the self-signed certificate is written
// once (key 0600) and reused by the next start.
func TestGeneratedCertificateKept(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := serverTLSConfig(config.TLS{}, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "tls.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	second, err := serverTLSConfig(config.TLS{}, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.Certificates[0].Certificate[0], second.Certificates[0].Certificate[0]
	if fingerprint(a) != fingerprint(b) {
		t.Fatalf("certificate regenerated")
	}
	if first.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x", first.MinVersion)
	}
	if fp := fingerprint(a); len(fp) != 95 {
		t.Fatalf("fingerprint %q", fp)
	}
}
