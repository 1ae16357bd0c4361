package b2bua

import (
	"context"
	"net/http"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/identity"
)

// Caller identity (STIR/SHAKEN, package identity): calls sent to a trunk
// with identity: configured carry an Identity header signed for it
// (RFC 8224 §5); calls from trunks are verified when identity.trust_anchors
// is set (RFC 8224 §6), and the result goes on to the called user as
// verstat on the From user part, into the CDR, and, by identity.reject, may
// refuse the call with its RFC 8224 §6.2.2 status.
//
//	from trunk ─► verifyIdentity (start) ─► verstat ─► fork: From user;verstat=…
//	to trunk   ─► identityHeaders (fork) ─► Identity + Date on the B leg INVITE

// trunkIdentity is a trunk's signing: its Signer and attestation policy.
type trunkIdentity struct {
	signer *identity.Signer
	attest string // config.AttestAuto or a fixed level
}

// callIdentity is a call's identity state.
type callIdentity struct {
	// verstat is the verification result to put on the From toward the
	// callee (empty: the call was not verified).
	verstat string
}

// newTrunkIdentity builds the signing of a validated trunk (nil without
// identity:).
func newTrunkIdentity(tc config.Trunk) *trunkIdentity {
	id := tc.Identity
	if id == nil || id.SigningKey == nil {
		return nil
	}
	s, err := identity.NewSigner(identity.SignerConfig{Key: id.SigningKey, X5U: id.X5U, Form: id.Form})
	if err != nil {
		return nil // config.Validate checked key and x5u
	}
	a := id.Attest
	if a == "" {
		a = config.AttestAuto
	}
	return &trunkIdentity{signer: s, attest: a}
}

// newVerifier builds the verification service of cfg (nil when off).
func newVerifier(cfg *config.Config) *identity.Verifier {
	c := cfg.Identity
	if !c.Enabled() {
		return nil
	}
	f := identity.NewFetcher(identity.FetcherConfig{
		AllowedHosts: c.AllowedX5UHosts, RootCAs: c.X5URoots,
		Timeout: c.FetchTimeout, MaxSize: c.MaxCertSize, TTL: c.CacheTTL,
	})
	return identity.NewVerifier(identity.VerifierConfig{Anchors: c.Anchors, Fetcher: f, MaxAge: c.MaxAge})
}

// verifyIdentity verifies the Identity of a call from a trunk and records
// the result; false when the reject policy refused the call (the response
// is sent). A certificate not yet cached is fetched here, on the INVITE's
// goroutine, bounded by identity.fetch_timeout.
func (c *Call) verifyIdentity(pol *policy) bool {
	if c.fromTrunk == nil || pol.verifier == nil {
		return true
	}
	req := c.aReq
	plan := c.fromTrunk.numbering
	vr := identity.Request{Dest: []string{plan.TN(req.Recipient.User)}}
	if to := req.To(); to != nil {
		vr.Dest = append(vr.Dest, plan.TN(to.Address.User))
	}
	for _, h := range req.GetHeaders("Identity") {
		vr.Identity = append(vr.Identity, h.Value())
	}
	vr.Orig = append(vr.Orig, plan.TN(req.From().Address.User))
	for _, h := range req.GetHeaders("P-Asserted-Identity") {
		if u, ok := headerUser(h.Value()); ok {
			vr.Orig = append(vr.Orig, plan.TN(u))
		}
	}
	if d := req.GetHeader("Date"); d != nil {
		vr.Date, _ = http.ParseTime(d.Value())
	}
	res := pol.verifier.Verify(context.Background(), vr)
	c.ident.verstat = res.Verstat
	c.rec.Verstat = res.Verstat
	c.rec.VerifiedAttest, c.rec.VerifiedOrigID = res.Attest, res.OrigID
	if res.Verstat != identity.VerstatPassed {
		c.rec.VerifyStatus = res.Status
		c.rec.VerifyError = res.Reason
		if res.Err != nil {
			c.rec.VerifyError += ": " + res.Err.Error()
		}
		c.log.Info("identity not verified", "verstat", res.Verstat, "status", res.Status, "error", res.Err)
	}
	reject := pol.cfg.Identity.Reject
	if res.Verstat == identity.VerstatFailed && (reject == config.RejectInvalid || reject == config.RejectAll) ||
		res.Verstat == identity.VerstatNone && reject == config.RejectAll {
		c.warning = res.Reason // the 403's "Stale Date" (RFC 8224 §6.2.1) is said here
		c.fail(res.Status, cdr.HangupSwitchboard, "identity: "+res.Reason, cdr.Failed)
		return false
	}
	return true
}

// headerUser is the user part of a name-addr header value such as
// P-Asserted-Identity's ("Alice" <sip:+12155551212@example.com>, or a tel:
// URI).
func headerUser(v string) (string, bool) {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	scheme, v, ok := strings.Cut(strings.TrimSpace(v), ":")
	if !ok {
		return "", false
	}
	user, _, at := strings.Cut(v, "@")
	if !at && !strings.EqualFold(scheme, "tel") {
		return "", false // sip:host names no user
	}
	user, _, _ = strings.Cut(user, ";")
	return user, user != ""
}

// fromUser is the From user part of a B leg toward t: the caller's, in
// E.164 toward a trunk whose numbering says rewrite_from, with the
// verification result (verstat, 3GPP TS 24.229 §7.2A.20) toward a user.
func (c *Call) fromUser(t Target) string {
	user := c.aReq.From().Address.User
	switch t.Kind {
	case TargetTrunk:
		if t.Trunk.rewriteFrom {
			if e, ok := t.Trunk.numbering.E164(user); ok {
				user = e
			}
		}
	case TargetUser:
		if c.ident.verstat != "" {
			user += ";verstat=" + c.ident.verstat
		}
	}
	return user
}

// identityHeaders signs the call for trunk target t (RFC 8224 §5): the
// Identity header, and the Date header whose time is the PASSporT's iat
// (RFC 8224 §4.1). None when t is not a trunk with identity:.
func (c *Call) identityHeaders(t Target, from string, pol *policy) []sip.Header {
	if t.Kind != TargetTrunk || t.Trunk.ident == nil {
		return nil
	}
	ti, plan := t.Trunk.ident, t.Trunk.numbering
	orig, dest := plan.TN(from), plan.TN(t.Number)
	attest := ti.attest
	if attest == config.AttestAuto {
		attest = c.attestation(plan, orig, pol)
	}
	s, err := ti.signer.Sign(orig, dest, attest)
	if err != nil {
		c.log.Error("identity signing", "leg", "b", "error", err)
		return nil
	}
	c.rec.OrigID, c.rec.Attest = s.OrigID, s.Attest
	return []sip.Header{
		sip.NewHeader("Date", s.IAT.UTC().Format(http.TimeFormat)),
		sip.NewHeader("Identity", s.Header),
	}
}

// attestation is the auto level (RFC 8588 §4) of a call from orig: A for
// an authenticated user calling from a telephone number it owns (its user
// name when that is an E.164 number under plan, or a trunk DID mapped to
// it), B for an authenticated user with another number (an extension such
// as 1000 is not a number it can be vouched for), C for a call that came in
// from a trunk.
func (c *Call) attestation(plan identity.Numbering, orig string, pol *policy) string {
	if c.fromTrunk != nil {
		return identity.AttestGateway
	}
	if _, ok := pol.users[c.caller]; !ok {
		return identity.AttestGateway
	}
	if _, number := plan.E164(c.caller); number && plan.TN(c.caller) == orig {
		return identity.AttestFull
	}
	for _, d := range userDIDs(pol, c.caller) {
		if plan.TN(d.number) == orig {
			return identity.AttestFull
		}
	}
	return identity.AttestPartial
}

// did is a trunk DID mapped to a user (trunks[].dids).
type did struct{ trunk, number string }

// userDIDs are the DIDs of every trunk that map to user.
func userDIDs(pol *policy, user string) []did {
	var out []did
	for _, tr := range pol.cfg.Trunks {
		for number, u := range tr.DIDs {
			if u == user {
				out = append(out, did{trunk: tr.Name, number: number})
			}
		}
	}
	return out
}
