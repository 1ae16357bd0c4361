package identity

import (
	"crypto/x509"
	"encoding/asn1"
)

// OIDTNAuthList is the TNAuthList certificate extension (RFC 8226 §9):
// the telephone numbers or service provider code the certificate speaks
// for.
var OIDTNAuthList = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 26}

// HasTNAuthList reports whether cert carries the TNAuthList extension.
// Its content (SPC or number ranges) is not matched against orig: SHAKEN
// certificates name a service provider code, not numbers (RFC 8588 §2).
func HasTNAuthList(cert *x509.Certificate) bool {
	for _, e := range cert.Extensions {
		if e.Id.Equal(OIDTNAuthList) {
			return true
		}
	}
	return false
}
