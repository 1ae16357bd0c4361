package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTLSSelfSignedCertificate: with no sip.tls, a certificate is generated
// into the state dir at first start (key mode 0600), its SHA-256
// fingerprint logged.
func TestTLSSelfSignedCertificate(t *testing.T) {
	sb := startSB(t, SBOptions{TLS: true})
	keyFile := filepath.Join(sb.Dir, "state", "tls.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", keyFile, st.Mode().Perm())
	}
	fp := regexp.MustCompile(`TLS certificate.*sha256=([0-9A-F:]{95})`).FindStringSubmatch(sb.Output())
	if fp == nil {
		t.Fatalf("no fingerprint in the log:\n%s", sb.Output())
	}
	if !strings.Contains(sb.Output(), "generated a self-signed TLS certificate") {
		t.Fatalf("no generation logged")
	}
}

// TestTLSBaresipCallsUDP: a baresip registered over TLS (verifying
// Switchboard's generated certificate) calls a baresip on UDP; each hears
// the other's tone, and the CDR records the transport of each leg.
func TestTLSBaresipCallsUDP(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, TLS: true})
	tlsPort := sb.TLSPort
	ca := filepath.Join(sb.Dir, "state", "tls.crt")
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Transport: "tls", ServerPort: tlsPort, CAFile: ca})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Transport: "udp"})
	if !regexp.MustCompile(`user=1000 .*transport=TLS`).MatchString(sb.Output()) {
		t.Fatalf("1000 did not register over TLS")
	}
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=tls", tlsPort), 3*time.Second)
	if rec.TransportA != "TLS" || rec.TransportB != "UDP" {
		t.Fatalf("CDR transports %q / %q, want TLS / UDP", rec.TransportA, rec.TransportB)
	}
}
