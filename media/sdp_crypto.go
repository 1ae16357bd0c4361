package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// SDES crypto suites (RFC 4568 §6.2, RFC 7714 §14.2).
const (
	SuiteGCM128  = "AEAD_AES_128_GCM"        // RFC 7714 §14.2
	SuiteSHA1_80 = "AES_CM_128_HMAC_SHA1_80" // RFC 4568 §6.2.1
	SuiteSHA1_32 = "AES_CM_128_HMAC_SHA1_32" // RFC 4568 §6.2.2
)

// Suites lists the crypto suites Switchboard offers and accepts, in the
// order it offers them: AES_CM_128_HMAC_SHA1_80 first, the one every SDES
// peer implements (RFC 4568 §6.2.1: mandatory), then the AEAD suite.
var Suites = []string{SuiteSHA1_80, SuiteGCM128, SuiteSHA1_32}

// ErrCryptoSyntax reports an a=crypto attribute that does not parse.
var ErrCryptoSyntax = errors.New("invalid a=crypto attribute")

// Crypto is one a=crypto attribute (RFC 4568 §9.1) with a single inline
// key: "tag suite inline:base64(key||salt)[|lifetime][|MKI:len] [params]".
type Crypto struct {
	Tag      int
	Suite    string
	Key      []byte // master key
	Salt     []byte // master salt
	Lifetime string // as written, "" if absent
	MKI      string // "value:length" as written, "" if absent
	Params   string // session parameters as written (RFC 4568 §6.3), "" if none
}

// suiteLens returns the master key and salt lengths of a suite, or false
// for a suite Switchboard does not support.
func suiteLens(suite string) (key, salt int, ok bool) {
	switch suite {
	case SuiteSHA1_80, SuiteSHA1_32:
		return 16, 14, true // RFC 4568 §6.2.1
	case SuiteGCM128:
		return 16, 12, true // RFC 7714 §12
	}
	return 0, 0, false
}

// NewCrypto returns an attribute for suite with a fresh master key and salt
// from crypto/rand (RFC 4568 §6.1: keys must be random).
func NewCrypto(tag int, suite string) (Crypto, error) {
	kl, sl, ok := suiteLens(suite)
	if !ok {
		return Crypto{}, fmt.Errorf("%w: unsupported suite %q", ErrCryptoSyntax, suite)
	}
	b := make([]byte, kl+sl)
	if _, err := rand.Read(b); err != nil {
		return Crypto{}, fmt.Errorf("srtp key: %w", err)
	}
	return Crypto{Tag: tag, Suite: suite, Key: b[:kl:kl], Salt: b[kl:]}, nil
}

// ParseCrypto parses the value of an a=crypto attribute (RFC 4568 §9.1).
// Only the first key parameter is used; further ones (several keys with
// MKIs) are rejected, as SDES over SIP carries one.
func ParseCrypto(v string) (Crypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w: %q", ErrCryptoSyntax, v)
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 || len(f[0]) > 10 {
		return Crypto{}, fmt.Errorf("%w: tag %q", ErrCryptoSyntax, f[0])
	}
	c := Crypto{Tag: tag, Suite: f[1], Params: strings.Join(f[3:], " ")}
	kl, sl, ok := suiteLens(c.Suite)
	if !ok {
		return c, fmt.Errorf("%w: unsupported suite %q", ErrCryptoSyntax, c.Suite)
	}
	if strings.Contains(f[2], ";") {
		return c, fmt.Errorf("%w: more than one key", ErrCryptoSyntax)
	}
	kp, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return c, fmt.Errorf("%w: key method is not inline", ErrCryptoSyntax)
	}
	parts := strings.Split(kp, "|")
	if len(parts) > 3 {
		return c, fmt.Errorf("%w: key parameters %q", ErrCryptoSyntax, kp)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(parts[0]) // some peers drop the padding
	}
	if err != nil || len(raw) != kl+sl {
		return c, fmt.Errorf("%w: key of %s must be %d bytes", ErrCryptoSyntax, c.Suite, kl+sl)
	}
	c.Key, c.Salt = raw[:kl:kl], raw[kl:]
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			c.MKI = p
		} else {
			c.Lifetime = p
		}
	}
	if c.MKI != "" {
		return c, fmt.Errorf("%w: MKI is not supported", ErrCryptoSyntax)
	}
	for _, p := range f[3:] {
		// RFC 4568 §6.3: session parameters Switchboard does not implement
		// change the transform, so the attribute cannot be accepted.
		switch {
		case p == "UNENCRYPTED_SRTP", p == "UNENCRYPTED_SRTCP", p == "UNAUTHENTICATED_SRTP",
			strings.HasPrefix(p, "KDR="), strings.HasPrefix(p, "FEC_ORDER="), strings.HasPrefix(p, "FEC_KEY="),
			strings.HasPrefix(p, "WSH="):
			if p != "KDR=0" && !strings.HasPrefix(p, "WSH=") {
				return c, fmt.Errorf("%w: session parameter %q is not supported", ErrCryptoSyntax, p)
			}
		}
	}
	return c, nil
}

// String returns the attribute value, as written after "a=crypto:".
func (c Crypto) String() string {
	b := make([]byte, 0, len(c.Key)+len(c.Salt))
	b = append(append(b, c.Key...), c.Salt...)
	s := strconv.Itoa(c.Tag) + " " + c.Suite + " inline:" + base64.StdEncoding.EncodeToString(b)
	if c.Lifetime != "" {
		s += "|" + c.Lifetime
	}
	if c.MKI != "" {
		s += "|" + c.MKI
	}
	if c.Params != "" {
		s += " " + c.Params
	}
	return s
}

// Attribute returns c as an SDP attribute.
func (c Crypto) Attribute() sdp.Attribute { return sdp.NewAttribute("crypto", c.String()) }

// Equal tells whether two attributes carry the same suite and key material.
func (c Crypto) Equal(o Crypto) bool {
	return c.Suite == o.Suite && string(c.Key) == string(o.Key) && string(c.Salt) == string(o.Salt)
}

// cryptoList returns the supported a=crypto attributes of a media
// description, in order; ones that do not parse or name a suite
// Switchboard does not support are skipped (RFC 4568 §7.1.1).
func cryptoList(m *sdp.MediaDescription) []Crypto {
	var cs []Crypto
	for _, a := range m.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, err := ParseCrypto(a.Value); err == nil {
			cs = append(cs, c)
		}
	}
	return cs
}

// SelectCrypto picks, for an answer, the first offered attribute whose
// suite is in prefs (RFC 4568 §7.1.2: the answerer chooses one, keeping its
// tag), and reports false when none fits.
func SelectCrypto(offered []Crypto, prefs []string) (Crypto, bool) {
	for _, c := range offered {
		for _, p := range prefs {
			if c.Suite == p {
				return c, true
			}
		}
	}
	return Crypto{}, false
}
