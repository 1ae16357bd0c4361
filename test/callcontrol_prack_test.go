package test

import (
	"strings"
	"testing"
)

// PRACK / 100rel (RFC 3262) through Switchboard, each leg on its own
// (issue 9, item 1): sipp caller and callee with and without 100rel. The
// scenarios check what each side must see: Require: 100rel and RSeq only
// towards a leg that offered 100rel, RAck naming the provisional and the
// INVITE, and the CSeq of ACK and BYE right after a PRACK.

// capInvite keeps the callee's INVITE headers: the final response goes
// out after the PRACK exchange, when [last_*] name the PRACK.
const capInvite = `<action>
<ereg regexp=".*" search_in="hdr" header="Via:" assign_to="inv_via"/>
<ereg regexp=".*" search_in="hdr" header="From:" assign_to="inv_from"/>
<ereg regexp=".*" search_in="hdr" header="To:" assign_to="inv_to"/>
<ereg regexp=".*" search_in="hdr" header="Call-ID:" assign_to="inv_callid"/>
<ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="inv_cseq"/>
</action>`

// capInviteRefs marks capInvite's variables as used (sipp refuses unused ones).
const capInviteRefs = `<Reference variables="inv_via,inv_from,inv_to,inv_callid,inv_cseq"/>`

// uasInviteResponse answers the callee's INVITE from capInvite's
// variables, with extra headers and our SDP.
func uasInviteResponse(status, extra string) string {
	return `<send>` + cdata(`SIP/2.0 `+status+`
Via: [$inv_via]
From: [$inv_from]
To: [$inv_to];tag=[pid]SIPpTag01[call_number]
Call-ID: [$inv_callid]
CSeq: [$inv_cseq]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
`+extra+`Content-Type: application/sdp
Content-Length: [len]

`+sdp("sendrecv")) + "</send>\n"
}

// uasReliable183 is the callee's 183 with SDP, Require: 100rel, RSeq 1.
func uasReliable183() string {
	return uasInviteResponse("183 Session Progress", "Require: 100rel\nRSeq: 1\n")
}

// uasFinalAfterPrack is the callee's 200 to the INVITE, sent after the
// PRACK exchange.
func uasFinalAfterPrack() string { return uasInviteResponse("200 OK", "") }

// check fails the sipp call unless header matches re (or, inverse, unless
// it does not); name is the variable the match is assigned to.
func check(header, re, name string, inverse bool) string {
	attr := `check_it="true"`
	if inverse {
		attr = `check_it_inverse="true"`
	}
	return `<ereg regexp="` + re + `" search_in="hdr" header="` + header + `" ` + attr + ` assign_to="` + name + `"/>`
}

// uacWith adds a header to the caller's INVITEs.
func uacWith(hdr string) string {
	inv := uacInvite()
	out := strings.ReplaceAll(inv, "Max-Forwards: 70\nTo:", "Max-Forwards: 70\n"+hdr+"\nTo:")
	if out == inv {
		panic("uacInvite changed shape: no place for " + hdr)
	}
	return out
}

// uacReliable is the caller's side of a reliable 183 from Switchboard:
// Require: 100rel and an RSeq on it, PRACK (CSeq 3) with its RAck, 200 to
// the PRACK, then the 2xx to the INVITE (CSeq 2), ACK 2 and BYE 4.
func uacReliable(inviteHdr string) string {
	return uacWith(inviteHdr) + `<recv response="180" optional="true"/>
<recv response="183" rrs="true"><action>` + check("Require:", "100rel", "req183", false) +
		check("RSeq:", "[0-9]+", "rseq", false) + `</action></recv>
` + uacInDialog("PRACK", "3", "RAck: [$rseq] 2 INVITE\n", "") + `<recv response="200"><action>` + check("CSeq:", "3 PRACK", "csprack", false) + `</action></recv>
<recv response="200"><action>` + check("CSeq:", "2 INVITE", "csinv", false) + `</action></recv>
` + uacAck("2") + `<pause milliseconds="500"/>
` + uacInDialog("BYE", "4", "", "") + `<recv response="200"/>
` + refs("req183", "csprack", "csinv")
}

// uasPlain is a callee without 100rel: it must see no Require: 100rel.
func uasPlain() string {
	return `<recv request="INVITE"><action>` + check("Require:", ".", "noreq", true) + `</action></recv>
` + reply("183", "Session Progress", true, "sendrecv") + `<pause milliseconds="300"/>
` + reply("200", "OK", true, "sendrecv") + `<recv request="ACK"/>
<recv request="BYE"/>
` + replyNoTag("200", "OK", false, "") + refs("noreq")
}

// uasReliable is a callee that requires 100rel for its 183: Switchboard
// offered it (Supported), PRACKs it in the early dialog (RAck 1 1 INVITE,
// CSeq 2), then ACKs the 2xx with CSeq 1 and sends BYE with CSeq 3.
func uasReliable() string {
	return `<recv request="INVITE">` + strings.Replace(capInvite, "</action>", check("Supported:", "100rel", "sup", false)+
		check("Require:", ".", "noreq", true)+"</action>", 1) + `</recv>
` + uasReliable183() + `<recv request="PRACK"><action>` + check("RAck:", "1 1 INVITE", "rack", false) +
		check("CSeq:", "2 PRACK", "csprack", false) + `</action></recv>
` + replyNoTag("200", "OK", false, "") + uasFinalAfterPrack() + `<recv request="ACK"><action>` + check("CSeq:", "1 ACK", "csack", false) + `</action></recv>
<recv request="BYE"><action>` + check("CSeq:", "3 BYE", "csbye", false) + `</action></recv>
` + replyNoTag("200", "OK", false, "") + refs("sup", "noreq", "rack", "csprack", "csack", "csbye") + capInviteRefs
}

func TestCallPrackBothLegs(t *testing.T) {
	uas := writeScenario(t, "uas-prack", uasReliable())
	uac := writeScenario(t, "uac-prack", uacReliable("Supported: 100rel"))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

func TestCallPrackCallerRequiresCalleePlain(t *testing.T) {
	uas := writeScenario(t, "uas-plain", uasPlain())
	uac := writeScenario(t, "uac-prack-req", uacReliable("Require: 100rel"))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

func TestCallPrackCalleeRequiresCallerPlain(t *testing.T) {
	uas := writeScenario(t, "uas-prack-req", uasReliable())
	uac := writeScenario(t, "uac-plain", uacInvite(), `<recv response="180" optional="true"/>`,
		`<recv response="183"><action>`+check("Require:", ".", "noreq", true)+check("RSeq:", ".", "norseq", true)+`</action></recv>`,
		`<recv response="200"/>`, uacAck("2"), `<pause milliseconds="500"/>`,
		uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("noreq", "norseq"))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}
