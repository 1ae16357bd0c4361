package test

import (
	"strings"
	"testing"
)

// xmlAttr escapes a regexp for a sipp scenario's attribute (sipp's XML
// parser knows the named entities, not numeric ones).
var xmlAttr = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// privacyCallee is a trunk callee that checks the INVITE's identity
// headers: each of the given header/regexp pairs must match (a regexp
// starting with "!" must not), then it answers and waits for BYE.
func privacyCallee(t *testing.T, name string, checks ...[2]string) string {
	var b strings.Builder
	var names []string
	for i, c := range checks {
		re, inverse := strings.CutPrefix(c[1], "!")
		n := "chk" + string(rune('a'+i))
		b.WriteString(check(c[0], xmlAttr.Replace(re), n, inverse))
		names = append(names, n)
	}
	return writeScenario(t, name, `<recv request="INVITE"><action>`+b.String()+`</action></recv>`,
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, "")+refs(names...))
}

// privacyCaller is user 1000 calling the trunk with extra INVITE headers.
func privacyCaller(t *testing.T, name, extra string) string {
	return writeScenario(t, name, uacInviteHeaders(extra, sdp("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200"/>`, uacAck("2"), `<pause milliseconds="200"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
}

// TestCallerPrivacy (issue 13, RFC 3323/3325): a call to a trunk carries
// the caller's number in P-Asserted-Identity (extension 1000's DID, E.164
// by the trunk's numbering); a caller that asks for privacy (Privacy: id) reaches the
// trunk with an anonymous From, the PAI and Privacy: id; with
// asserted_identity: none no PAI is sent; the CDR records both.
func TestCallerPrivacy(t *testing.T) {
	t.Parallel()
	numbering := ", numbering: {country_code: '44', national_prefix: '0'}, dids: {'01632960000': '1000'}"
	t.Run("asserted", func(t *testing.T) {
		t.Parallel()
		uas := privacyCallee(t, "uas-pai",
			[2]string{"P-Asserted-Identity:", `<sip:\+441632960000@[^;>]+;user=phone>`},
			[2]string{"From:", "sip:1000@"}, [2]string{"Privacy:", "!."})
		c := callCase(t, SBOptions{TrunkExtra: numbering}, uas, privacyCaller(t, "uac-pai", ""))
		expectCDR(t, c, 200, "answered", "caller")
		if !strings.Contains(c.AssertedIdentity, "+441632960000") || c.Privacy != "" {
			t.Errorf("CDR asserted_identity %q privacy %q", c.AssertedIdentity, c.Privacy)
		}
	})
	t.Run("private", func(t *testing.T) {
		t.Parallel()
		uas := privacyCallee(t, "uas-private",
			[2]string{"From:", `"Anonymous" <sip:anonymous@anonymous\.invalid>`},
			[2]string{"P-Asserted-Identity:", `\+441632960000`}, [2]string{"Privacy:", "^ *id *$"},
			[2]string{"From:", "!1000"})
		c := callCase(t, SBOptions{TrunkExtra: numbering}, uas, privacyCaller(t, "uac-private", "Privacy: id\n"))
		expectCDR(t, c, 200, "answered", "caller")
		if c.Privacy != "id" || !strings.Contains(c.AssertedIdentity, "+441632960000") {
			t.Errorf("CDR privacy %q asserted_identity %q", c.Privacy, c.AssertedIdentity)
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		uas := privacyCallee(t, "uas-nopai",
			[2]string{"P-Asserted-Identity:", "!."}, [2]string{"From:", "anonymous"})
		c := callCase(t, SBOptions{TrunkExtra: ", asserted_identity: none"}, uas, privacyCaller(t, "uac-nopai", "Privacy: id\n"))
		expectCDR(t, c, 200, "answered", "caller")
		if c.AssertedIdentity != "" {
			t.Errorf("CDR asserted_identity %q with asserted_identity: none", c.AssertedIdentity)
		}
	})
}
