package config

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
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

// Trunk transports (trunks[].transport).
const (
	TransportAuto = "auto"
	TransportTLS  = "tls"
	TransportTCP  = "tcp"
	TransportUDP  = "udp"
)

// TLSRequired is the trunks[].tls value that forbids falling back from
// TLS to TCP or UDP.
const TLSRequired = "required"

// TrunkTLS is a trunk's transport choice and its TLS settings: how calls
// to it are sent, how its server certificate is verified, the client
// certificate Switchboard presents to it, and the client certificates
// that identify it when it calls in.
type TrunkTLS struct {
	// Transport is udp, tcp, tls or auto. auto tries TLS first (port 5061
	// of the trunk's host, tested by connecting) and falls back to the
	// URI's transport unless TLS is "required". Default: the URI's
	// ;transport= parameter when present, else auto for a trunk given by
	// host name and udp for one given by IP address.
	Transport string `yaml:"transport"`
	// TLS is "required" to forbid any fallback from TLS (empty: allowed).
	TLS string `yaml:"tls"`
	// CA is a PEM file of the certificate authorities the trunk's server
	// certificate must chain to, instead of the system roots.
	CA string `yaml:"tls_ca"`
	// Cert and Key are the PEM client certificate and key presented to the
	// trunk (mutual TLS); they go together.
	Cert string `yaml:"tls_cert"`
	Key  string `yaml:"tls_key"`
	// Clients identify the trunk by the client certificate of a TLS
	// connection it calls in on, instead of by address: each entry is a
	// SHA-256 fingerprint ("sha256:AB:CD:...") or a subject common name
	// ("cn:carrier.example", only with tls_ca, which must have issued it).
	Clients []string `yaml:"tls_clients"`

	// Fingerprints and CommonNames are Clients parsed (filled by Validate);
	// fingerprints are upper-case colon-separated hex.
	Fingerprints []string `yaml:"-"`
	CommonNames  []string `yaml:"-"`
}

// Required reports whether the trunk forbids falling back from TLS.
func (t TrunkTLS) Required() bool { return t.TLS == TLSRequired }

// fingerprintRe is a SHA-256 fingerprint, with or without colons.
var fingerprintRe = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$|^[0-9A-F]{64}$`)

// trunkTLS validates and fills a trunk's TLS settings.
func (v *validator) trunkTLS(t *Trunk, key string) {
	c := &t.TLS
	if c.Transport == "" {
		c.Transport = TransportUDP
		if tp, ok := t.ParsedURI.UriParams.Get("transport"); ok && tp != "" {
			c.Transport = strings.ToLower(tp)
		} else if _, err := netip.ParseAddr(strings.Trim(t.ParsedURI.Host, "[]")); err != nil && t.ParsedURI.Host != "" && t.ParsedProxy == nil {
			c.Transport = TransportAuto
		}
	}
	v.oneOf(key+".transport", c.Transport, TransportUDP, TransportTCP, TransportTLS, TransportAuto)
	v.oneOf(key+".tls", c.TLS, "", TLSRequired)
	if c.Required() && c.Transport != TransportTLS && c.Transport != TransportAuto {
		v.errf(key+".tls", "required needs transport tls or auto, not %s", c.Transport)
	}
	if (c.Cert == "") != (c.Key == "") {
		v.errf(key+".tls_cert", "tls_cert and tls_key go together")
	}
	for _, f := range [][2]string{{".tls_ca", c.CA}, {".tls_cert", c.Cert}, {".tls_key", c.Key}} {
		if f[1] == "" {
			continue
		}
		if _, err := os.Stat(f[1]); err != nil {
			v.errf(key+f[0], "%v", err)
		}
	}
	c.Fingerprints, c.CommonNames = nil, nil
	for i, e := range c.Clients {
		k := fmt.Sprintf("%s.tls_clients[%d]", key, i)
		kind, val, _ := strings.Cut(e, ":")
		switch strings.ToLower(kind) {
		case "sha256":
			fp := strings.ToUpper(strings.TrimSpace(val))
			if !fingerprintRe.MatchString(fp) {
				v.errf(k, "want a SHA-256 fingerprint such as sha256:AB:CD:... (32 bytes in hex), got %q", val)
				continue
			}
			if !strings.Contains(fp, ":") {
				var b strings.Builder
				for j := 0; j < len(fp); j += 2 {
					if j > 0 {
						b.WriteByte(':')
					}
					b.WriteString(fp[j : j+2])
				}
				fp = b.String()
			}
			c.Fingerprints = append(c.Fingerprints, fp)
		case "cn":
			if c.CA == "" {
				v.errf(k, "a common name identifies a trunk only with tls_ca (the CA that issued it); use sha256: otherwise")
				continue
			}
			c.CommonNames = append(c.CommonNames, strings.TrimSpace(val))
		default:
			v.errf(k, "want sha256:FINGERPRINT or cn:NAME, got %q", e)
		}
	}
}
