package cause

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The Reason protocols RFC 3326 §2 defines.
const (
	// ProtocolSIP is the protocol whose cause is a SIP status code.
	ProtocolSIP = "SIP"
	// ProtocolQ850 is the protocol whose cause is an ITU-T Q.850 cause
	// value in decimal.
	ProtocolQ850 = "Q.850"
)

// ErrMalformed is wrapped by every error ParseReason returns.
var ErrMalformed = errors.New("malformed Reason header")

// maxCauseDigits bounds the cause parameter: every defined cause (SIP
// status, Q.850 value) has at most 3 digits.
const maxCauseDigits = 3

// Reason is one reason-value of a Reason header (RFC 3326 §2):
//
//	Reason: Q.850;cause=16;text="Normal call clearing"
//	Reason: SIP;cause=200;text="Call completed elsewhere"
type Reason struct {
	// Protocol is ProtocolSIP, ProtocolQ850 (both written in that
	// canonical case however received) or another token, as received.
	Protocol string
	// Cause is the cause parameter: a SIP status for ProtocolSIP, a Q.850
	// cause value for ProtocolQ850; 0 when absent.
	Cause int
	// Text is the text parameter, unescaped; "" when absent.
	Text string
	// Params holds the other parameters (reason-extension, such as the
	// cause location some mobile networks add to Q.850 Reasons) in
	// order, so that a relayed Reason keeps them.
	Params []Param
}

// Param is a reason-extension parameter (RFC 3261 generic-param).
type Param struct {
	// Name is the parameter's name as received.
	Name string
	// Value is the value as written: a token, a host, or a quoted-string
	// with its quotes and escapes; "" for a parameter without "=".
	Value string
}

// Q850 returns the Q.850 Reason for cause value c, with its Q.850 name as
// text.
func Q850(c int) Reason {
	return Reason{Protocol: ProtocolQ850, Cause: c, Text: Name(c)}
}

// SIP returns a Reason of protocol SIP for status with text.
func SIP(status int, text string) Reason {
	return Reason{Protocol: ProtocolSIP, Cause: status, Text: text}
}

// NormalClearing returns the Reason for a normal hang-up, put on BYE:
// Q.850;cause=16;text="Normal call clearing" (RFC 3398 §8.2.6.1 maps BYE
// and CANCEL to cause 16).
func NormalClearing() Reason { return Q850(Normal) }

// CompletedElsewhere returns the Reason a forking B2BUA puts on the CANCELs
// of the branches that lost once one branch answered, so that the phones
// of those branches do not log a missed call (RFC 3326 §2):
// SIP;cause=200;text="Call completed elsewhere".
func CompletedElsewhere() Reason { return SIP(200, "Call completed elsewhere") }

// ForStatus returns the Q.850 Reason to put on a final response with SIP
// status status that Switchboard generates, or on the BYE or CANCEL that
// ends a call for that status (RFC 6432: responses carry Q.850 Reasons):
// the cause FromSIP gives, with its name as text.
func ForStatus(status int) Reason { return Q850(FromSIP(status)) }

// IsQ850 reports whether r is a Q.850 Reason.
func (r Reason) IsQ850() bool { return r.Protocol == ProtocolQ850 }

// IsSIP reports whether r is a SIP Reason.
func (r Reason) IsSIP() bool { return r.Protocol == ProtocolSIP }

// String formats r as a reason-value (RFC 3326 §2), without the header
// name: protocol, ";cause=N" when Cause > 0, ";text=" as a quoted-string
// when Text is not empty, then Params. It always yields a well-formed
// value: bytes that are not token characters are dropped from Protocol and
// parameter names (an empty Protocol becomes "Q.850"), control characters
// in Text become spaces (a header cannot carry CR or LF), and a parameter
// whose value is neither a token nor a quoted-string is left out.
func (r Reason) String() string {
	var b strings.Builder
	b.Grow(len(r.Protocol) + len(r.Text) + 24)
	r.appendTo(&b)
	return b.String()
}

func (r Reason) appendTo(b *strings.Builder) {
	start := b.Len()
	appendToken(b, r.Protocol)
	if b.Len() == start {
		b.WriteString(ProtocolQ850)
	}
	if r.Cause > 0 {
		b.WriteString(";cause=")
		b.WriteString(strconv.Itoa(r.Cause))
	}
	if r.Text != "" {
		b.WriteString(";text=")
		appendQuoted(b, r.Text)
	}
	for _, p := range r.Params {
		if !isToken(p.Name) || (p.Value != "" && !isGenValue(p.Value)) {
			continue
		}
		b.WriteByte(';')
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
}

// Format formats reasons as one Reason header value, the reason-values
// separated by ", ". RFC 3326 §2 allows at most one value per protocol, so
// a value whose protocol an earlier one already has (compared without
// case) is left out.
func Format(reasons ...Reason) string {
	var b strings.Builder
	for i, r := range reasons {
		if hasProtocol(reasons[:i], r.Protocol) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		r.appendTo(&b)
	}
	return b.String()
}

func hasProtocol(reasons []Reason, protocol string) bool {
	for _, r := range reasons {
		if strings.EqualFold(r.Protocol, protocol) {
			return true
		}
	}
	return false
}

// Find returns the first reason of protocol (compared without case), such
// as the Q.850 one among those of a response.
func Find(reasons []Reason, protocol string) (Reason, bool) {
	for _, r := range reasons {
		if strings.EqualFold(r.Protocol, protocol) {
			return r, true
		}
	}
	return Reason{}, false
}

// FromResponse returns the Q.850 cause of a call that ended with a
// response of status carrying reasons: the cause of its Q.850 Reason when
// it has one in range (the far end's cause survives, RFC 6432), otherwise
// FromSIP(status). fromReason tells which.
func FromResponse(status int, reasons []Reason) (q850 int, fromReason bool) {
	if r, ok := Find(reasons, ProtocolQ850); ok && r.Cause >= 1 && r.Cause <= MaxCause {
		return r.Cause, true
	}
	return FromSIP(status), false
}

// ParseReason parses the value of a Reason header (RFC 3326 §2): one or
// more reason-values separated by commas. Several Reason headers of one
// message may be joined with commas first, or parsed one by one.
//
// It accepts linear white space around every separator, the protocol and
// parameter names in any case ("sip", "Q.850", "CAUSE"), parameters in
// any order, a text given as a token instead of a quoted-string, and empty
// list elements (", ,"). It rejects, with an error wrapping ErrMalformed
// that names the value and the parameter: a missing protocol; a cause that
// is not 1-3 digits, is not a Q.850 value (0-127) for Q.850 or a status
// (100-699) for SIP; a repeated cause or text; an unterminated quoted
// string; control characters other than tab; and anything else that is
// not a parameter. Unknown parameters are kept in Params.
func ParseReason(value string) ([]Reason, error) {
	p := reasonParser{s: value}
	var out []Reason
	for n := 1; ; n++ {
		p.skipLWS()
		if p.eof() {
			break
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		r, err := p.reasonValue()
		if err != nil {
			return nil, fmt.Errorf("%w: reason-value %d: %v", ErrMalformed, n, err)
		}
		out = append(out, r)
		p.skipLWS()
		if p.eof() {
			break
		}
		if c := p.peek(); c != ',' {
			return nil, fmt.Errorf("%w: reason-value %d: unexpected %q at offset %d", ErrMalformed, n, c, p.i)
		}
		p.i++
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no reason-value", ErrMalformed)
	}
	return out, nil
}

// reasonParser scans a Reason header value; i is the offset of the next
// byte.
type reasonParser struct {
	s string
	i int
}

func (p *reasonParser) eof() bool  { return p.i >= len(p.s) }
func (p *reasonParser) peek() byte { return p.s[p.i] }

func (p *reasonParser) skipLWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// span returns the longest run of bytes from the current offset that in
// accepts.
func (p *reasonParser) span(in func(byte) bool) string {
	start := p.i
	for p.i < len(p.s) && in(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *reasonParser) reasonValue() (Reason, error) {
	var r Reason
	proto := p.span(isTokenChar)
	switch {
	case proto == "":
		if p.eof() {
			return r, errors.New("missing protocol")
		}
		return r, fmt.Errorf("missing protocol at %q", p.peek())
	case strings.EqualFold(proto, ProtocolSIP):
		proto = ProtocolSIP
	case strings.EqualFold(proto, ProtocolQ850):
		proto = ProtocolQ850
	}
	r.Protocol = proto
	var haveCause, haveText bool
	for {
		p.skipLWS()
		if p.eof() || p.peek() != ';' {
			return r, nil
		}
		p.i++
		p.skipLWS()
		name := p.span(isTokenChar)
		if name == "" {
			return r, fmt.Errorf("missing parameter name at offset %d", p.i)
		}
		p.skipLWS()
		var raw string
		quoted := false
		if !p.eof() && p.peek() == '=' {
			p.i++
			p.skipLWS()
			var err error
			if raw, quoted, err = p.genValue(); err != nil {
				return r, fmt.Errorf("parameter %q: %v", name, err)
			}
		}
		switch {
		case strings.EqualFold(name, "cause"):
			if haveCause {
				return r, errors.New("parameter \"cause\" repeated")
			}
			haveCause = true
			c, err := parseCause(r.Protocol, raw, quoted)
			if err != nil {
				return r, err
			}
			r.Cause = c
		case strings.EqualFold(name, "text"):
			if haveText {
				return r, errors.New("parameter \"text\" repeated")
			}
			haveText = true
			if raw == "" {
				return r, errors.New("parameter \"text\" without a value")
			}
			r.Text = raw
			if quoted {
				r.Text = unquote(raw)
			}
		default:
			r.Params = append(r.Params, Param{Name: name, Value: raw})
		}
	}
}

// genValue scans a generic-param value: a quoted-string (returned with its
// quotes, quoted true) or a run of token and host characters.
func (p *reasonParser) genValue() (raw string, quoted bool, err error) {
	if p.eof() {
		return "", false, errors.New("missing value after '='")
	}
	if p.peek() != '"' {
		v := p.span(isHostChar)
		if v == "" {
			return "", false, fmt.Errorf("bad value at %q", p.peek())
		}
		return v, false, nil
	}
	start := p.i
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return p.s[start:p.i], true, nil
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", false, errors.New("unterminated quoted string")
			}
			if isCtl(p.s[p.i]) {
				return "", false, fmt.Errorf("control character %#x in quoted string", p.s[p.i])
			}
		case isCtl(c):
			return "", false, fmt.Errorf("control character %#x in quoted string", c)
		}
		p.i++
	}
	return "", false, errors.New("unterminated quoted string")
}

// parseCause checks the cause parameter of a protocol (RFC 3326 §2:
// 1*DIGIT; a Q.850 value or a SIP status).
func parseCause(protocol, raw string, quoted bool) (int, error) {
	if quoted || raw == "" || len(raw) > maxCauseDigits {
		return 0, fmt.Errorf("cause %q: want 1 to %d digits", raw, maxCauseDigits)
	}
	c := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return 0, fmt.Errorf("cause %q: want 1 to %d digits", raw, maxCauseDigits)
		}
		c = c*10 + int(raw[i]-'0')
	}
	switch {
	case protocol == ProtocolQ850 && c > MaxCause:
		return 0, fmt.Errorf("cause %d: not a Q.850 cause value (0-127)", c)
	case protocol == ProtocolSIP && (c < 100 || c > 699):
		return 0, fmt.Errorf("cause %d: not a SIP status (100-699)", c)
	}
	return c, nil
}

// unquote returns the content of a quoted-string checked by genValue,
// with quoted-pairs resolved.
func unquote(q string) string {
	q = q[1 : len(q)-1]
	if !strings.Contains(q, `\`) {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' {
			i++
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// appendQuoted writes s as a quoted-string (RFC 3261 §25.1), escaping '"'
// and '\' and turning control characters into spaces.
func appendQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case isCtl(c):
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// appendToken writes the token characters of s.
func appendToken(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if isTokenChar(s[i]) {
			b.WriteByte(s[i])
		}
	}
}

// isCtl reports whether c may not appear in a quoted-string: the control
// characters except horizontal tab (RFC 3261 §25.1 qdtext, quoted-pair
// without CR and LF, which would end the header).
func isCtl(c byte) bool { return (c < 0x20 && c != '\t') || c == 0x7f }

// isTokenChar reports whether c is an RFC 3261 §25.1 token character.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// isHostChar reports whether c may appear in an unquoted gen-value: a
// token or a host (including an IPv6 reference).
func isHostChar(c byte) bool { return isTokenChar(c) || c == ':' || c == '[' || c == ']' }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isGenValue reports whether v is a value String may write: a run of
// token and host characters or one well-formed quoted-string.
func isGenValue(v string) bool {
	p := reasonParser{s: v}
	raw, _, err := p.genValue()
	return err == nil && len(raw) == len(v)
}
