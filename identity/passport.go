package identity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Attestation levels of the "shaken" PASSporT (RFC 8588 §4).
const (
	// AttestFull (A): the signer authenticated the caller and knows the
	// caller may use the number.
	AttestFull = "A"
	// AttestPartial (B): the signer authenticated the caller but cannot
	// vouch for the number.
	AttestPartial = "B"
	// AttestGateway (C): the call entered from elsewhere (a gateway or
	// another carrier); the signer vouches only for where it came from.
	AttestGateway = "C"
)

// PASSporT constants (RFC 8225 §4, RFC 8588 §3).
const (
	// PPT is the "shaken" PASSporT extension's ppt value.
	PPT = "shaken"
	// Typ is the JOSE "typ" of a PASSporT.
	Typ = "passport"
	// Alg is the only signature algorithm STIR/SHAKEN uses (RFC 8588 §3).
	Alg = "ES256"
)

// Forms of the Identity header value (RFC 8224 §4.1, RFC 8225 §7).
const (
	// FormFull carries the whole PASSporT: header.payload.signature.
	FormFull = "full"
	// FormCompact omits the payload (header..signature); the verifier
	// rebuilds it from the SIP request (From, To, Date), so it carries no
	// ppt, attest or origid (RFC 8225 §7, RFC 8224 §4.1).
	FormCompact = "compact"
)

// TN is one telephone number claim: {"tn":"12155551212"}.
type TN struct {
	TN string `json:"tn"`
}

// DestTN is the dest claim: {"tn":["12155551213"]}.
type DestTN struct {
	TN []string `json:"tn"`
}

// Claims is a "shaken" PASSporT's payload (RFC 8225 §5, RFC 8588 §4).
// Its fields are in lexicographic order, so that encoding/json writes the
// canonical form RFC 8225 §9 asks of compact PASSporTs.
type Claims struct {
	Attest string `json:"attest,omitempty"`
	Dest   DestTN `json:"dest"`
	IAT    int64  `json:"iat"`
	Orig   TN     `json:"orig"`
	OrigID string `json:"origid,omitempty"`
}

// jwt.Claims, for the library's parser; PASSporT time checks are ours
// (iat freshness against max_age), so these report nothing to check.
var _ jwt.Claims = (*Claims)(nil)

// GetExpirationTime implements jwt.Claims: a PASSporT has no exp.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IAT, 0)), nil
}

// GetNotBefore implements jwt.Claims: a PASSporT has no nbf.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims: a PASSporT has no iss.
func (c *Claims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims: a PASSporT has no sub.
func (c *Claims) GetSubject() (string, error) { return "", nil }

// GetAudience implements jwt.Claims: a PASSporT has no aud.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// Header is one parsed Identity header field value (RFC 8224 §4.1):
//
//	Identity: <passport>;info=<https://cert.example/sti.pem>;alg=ES256;ppt=shaken
type Header struct {
	// Token is the PASSporT: full (three parts) or compact (empty payload).
	Token string
	// Info is the info parameter's URI (the certificate's x5u).
	Info string
	// Alg is the alg parameter (empty when absent: ES256 is implied).
	Alg string
	// PPT is the ppt parameter, unquoted (empty for a base PASSporT).
	PPT string
}

// Compact reports whether the token is in compact form (no payload).
func (h Header) Compact() bool {
	_, rest, _ := strings.Cut(h.Token, ".")
	return strings.HasPrefix(rest, ".")
}

// String formats the header field value.
func (h Header) String() string {
	var b strings.Builder
	b.WriteString(h.Token)
	b.WriteString(";info=<")
	b.WriteString(h.Info)
	b.WriteString(">")
	if h.Alg != "" {
		b.WriteString(";alg=")
		b.WriteString(h.Alg)
	}
	if h.PPT != "" {
		b.WriteString(";ppt=")
		b.WriteString(h.PPT)
	}
	return b.String()
}

// errHeader marks an Identity header that cannot be parsed.
var errHeader = errors.New("malformed Identity header")

// ParseHeader parses an Identity header field value (RFC 8224 §4.1).
// Unknown parameters are ignored; info is required.
func ParseHeader(v string) (Header, error) {
	v = strings.TrimSpace(v)
	tok, params, _ := strings.Cut(v, ";")
	h := Header{Token: strings.TrimSpace(tok)}
	if strings.Count(h.Token, ".") != 2 {
		return h, fmt.Errorf("%w: not a JWS", errHeader)
	}
	for params != "" {
		var p string
		p, params = cutParam(params)
		name, val, _ := strings.Cut(p, "=")
		name, val = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(val)
		switch name {
		case "info":
			if !strings.HasPrefix(val, "<") || !strings.HasSuffix(val, ">") {
				return h, fmt.Errorf("%w: info is not <URI>", errHeader)
			}
			h.Info = val[1 : len(val)-1]
		case "alg":
			h.Alg = val
		case "ppt":
			h.PPT = strings.TrimSpace(strings.Trim(val, `"`))
		}
	}
	if h.Info == "" {
		return h, fmt.Errorf("%w: no info parameter", errHeader)
	}
	return h, nil
}

// cutParam returns the next ;-separated parameter of s, keeping a ';'
// inside <...> (an info URI may carry parameters of its own).
func cutParam(s string) (string, string) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ';':
			if depth <= 0 {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// compactParts rebuilds the header and payload of a compact PASSporT
// (RFC 8225 §7) from the Identity header and the SIP request: the JOSE
// header {alg, typ, x5u} and the base claims {dest, iat, orig}, both in
// the canonical form of RFC 8225 §9 (sorted keys, no white space).
func compactParts(info string, orig, dest string, date time.Time) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": Alg, "typ": Typ, "x5u": info})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(Claims{Dest: DestTN{TN: []string{dest}}, IAT: date.Unix(), Orig: TN{TN: orig}})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(hdr) + "." + enc.EncodeToString(payload), nil
}
