package identity

import "strings"

// Numbering is a trunk's numbering plan, used to turn the numbers it
// sends or receives into E.164 (ITU-T E.164; RFC 8224 §8.3 canonical
// telephone numbers). The zero value accepts only numbers already in
// "+digits" form, or of at least MinInternational digits, as international.
type Numbering struct {
	// CountryCode is the country calling code of national numbers
	// ("1", "44"); empty: none.
	CountryCode string
	// NationalPrefix is the trunk prefix of national numbers ("0" in most
	// of Europe); empty: none.
	NationalPrefix string
	// InternationalPrefix is the international call prefix ("00", "011");
	// empty: only "+" marks an international number.
	InternationalPrefix string
}

// MinInternational is how many digits a number without prefix needs to be
// taken as already carrying its country code: E.164 numbers of 11 or more
// digits are international, shorter ones are national.
const MinInternational = 11

// E164 returns number in E.164 form ("+" and digits) and true, or "" and
// false when it is not a telephone number (letters, or too short to be
// one). Visual separators (RFC 3966 §5.1.1: "-", ".", "(", ")", spaces)
// are removed first.
//
// Order of the rules: a leading "+" is international; then the
// international prefix; then the national prefix (followed by the country
// code); then a number of MinInternational digits or more is taken as
// international, a shorter one as national when a country code is set.
func (n Numbering) E164(number string) (string, bool) {
	d, plus := digitsOf(number)
	if d == "" {
		return "", false
	}
	switch {
	case plus:
	case n.InternationalPrefix != "" && strings.HasPrefix(d, n.InternationalPrefix):
		d = d[len(n.InternationalPrefix):]
	case n.NationalPrefix != "" && n.CountryCode != "" && strings.HasPrefix(d, n.NationalPrefix):
		d = n.CountryCode + d[len(n.NationalPrefix):]
	case len(d) >= MinInternational:
	case n.CountryCode != "" && len(d) >= 7:
		d = n.CountryCode + d
	default:
		return "", false
	}
	if len(d) < 7 || len(d) > 15 || strings.Trim(d, "0123456789") != "" {
		return "", false // a country code that is not digits (config.Validate refuses it)
	}
	return "+" + d, true
}

// TN is the PASSporT "tn" of number (RFC 8225 §5.2.1, RFC 8224 §8.3): the
// E.164 digits without "+", or, when number is not a telephone number
// under n, its digits as they are (RFC 8224 §8.3 step 6: numbers that
// cannot be made global are compared as they are).
func (n Numbering) TN(number string) string {
	if e, ok := n.E164(number); ok {
		return e[1:]
	}
	d, _ := digitsOf(number)
	if d == "" {
		return number
	}
	return d
}

// digitsOf strips visual separators from number and reports whether it
// started with "+"; it returns "" when anything but digits is left.
func digitsOf(number string) (string, bool) {
	number = strings.TrimSpace(number)
	plus := strings.HasPrefix(number, "+")
	if plus {
		number = number[1:]
	}
	var b strings.Builder
	b.Grow(len(number))
	for i := 0; i < len(number); i++ {
		switch c := number[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '-' || c == '.' || c == '(' || c == ')' || c == ' ':
		default:
			return "", false
		}
	}
	return b.String(), plus
}
