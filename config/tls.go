package config

import (
	"os"
	"strings"
)

// TLS is the certificate the tls:// listeners present (sip.tls). With
// neither Cert nor Key, Switchboard generates a self-signed ECDSA
// certificate at first start and keeps it in state.dir (tls.crt, and
// tls.key with mode 0600); its SHA-256 fingerprint is logged at start.
type TLS struct {
	// Cert is a PEM file: the certificate, then any intermediates.
	Cert string `yaml:"cert"`
	// Key is the PEM private key of Cert.
	Key string `yaml:"key"`
}

// Generated reports whether the certificate is to be generated (no
// cert and key configured).
func (t TLS) Generated() bool { return t.Cert == "" && t.Key == "" }

// tls validates sip.tls: cert and key go together and must be readable.
func (v *validator) tls() {
	t := v.c.SIP.TLS
	if t.Generated() {
		return
	}
	if strings.TrimSpace(t.Cert) == "" || strings.TrimSpace(t.Key) == "" {
		v.errf("sip.tls", "cert and key go together (omit both for a generated self-signed certificate)")
		return
	}
	for _, f := range [][2]string{{"sip.tls.cert", t.Cert}, {"sip.tls.key", t.Key}} {
		if _, err := os.Stat(f[1]); err != nil {
			v.errf(f[0], "%v", err)
		}
	}
}
