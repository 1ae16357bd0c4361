package b2bua

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Caller privacy and asserted identity (RFC 3323, RFC 3325).
//
// A caller asks to hide its identity with a Privacy header naming id,
// user or header (RFC 3323 §4.2, RFC 3325 §9.3). Switchboard is the
// privacy service for its callers: what leaves toward the callee has an
// anonymous From ("Anonymous" <sip:anonymous@anonymous.invalid>, RFC 3323
// §4.1.1.3), whoever the callee is. Trunks are in Switchboard's trust
// domain (RFC 3325 §2.3): each call to a trunk carries the caller's real
// number in P-Asserted-Identity (E.164 by the trunk's numbering, unless
// the trunk says asserted_identity: none), with Privacy passed on so the
// carrier withholds it further. A phone never gets a P-Asserted-Identity.
// A call arriving from a trunk with Privacy: id reaches the phone as an
// anonymous From; the number stays in the CDR (from).
//
//	fork ─► callerPrivacy(caller's INVITE)      hide? values
//	     ─► privacyHeaders(target, from user)   PAI + Privacy to a trunk
//	     ─► From anonymous when hide
//
// The STIR/SHAKEN PASSporT (identity.go) is signed before the From is
// hidden: its orig is the real number, as the PAI beside it is.

const (
	anonymousDisplay = "Anonymous"
	anonymousUser    = "anonymous"
	anonymousHost    = "anonymous.invalid"
)

// callerPrivacy reads the Privacy header of the caller's INVITE: its
// values as sent, and whether they ask to hide the caller's identity.
func callerPrivacy(req *sip.Request) (values string, hide bool) {
	h := req.GetHeader("Privacy")
	if h == nil {
		return "", false
	}
	values = strings.TrimSpace(h.Value())
	for _, v := range strings.FieldsFunc(values, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
		switch strings.ToLower(v) {
		case "id", "user", "header":
			hide = true
		case "none":
			return values, false // RFC 3323 §4.2: none overrides
		}
	}
	return values, hide
}

// privacyHeaders are the identity headers toward target t for a caller
// whose number (From user, after the trunk's numbering) is from: to a
// trunk, P-Asserted-Identity and, when the caller asked, its Privacy. The
// call's record notes both. hide says the From must be anonymous.
func (c *Call) privacyHeaders(t Target, from string) (hdrs []sip.Header, hide bool) {
	values, hide := callerPrivacy(c.aReq)
	if values != "" {
		c.rec.Privacy = values
	}
	if t.Kind != TargetTrunk || t.Trunk == nil {
		return nil, hide
	}
	if !t.Trunk.noPAI {
		pai := "<sip:" + c.assertedNumber(t.Trunk, from) + "@" + c.host.sipDomain() + ";user=phone>"
		hdrs = append(hdrs, sip.NewHeader("P-Asserted-Identity", pai))
		c.rec.AssertedIdentity = pai
	}
	if hide {
		hdrs = append(hdrs, sip.NewHeader("Privacy", values))
	}
	return hdrs, hide
}

// assertedNumber is the caller's number as asserted to trunk tr: from in
// E.164 when the trunk's numbering makes it one; otherwise, for a user
// with a DID (an extension such as 1000 is no number a carrier can
// route), that DID in E.164 (the DID of this trunk first); otherwise
// from as it is.
func (c *Call) assertedNumber(tr *Trunk, from string) string {
	if e, ok := tr.numbering.E164(from); ok {
		return e
	}
	pol := c.host.currentPolicy()
	if _, ok := pol.users[c.caller]; !ok {
		return from
	}
	number := ""
	for _, d := range userDIDs(pol, c.caller) { // identity.go
		if number == "" || d.trunk == tr.Name {
			number = d.number
		}
	}
	if e, ok := tr.numbering.E164(number); ok {
		return e
	}
	return from
}

// anonymousFrom is the From of a call whose caller asked for privacy.
func anonymousFrom() sip.Uri {
	return sip.Uri{Scheme: "sip", User: anonymousUser, Host: anonymousHost}
}
