package test

import (
	"strings"
	"testing"
)

// heldSDP is sdp(dir) with the RFC 2543 hold address c=0.0.0.0.
func heldSDP(dir string) string {
	s := sdp(dir)
	out := strings.Replace(s, "c=IN IP[media_ip_type] [media_ip]", "c=IN IP4 0.0.0.0", 1)
	if out == s {
		panic("sdp() changed shape: no c= line to hold")
	}
	return out
}

// TestCallLegacyHoldAndResume (issue 9, item 2): the caller holds with
// c=0.0.0.0 and a=sendrecv (RFC 2543); the callee must be offered an
// explicit a=sendonly from Switchboard's address. The callee answers
// sendrecv, which is no valid answer to sendonly: the caller must get
// a=recvonly. On resume (a=sendrecv, real address) both sides see
// a=sendrecv. The call outlives the hold with no RTP on either side for
// longer than the inactivity timeout: the timer pauses while held.
func TestCallLegacyHoldAndResume(t *testing.T) {
	uas := writeScenario(t, "uas-hold", `<recv request="INVITE"/>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="INVITE">`+holdCheck("sendonly")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"),
		`<recv request="ACK"/>`,
		`<recv request="INVITE">`+holdCheck("sendrecv")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("dsendonly", "csendonly", "dsendrecv", "csendrecv"))
	uac := writeScenario(t, "uac-hold", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="300"/>`,
		uacInDialog("INVITE", "3", "", heldSDP("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("recvonly")+`</recv>`, uacAck("3"),
		`<pause milliseconds="3500"/>`, // longer than the 2s inactivity timeout, no RTP
		uacInDialog("INVITE", "4", "", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uacAck("4"), `<pause milliseconds="300"/>`,
		uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`,
		refs("drecvonly", "crecvonly", "dsendrecv", "csendrecv"))
	c := callCase(t, SBOptions{Inactivity: "2s"}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallUpdateWithoutOffer: an UPDATE without SDP in the confirmed
// dialog (a session refresh, RFC 3311 / RFC 4028) gets 200 from
// Switchboard instead of the 501 it got while Allow listed UPDATE; an
// UPDATE with an offer is refused with 488 and the call goes on.
func TestCallUpdateWithoutOffer(t *testing.T) {
	uas := writeScenario(t, "uas-update", `<recv request="INVITE"/>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-update", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="200"/>`,
		uacInDialog("UPDATE", "3", "", ""), `<recv response="200"/>`,
		uacInDialog("UPDATE", "4", "", sdp("sendonly")), `<recv response="488"/>`,
		uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}
