package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Signer is an authentication service (RFC 8224 §5): it signs the calls
// Switchboard sends to one trunk with that trunk's STI certificate key.
type Signer struct {
	key  *ecdsa.PrivateKey
	x5u  string
	form string
	now  func() time.Time
}

// SignerConfig configures a Signer.
type SignerConfig struct {
	// Key is the private key of the STI certificate (P-256).
	Key *ecdsa.PrivateKey
	// X5U is the HTTPS URL the certificate is published at (the PASSporT
	// x5u header and the Identity info parameter).
	X5U string
	// Form is FormFull (default) or FormCompact.
	Form string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewSigner returns a Signer for cfg.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if cfg.Key == nil || cfg.Key.Curve != elliptic.P256() {
		return nil, errors.New("identity: signing key must be ECDSA P-256 (ES256)")
	}
	if !strings.HasPrefix(cfg.X5U, "https://") {
		return nil, errors.New("identity: x5u must be an https:// URL")
	}
	s := &Signer{key: cfg.Key, x5u: cfg.X5U, form: cfg.Form, now: cfg.Now}
	if s.form == "" {
		s.form = FormFull
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Signed is what Sign produced: the Identity header value, and the claims
// for the call's record.
type Signed struct {
	// Header is the Identity header field value.
	Header string
	// OrigID is the origid claim (a UUID, RFC 8588 §5); Attest the level.
	OrigID, Attest string
	// IAT is the time put into iat; a compact form's SIP request must
	// carry it as its Date header (RFC 8224 §4.1).
	IAT time.Time
}

// Sign builds and signs the PASSporT of a call from orig to dest (tn
// values, RFC 8225 §5.2.1: E.164 digits without "+") with attestation
// attest (RFC 8588 §4), and formats the Identity header (RFC 8224 §4.1).
func (s *Signer) Sign(orig, dest, attest string) (Signed, error) {
	now := s.now().Truncate(time.Second)
	if s.form == FormCompact {
		// RFC 8225 §7: only header and signature travel; no shaken claims.
		parts, err := compactParts(s.x5u, orig, dest, now)
		if err != nil {
			return Signed{}, err
		}
		sig, err := jwt.SigningMethodES256.Sign(parts, s.key)
		if err != nil {
			return Signed{}, fmt.Errorf("identity: sign: %w", err)
		}
		hdr, _, _ := strings.Cut(parts, ".")
		h := Header{Token: hdr + ".." + base64.RawURLEncoding.EncodeToString(sig), Info: s.x5u, Alg: Alg}
		return Signed{Header: h.String(), IAT: now}, nil
	}
	id := uuid.NewString()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, &Claims{
		Attest: attest,
		Dest:   DestTN{TN: []string{dest}},
		IAT:    now.Unix(),
		Orig:   TN{TN: orig},
		OrigID: id,
	})
	tok.Header["ppt"] = PPT
	tok.Header["typ"] = Typ
	tok.Header["x5u"] = s.x5u
	str, err := tok.SignedString(s.key)
	if err != nil {
		return Signed{}, fmt.Errorf("identity: sign: %w", err)
	}
	h := Header{Token: str, Info: s.x5u, Alg: Alg, PPT: PPT}
	return Signed{Header: h.String(), OrigID: id, Attest: attest, IAT: now}, nil
}

// ParseKey reads a PEM private key (SEC 1 "EC PRIVATE KEY" or PKCS #8)
// of curve P-256.
func ParseKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	for {
		var b *pem.Block
		b, pemBytes = pem.Decode(pemBytes)
		if b == nil {
			return nil, errors.New("no EC PRIVATE KEY or PRIVATE KEY block")
		}
		switch b.Type {
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			return checkP256(k)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, errors.New("not an ECDSA key (ES256 needs P-256)")
			}
			return checkP256(ek)
		}
	}
}

func checkP256(k *ecdsa.PrivateKey) (*ecdsa.PrivateKey, error) {
	if k.Curve != elliptic.P256() {
		return nil, errors.New("ECDSA key is not on P-256 (ES256)")
	}
	return k, nil
}

// ParseCerts reads every certificate of a PEM bundle (or one DER
// certificate), leaf first.
func ParseCerts(b []byte) ([]*x509.Certificate, error) {
	if !strings.Contains(string(b), "-----BEGIN") {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return certs, nil
}

// MatchKey checks that cert (the STI certificate published at x5u) is the
// key's, and that it carries the TNAuthList extension (RFC 8226 §9).
func MatchKey(cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return errors.New("certificate is not the signing key's")
	}
	if !HasTNAuthList(cert) {
		return errors.New("certificate has no TNAuthList extension (RFC 8226 §9, OID 1.3.6.1.5.5.7.1.26)")
	}
	return nil
}
