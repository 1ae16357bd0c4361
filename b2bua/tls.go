package b2bua

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard/switchboard/config"
)

// tlsCipherSuites are the TLS 1.2 suites offered: forward-secret AEAD
// only (RFC 9325 §4.2). TLS 1.3 suites are not configurable in Go and
// are all AEAD.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// clientTLSConfig is the configuration of TLS connections Switchboard
// opens: the peer's name is verified against the system roots.
func clientTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: tlsCipherSuites}
}

// serverTLSConfig is the configuration of the tls:// listeners: the
// configured certificate, or one generated into stateDir at first start.
// The certificate's SHA-256 fingerprint is logged, so that a phone
// pinning it can be configured.
func serverTLSConfig(c config.TLS, stateDir string, log *slog.Logger) (*tls.Config, error) {
	certFile, keyFile := c.Cert, c.Key
	if c.Generated() {
		certFile, keyFile = filepath.Join(stateDir, "tls.crt"), filepath.Join(stateDir, "tls.key")
		if err := ensureSelfSigned(certFile, keyFile, log); err != nil {
			return nil, fmt.Errorf("sip.tls: generated certificate in %s: %w", stateDir, err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("sip.tls: %w", err)
	}
	log.Info("TLS certificate", "file", certFile, "generated", c.Generated(),
		"sha256", fingerprint(cert.Certificate[0]))
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: tlsCipherSuites,
		Certificates: []tls.Certificate{cert},
		// Clients may present a certificate (mutual TLS); phones without
		// one are still served.
		ClientAuth: tls.RequestClientCert,
	}, nil
}

// fingerprint is a DER certificate's SHA-256 in the colon-separated hex
// of RFC 8122 §5 (as SDP and most phones print it).
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// ensureSelfSigned writes a self-signed ECDSA P-256 certificate and its
// key (mode 0600) unless both files exist.
func ensureSelfSigned(certFile, keyFile string, log *slog.Logger) error {
	_, errC := os.Stat(certFile)
	_, errK := os.Stat(keyFile)
	if errC == nil && errK == nil {
		return nil
	}
	if !errors.Is(errC, fs.ErrNotExist) && errC != nil {
		return errC
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	certPEM, keyPEM, err := selfSigned(time.Now())
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return err
	}
	log.Warn("generated a self-signed TLS certificate; configure sip.tls.cert and key for one phones can verify", "file", certFile)
	return nil
}

// selfSigned makes a self-signed ECDSA P-256 server certificate valid
// for ten years, in PEM.
func selfSigned(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "switchboard"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"Switchboard (self-signed)"}},
		DNSNames:              []string{host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// listenTLS binds a tls:// listener; the certificate is loaded (or
// generated) on the first one.
func (s *Server) listenTLS(addr string) (net.Listener, error) {
	if s.tlsServer == nil {
		cfg := s.policy.Load().cfg
		c, err := serverTLSConfig(cfg.SIP.TLS, cfg.State.Dir, s.log)
		if err != nil {
			return nil, err
		}
		s.tlsServer = withPeerRecording(c, &s.tlsPeers)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(peerListener{Listener: l, peers: &s.tlsPeers}, s.tlsServer), nil
}

// hasTLS reports whether a tls:// listener is bound.
func hasTLS(h interface {
	listenerFor(transport, dest string) (listener, bool)
}) bool {
	_, ok := h.listenerFor("TLS", "")
	return ok
}
