package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"time"
)

// WebRTC is the media side of WebRTC legs (key webrtc): ICE-lite,
// DTLS-SRTP and consent freshness (media/ice.go, media/dtls.go). A leg is
// WebRTC when its offer uses UDP/TLS/RTP/SAVPF, or toward a user with
// webrtc: true.
type WebRTC struct {
	// Cert and Key are a PEM certificate and key for DTLS-SRTP; when both
	// are empty a self-signed ECDSA P-256 certificate is generated at
	// start. Either way the a=fingerprint is the same for the whole
	// process, so it stays across re-INVITEs. Relative paths are relative
	// to the config file.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ConsentTimeout ends a WebRTC call whose peer sent no authenticated
	// ICE check for this long (RFC 7675 §5.1; default 30s, at most 30s).
	ConsentTimeout time.Duration `yaml:"consent_timeout"`
}

// DefaultConsentTimeout is RFC 7675's 30 seconds.
const DefaultConsentTimeout = 30 * time.Second

// Consent returns the consent timeout with its default.
func (w WebRTC) Consent() time.Duration {
	if w.ConsentTimeout == 0 {
		return DefaultConsentTimeout
	}
	return w.ConsentTimeout
}

// Files returns the certificate and key paths resolved against the
// config file's directory, empty when not configured.
func (w WebRTC) Files(configPath string) (cert, key string) {
	if w.Cert == "" {
		return "", ""
	}
	dir := filepath.Dir(configPath)
	abs := func(p string) string {
		if filepath.IsAbs(p) || configPath == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	return abs(w.Cert), abs(w.Key)
}

// webrtc validates the webrtc section.
func (v *validator) webrtc() {
	w := v.c.WebRTC
	if w.ConsentTimeout < 0 || w.ConsentTimeout > DefaultConsentTimeout {
		v.errf("webrtc.consent_timeout", "must be a duration up to 30s (RFC 7675 §5.1), got %s", w.ConsentTimeout)
	}
	if (w.Cert == "") != (w.Key == "") {
		v.errf("webrtc.cert", "cert and key go together (neither: a self-signed certificate is generated)")
		return
	}
	if w.Cert == "" {
		return
	}
	cert, key := w.Files(v.c.Path)
	for _, f := range [2][2]string{{"webrtc.cert", cert}, {"webrtc.key", key}} {
		if _, err := os.Stat(f[1]); err != nil {
			v.errf(f[0], "%v", err)
			return
		}
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		v.errf("webrtc.cert", "not a usable certificate and key: %v", err)
	}
}
