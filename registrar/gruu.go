package registrar

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// GRUU (RFC 5627). A REGISTER with "gruu" in Supported and a Contact with
// +sip.instance gets, in each such Contact of its 200, a public GRUU
// (pub-gruu: the AOR with gr=<instance URN>, §3.1) and a temporary GRUU
// (temp-gruu: the AOR with gr=<opaque token>, §3.2). A request whose
// Request-URI carries gr reaches exactly the instance the GRUU names
// (ForGRUU), over its flow when it has one; when that instance has no live
// binding the caller answers 480 (§7).
//
// The temporary GRUU is one random token per binding, kept across
// refreshes and valid while the binding lives (RFC 5627 §3.2 lets every
// REGISTER mint a new one; one suffices for reaching the instance). It
// keeps the AOR's user part so the router finds the user; it hides the
// instance ID, not the AOR.

// PubGRUU returns the binding's public GRUU for domain, or "" when the
// binding has no instance.
func (b Binding) PubGRUU(domain string) string {
	if b.Instance == "" {
		return ""
	}
	return "sip:" + b.User + "@" + domain + ";gr=" + instanceURN(b.Instance)
}

// TempGRUUURI returns the binding's temporary GRUU for domain, or "".
func (b Binding) TempGRUUURI(domain string) string {
	if b.TempGRUU == "" {
		return ""
	}
	return "sip:" + b.User + "@" + domain + ";gr=" + b.TempGRUU
}

// instanceURN strips the angle brackets and quotes of a +sip.instance
// value: "<urn:uuid:X>" becomes urn:uuid:X (RFC 5627 §3.1).
func instanceURN(instance string) string {
	return strings.Trim(instance, "\"<> ")
}

// ForGRUU keeps of bs the bindings of the instance that gr (the gr
// parameter of a Request-URI) names: its instance URN for a public GRUU,
// its token for a temporary one.
func ForGRUU(bs []Binding, gr string) []Binding {
	var out []Binding
	for _, b := range bs {
		if b.Instance == "" {
			continue
		}
		if instanceURN(b.Instance) == gr || (b.TempGRUU != "" && b.TempGRUU == gr) {
			out = append(out, b)
		}
	}
	return out
}

// newTempGRUU returns a fresh opaque token for a temporary GRUU.
func newTempGRUU() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "tgruu." + hex.EncodeToString(b[:])
}

// gruuParams adds pub-gruu and temp-gruu to a 200's Contact for b
// (RFC 5627 §5): the request supported gruu and the binding has an
// instance. +sip.instance is echoed so the UA can tell its own contact.
func gruuParams(params *sip.HeaderParams, b Binding, domain string, gruu bool) {
	if b.Instance == "" {
		return
	}
	params.Add("+sip.instance", b.Instance)
	if b.RegID != "" {
		params.Add("reg-id", b.RegID)
	}
	if !gruu || domain == "" {
		return
	}
	params.Add("pub-gruu", `"`+b.PubGRUU(domain)+`"`)
	if b.TempGRUU != "" {
		params.Add("temp-gruu", `"`+b.TempGRUUURI(domain)+`"`)
	}
}
