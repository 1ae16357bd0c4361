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

// holdAnswers is each hold direction an offer may carry and the answer a
// party must get when the other answers a=sendrecv, which is no valid
// answer to it (RFC 3264 §6.1): Switchboard narrows it.
var holdAnswers = []struct{ offer, answer string }{
	{"sendonly", "recvonly"},
	{"recvonly", "sendonly"},
	{"inactive", "inactive"},
}

// TestCallHoldDirectionsFromCaller (issue 9, item 2): the caller holds with
// each direction attribute; the callee is offered the same attribute from
// Switchboard's address and answers a=sendrecv; the caller's answer has
// the narrowed attribute. On resume both sides see a=sendrecv.
func TestCallHoldDirectionsFromCaller(t *testing.T) {
	for _, h := range holdAnswers {
		t.Run(h.offer, func(t *testing.T) {
			uas := writeScenario(t, "uas-hold-"+h.offer, append(calleeAnswered(`<recv request="INVITE"/>`),
				`<recv request="INVITE">`+holdCheck(h.offer)+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
				`<recv request="INVITE">`+holdCheck("sendrecv")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
				`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
				refs("d"+h.offer, "c"+h.offer, "dsendrecv", "csendrecv"))...)
			uac := writeScenario(t, "uac-hold-"+h.offer, append(callerAnswered(),
				uacInDialog("INVITE", "3", "", sdp(h.offer)), `<recv response="100" optional="true"/>`,
				`<recv response="200">`+holdCheck(h.answer)+`</recv>`, uacAck("3"), `<pause milliseconds="200"/>`,
				uacInDialog("INVITE", "4", "", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
				`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uacAck("4"), `<pause milliseconds="200"/>`,
				uacInDialog("BYE", "5", "", ""), `<recv response="200"/>`,
				refs("d"+h.answer, "c"+h.answer, "dsendrecv", "csendrecv"))...)
			expectCDR(t, callCase(t, SBOptions{}, uas, uac), 200, "answered", "caller")
		})
	}
}

// TestCallHoldDirectionsFromCallee: the same from the callee's side: its
// hold re-INVITE reaches the caller with the attribute, the caller answers
// a=sendrecv and the callee gets the narrowed attribute; resume is
// a=sendrecv both ways.
func TestCallHoldDirectionsFromCallee(t *testing.T) {
	for _, h := range holdAnswers {
		t.Run(h.offer, func(t *testing.T) {
			uas := writeScenario(t, "uas-hold2-"+h.offer, append(calleeAnswered(`<recv request="INVITE">`+captureFrom+`</recv>`),
				`<pause milliseconds="300"/>`, uasInDialog("INVITE", "1", sdp(h.offer)), `<recv response="100" optional="true"/>`,
				`<recv response="200">`+holdCheck(h.answer)+`</recv>`, uasAck("1"), `<pause milliseconds="200"/>`,
				uasInDialog("INVITE", "2", sdp("sendrecv")), `<recv response="100" optional="true"/>`,
				`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uasAck("2"),
				`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
				refs("d"+h.answer, "c"+h.answer, "dsendrecv", "csendrecv"))...)
			uac := writeScenario(t, "uac-hold2-"+h.offer, uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
				`<recv request="INVITE">`+holdCheck(h.offer)+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
				`<recv request="INVITE">`+holdCheck("sendrecv")+`</recv>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
				`<pause milliseconds="200"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`,
				refs("d"+h.offer, "c"+h.offer, "dsendrecv", "csendrecv"))
			expectCDR(t, callCase(t, SBOptions{}, uas, uac), 200, "answered", "caller")
		})
	}
}
