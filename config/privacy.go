package config

import "fmt"

// Asserted identity toward a trunk (trunks[].asserted_identity).
const (
	// AssertPAI sends P-Asserted-Identity with the caller's number (E.164
	// by the trunk's numbering), RFC 3325 §9.1: the carrier is in the
	// trust domain and needs the real caller even when the From is
	// anonymous.
	AssertPAI = "pai"
	// AssertNone sends no P-Asserted-Identity (a carrier that rejects or
	// ignores it); a caller's privacy request still hides the From.
	AssertNone = "none"
)

// privacy checks trunks[].asserted_identity.
func (v *validator) privacy() {
	for i := range v.c.Trunks {
		t := &v.c.Trunks[i]
		v.oneOf(fmt.Sprintf("trunks[%d].asserted_identity", i), t.AssertedIdentity, "", AssertPAI, AssertNone)
		if t.AssertedIdentity == "" {
			t.AssertedIdentity = AssertPAI
		}
	}
}
