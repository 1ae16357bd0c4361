package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// credentials is a parsed Digest Authorization / Proxy-Authorization value
// (RFC 3261 §25.1 "credentials", RFC 7616 §3.4).
type credentials struct {
	username  string
	realm     string
	nonce     string
	uri       string
	response  string
	algorithm string
	cnonce    string
	opaque    string
	qop       string
	nc        uint32
	hasNC     bool
	userhash  bool
}

// maxParams bounds the parameters accepted in one header.
const maxParams = 32

var (
	errNotDigest = errors.New("auth: not a Digest credential")
	errSyntax    = errors.New("auth: malformed credentials")
)

// parseCredentials parses `Digest k=v, k="v", ...`.
//
// Hand-written rather than taken from github.com/icholy/digest (already a
// dependency via sipgo) because that parser accepts only [A-Za-z0-9-] in
// unquoted values, matches parameter names case-sensitively and skips only
// spaces, while SIP allows any RFC 3261 token, case-insensitive names
// (RFC 7235 §2.1) and tabs or line folding between elements.
func parseCredentials(s string) (credentials, error) {
	var c credentials
	s = trimLWS(s)
	if len(s) < 6 || !strings.EqualFold(s[:6], "Digest") {
		return c, errNotDigest
	}
	s = s[6:]
	if s != "" && !isLWS(s[0]) {
		return c, errNotDigest
	}
	seen := make(map[string]bool, 10)
	for n := 0; ; n++ {
		// Skip empty list elements and separators (RFC 7230 §7 #rule).
		s = strings.TrimLeft(s, " \t\r\n,")
		if s == "" {
			break
		}
		if n >= maxParams {
			return c, fmt.Errorf("%w: too many parameters", errSyntax)
		}
		i := 0
		for i < len(s) && isToken(s[i]) {
			i++
		}
		if i == 0 {
			return c, fmt.Errorf("%w: expected a parameter name at %q", errSyntax, clip(s))
		}
		name := strings.ToLower(s[:i])
		s = trimLWS(s[i:])
		if s == "" || s[0] != '=' {
			return c, fmt.Errorf("%w: expected '=' after %q", errSyntax, name)
		}
		s = trimLWS(s[1:])
		var val string
		if s != "" && s[0] == '"' {
			v, rest, err := quotedString(s)
			if err != nil {
				return c, err
			}
			val, s = v, rest
		} else {
			// Lenient: an unquoted value runs to the next separator.
			j := 0
			for j < len(s) && s[j] != ',' && !isLWS(s[j]) && s[j] != '"' {
				j++
			}
			if j == 0 {
				return c, fmt.Errorf("%w: empty value for %q", errSyntax, name)
			}
			val, s = s[:j], s[j:]
		}
		s = trimLWS(s)
		if s != "" && s[0] != ',' {
			return c, fmt.Errorf("%w: expected ',' after %q", errSyntax, name)
		}
		if seen[name] {
			// RFC 7616 §3.4: each parameter appears at most once.
			return c, fmt.Errorf("%w: duplicate parameter %q", errSyntax, name)
		}
		seen[name] = true
		switch name {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "cnonce":
			c.cnonce = val
		case "opaque":
			c.opaque = val
		case "qop":
			c.qop = val
		case "nc":
			// RFC 7616 §3.4: nc is 8 hex digits.
			if len(val) == 0 || len(val) > 8 {
				return c, fmt.Errorf("%w: bad nc %q", errSyntax, val)
			}
			v, err := strconv.ParseUint(val, 16, 32)
			if err != nil {
				return c, fmt.Errorf("%w: bad nc %q", errSyntax, val)
			}
			c.nc, c.hasNC = uint32(v), true
		case "userhash":
			c.userhash = strings.EqualFold(val, "true")
		}
	}
	return c, nil
}

// quotedString reads an RFC 3261 §25.1 quoted-string at the start of s and
// returns its unescaped content and the rest of s.
func quotedString(s string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i == len(s) {
				return "", "", fmt.Errorf("%w: unterminated quoted string", errSyntax)
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", fmt.Errorf("%w: unterminated quoted string", errSyntax)
}

// isToken reports RFC 3261 §25.1 token characters.
func isToken(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", ch) >= 0
}

func isLWS(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' }

func trimLWS(s string) string { return strings.Trim(s, " \t\r\n") }

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
