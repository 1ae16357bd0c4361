package test

import "testing"

// TestTrunkCodecPreference: the trunk takes `codecs: [PCMA,
// telephone-event]`; a caller offering PCMU, PCMA and telephone-event is
// relayed to it with PCMA first and without PCMU (the callee checks its
// m-line), and the call is relayed PCMA end to end.
func TestTrunkCodecPreference(t *testing.T) {
	uas := writeScenario(t, "uas-pref", `<recv request="INVITE"><action>
<ereg regexp="m=audio [0-9]+ RTP/AVP 8 101[^0-9]" search_in="body" check_it="true" assign_to="mline"/>
</action></recv>`,
		replyWith("200", "OK", true, sdpCodecs("8 101", "a=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n")), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("mline"))
	uac := writeScenario(t, "uac-pref", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<pause milliseconds="500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := callCase(t, SBOptions{TrunkExtra: ", codecs: [PCMA, telephone-event]"}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.CodecA != "PCMA" || c.CodecB != "PCMA" || c.Transcoded {
		t.Errorf("codecs %s/%s transcoded %v, want PCMA relayed", c.CodecA, c.CodecB, c.Transcoded)
	}
}
