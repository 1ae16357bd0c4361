package test

import "testing"

// uacAckReinviteFailure acknowledges a non-2xx final to the caller's
// re-INVITE with CSeq cseq: the re-INVITE's Request-URI and branch (RFC
// 3261 §17.1.1.3).
func uacAckReinviteFailure(cseq string) string {
	return `<send>` + cdata(`ACK [next_url] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: `+cseq+` ACK
Max-Forwards: 70
Content-Length: 0
`) + `</send>`
}

// calleeAnswered is the callee's part up to the answered call.
func calleeAnswered(first string) []string {
	return []string{first, reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`}
}

// callerAnswered is the caller's part up to its ACK and a short pause.
func callerAnswered() []string {
	return []string{uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"), `<pause milliseconds="300"/>`}
}

// TestCallReinviteGlareRetried (issue 9, item 6): the callee answers the
// relayed re-INVITE with 491 (glare). Switchboard does not pass the 491 on:
// it sends the same offer again after the RFC 3261 §14.1 timer (2.1-4 s,
// the callee dialog's Call-ID being Switchboard's) and the caller gets the
// answer to its re-INVITE.
func TestCallReinviteGlareRetried(t *testing.T) {
	uas := writeScenario(t, "uas-glare", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE">`+holdCheck("sendonly")+`</recv>`, replyNoTag("491", "Request Pending", false, ""),
		`<recv request="ACK"/>`,
		`<recv request="INVITE" timeout="6000">`+holdCheck("sendonly")+`</recv>`, replyNoTag("200", "OK", true, "recvonly"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("dsendonly", "csendonly"))...)
	uac := writeScenario(t, "uac-glare", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", sdp("sendonly")), `<recv response="100" optional="true"/>`,
		`<recv response="200" timeout="8000">`+holdCheck("recvonly")+`</recv>`, uacAck("3"), `<pause milliseconds="300"/>`,
		uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`, refs("drecvonly", "crecvonly"))...)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallReinviteFailureKeepsSession (issue 9, item 6): the callee
// refuses the caller's hold re-INVITE with 488; the caller gets 488 and
// the session in force stays (RFC 3261 §14.1): the callee's later
// offerless re-INVITE is answered with the caller's direction as it was,
// a=sendrecv, not the refused sendonly.
func TestCallReinviteFailureKeepsSession(t *testing.T) {
	uas := writeScenario(t, "uas-refuse", append(calleeAnswered(`<recv request="INVITE">`+captureFrom+`</recv>`),
		`<recv request="INVITE"/>`, replyNoTag("488", "Not Acceptable Here", false, ""), `<recv request="ACK"/>`,
		`<pause milliseconds="300"/>`, uasInDialog("INVITE", "1", ""), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("sendrecv")+`</recv>`, uasAck("1"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("dsendrecv", "csendrecv"))...)
	uac := writeScenario(t, "uac-refused", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", sdp("sendonly")), `<recv response="100" optional="true"/>`,
		`<recv response="488"/>`, uacAckReinviteFailure("3"), `<pause milliseconds="1000"/>`,
		uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`)...)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallReinvite481EndsCall (issue 9, item 6): the callee answers the
// relayed re-INVITE with 481 (its dialog is gone). The caller gets 481 and
// then a BYE from Switchboard; the callee gets nothing more; one record,
// ended by Switchboard.
func TestCallReinvite481EndsCall(t *testing.T) {
	uas := writeScenario(t, "uas-481", append(calleeAnswered(`<recv request="INVITE"/>`),
		`<recv request="INVITE"/>`, replyNoTag("481", "Call/Transaction Does Not Exist", false, ""), `<recv request="ACK"/>`,
		`<pause milliseconds="1500"/>`)...) // a BYE meanwhile fails the scenario
	uac := writeScenario(t, "uac-481", append(callerAnswered(),
		uacInDialog("INVITE", "3", "", sdp("sendonly")), `<recv response="100" optional="true"/>`,
		`<recv response="481"/>`, uacAckReinviteFailure("3"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))...)
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "switchboard")
}
