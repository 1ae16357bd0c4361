package config

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/switchboard/switchboard/identity"
)

// Caller identity (issue 15: STIR/SHAKEN, RFC 8224/8225/8226/8588; and
// the E.164 identity rules of issue 13): signing per trunk
// (trunks[].identity), verification of calls from trunks (identity), and
// each trunk's numbering plan (trunks[].numbering).

// Identity reject policies (identity.reject).
const (
	// RejectNone lets every call through, marked with its verstat.
	RejectNone = "none"
	// RejectInvalid refuses a call whose Identity fails verification with
	// its RFC 8224 §6.2.2 status (436, 437, 438, 403 Stale Date); calls
	// without Identity go through as No-TN-Validation.
	RejectInvalid = "invalid"
	// RejectAll also refuses a call without Identity (428).
	RejectAll = "all"
)

// Attestation policies (trunks[].identity.attest).
const (
	// AttestAuto: A for an authenticated user calling from a number it
	// owns (its user name, or a trunk DID mapped to it), B for an
	// authenticated user with another number, C for calls that came in
	// from a trunk (gateway traffic).
	AttestAuto = "auto"
)

// Identity is the verification service for calls from trunks (the
// top-level identity block). Verification is on when TrustAnchors is set.
type Identity struct {
	// TrustAnchors are PEM files of the STI-CA roots certificates must
	// chain to.
	TrustAnchors []string `yaml:"trust_anchors"`
	// AllowedX5UHosts are the host names certificates (x5u) may be
	// fetched from over HTTPS; required with trust_anchors.
	AllowedX5UHosts []string `yaml:"allowed_x5u_hosts"`
	// X5UCA is a PEM file of the CAs the HTTPS servers of x5u URLs must
	// chain to (default: the system's roots).
	X5UCA string `yaml:"x5u_ca"`
	// MaxAge bounds how old (or early) a PASSporT's iat may be (default
	// 60s, RFC 8224 §6.2.1).
	MaxAge time.Duration `yaml:"max_age"`
	// FetchTimeout bounds one x5u fetch (default 2s).
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// MaxCertSize bounds an x5u response in bytes (default 16384).
	MaxCertSize int64 `yaml:"max_cert_size"`
	// CacheTTL is how long a fetched certificate is kept (default 1h, at
	// most until it expires).
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// Reject is none (default), invalid or all.
	Reject string `yaml:"reject"`

	// Anchors is TrustAnchors read, and X5URoots X5UCA read (nil: the
	// system's); both filled by Validate.
	Anchors  *x509.CertPool `yaml:"-"`
	X5URoots *x509.CertPool `yaml:"-"`
}

// Enabled reports whether calls from trunks are verified.
func (i Identity) Enabled() bool { return len(i.TrustAnchors) > 0 }

// TrunkIdentity is the signing of calls sent to a trunk
// (trunks[].identity): the STI certificate, its key and where it is
// published.
type TrunkIdentity struct {
	// Cert is the PEM STI certificate (with the TNAuthList extension,
	// RFC 8226 §9) of Key, as published at X5U.
	Cert string `yaml:"cert"`
	// Key is its PEM P-256 private key.
	Key string `yaml:"key"`
	// X5U is the https:// URL the certificate is published at.
	X5U string `yaml:"x5u"`
	// Attest is auto (default), A, B or C (RFC 8588 §4).
	Attest string `yaml:"attest"`
	// Form is full (default) or compact (RFC 8224 §4.1, RFC 8225 §7:
	// without payload, so without attest and origid).
	Form string `yaml:"form"`

	// SigningKey is Key read (filled by Validate).
	SigningKey *ecdsa.PrivateKey `yaml:"-"`
}

// TrunkNumbering is a trunk's numbering plan (trunks[].numbering): how
// its numbers become E.164 for PASSporT orig/dest and comparison with
// From/P-Asserted-Identity, and whether the caller number sent to it is
// rewritten to E.164.
type TrunkNumbering struct {
	// CountryCode, NationalPrefix and InternationalPrefix are the plan
	// (identity.Numbering).
	CountryCode         string `yaml:"country_code"`
	NationalPrefix      string `yaml:"national_prefix"`
	InternationalPrefix string `yaml:"international_prefix"`
	// RewriteFrom sends the caller number (From user part) to the trunk
	// in E.164 ("+" and digits) when it can be normalised.
	RewriteFrom bool `yaml:"rewrite_from"`
}

// Plan is the numbering as identity.Numbering.
func (n TrunkNumbering) Plan() identity.Numbering {
	return identity.Numbering{CountryCode: n.CountryCode, NationalPrefix: n.NationalPrefix, InternationalPrefix: n.InternationalPrefix}
}

// identity validates the identity block and every trunk's identity and
// numbering.
func (v *validator) identity() {
	c := &v.c.Identity
	c.Anchors, c.X5URoots = nil, nil
	v.oneOf("identity.reject", c.Reject, "", RejectNone, RejectInvalid, RejectAll)
	for _, d := range [][2]any{{"identity.max_age", c.MaxAge}, {"identity.fetch_timeout", c.FetchTimeout}, {"identity.cache_ttl", c.CacheTTL}} {
		if d[1].(time.Duration) < 0 {
			v.errf(d[0].(string), "must be a positive duration (or omitted for the default), got %s", d[1])
		}
	}
	if c.MaxCertSize < 0 {
		v.errf("identity.max_cert_size", "must be a positive size in bytes (or omitted for 16384), got %d", c.MaxCertSize)
	}
	if c.Enabled() {
		c.Anchors = x509.NewCertPool()
		for i, f := range c.TrustAnchors {
			v.certPool(fmt.Sprintf("identity.trust_anchors[%d]", i), f, c.Anchors)
		}
		if len(c.AllowedX5UHosts) == 0 {
			v.errf("identity.allowed_x5u_hosts", "required with trust_anchors: the hosts certificates may be fetched from (nothing is fetched from anywhere else)")
		}
	} else if c.Reject != "" && c.Reject != RejectNone {
		v.errf("identity.reject", "%s needs identity.trust_anchors (verification is off without them)", c.Reject)
	}
	if c.X5UCA != "" {
		c.X5URoots = x509.NewCertPool()
		v.certPool("identity.x5u_ca", c.X5UCA, c.X5URoots)
	}
	for i := range v.c.Trunks {
		v.trunkIdentity(&v.c.Trunks[i], fmt.Sprintf("trunks[%d]", i))
	}
}

// certPool adds the certificates of PEM file f to pool.
func (v *validator) certPool(key, f string, pool *x509.CertPool) {
	b, err := os.ReadFile(f)
	if err != nil {
		v.errf(key, "%v", err)
		return
	}
	certs, err := identity.ParseCerts(b)
	if err != nil {
		v.errf(key, "%s: %v", f, err)
		return
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
}

func (v *validator) trunkIdentity(t *Trunk, key string) {
	n := t.Numbering
	for _, f := range [][2]string{{".country_code", n.CountryCode}, {".national_prefix", n.NationalPrefix}, {".international_prefix", n.InternationalPrefix}} {
		if !digitsOnly(f[1]) {
			v.errf(key+".numbering"+f[0], "want digits only, got %q", f[1])
		}
	}
	if n.NationalPrefix != "" && n.CountryCode == "" {
		v.errf(key+".numbering.national_prefix", "needs numbering.country_code (a national number becomes +COUNTRY_CODE...)")
	}
	id := t.Identity
	if id == nil {
		return
	}
	key += ".identity"
	id.SigningKey = nil
	v.oneOf(key+".attest", id.Attest, "", AttestAuto, identity.AttestFull, identity.AttestPartial, identity.AttestGateway)
	v.oneOf(key+".form", id.Form, "", identity.FormFull, identity.FormCompact)
	if u, err := url.Parse(id.X5U); err != nil || u.Scheme != "https" || u.Host == "" {
		v.errf(key+".x5u", "want the https:// URL the certificate is published at, got %q", id.X5U)
	}
	kb, err := os.ReadFile(id.Key)
	if err != nil {
		v.errf(key+".key", "%v", err)
		return
	}
	k, err := identity.ParseKey(kb)
	if err != nil {
		v.errf(key+".key", "%s: %v", id.Key, err)
		return
	}
	cb, err := os.ReadFile(id.Cert)
	if err != nil {
		v.errf(key+".cert", "%v", err)
		return
	}
	certs, err := identity.ParseCerts(cb)
	if err == nil {
		err = identity.MatchKey(certs[0], k)
	}
	if err != nil {
		v.errf(key+".cert", "%s: %v", id.Cert, err)
		return
	}
	id.SigningKey = k
}

// digitsOnly reports whether s is empty or all ASCII digits.
func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
