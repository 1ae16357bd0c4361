package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// callCase runs one sipp caller against one sipp callee (a trunk on
// 127.0.0.2) through Switchboard, each with -m 1, and returns the CDR.
func callCase(t *testing.T, o SBOptions, uas, uac string) CDR {
	t.Helper()
	return runCallCase(t, o, uas, uac)
}

// callCaseEcho is callCase with the callee echoing RTP back.
func callCaseEcho(t *testing.T, o SBOptions, uas, uac string) CDR {
	t.Helper()
	return runCallCase(t, o, uas, uac, "-rtp_echo")
}

func runCallCase(t *testing.T, o SBOptions, uas, uac string, uasExtra ...string) CDR {
	t.Helper()
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, o)
	uasDone := make(chan Sipp, 1)
	go func() {
		args := append([]string{"-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort + 2), "-m", "1", "-timeout", "50s", "-timeout_error"}, uasExtra...)
		uasDone <- runSipp(t, dir, 60*time.Second, args...)
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	r := runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "50s", "-timeout_error")
	ur := <-uasDone
	if r.Stats.Successful != 1 || r.Err != nil {
		t.Errorf("caller sipp failed: %v\n%s", r.Err, tail(r.Out, 2500))
	}
	if ur.Stats.Successful != 1 || ur.Err != nil {
		t.Errorf("callee sipp failed: %v\n%s", ur.Err, tail(ur.Out, 2500))
	}
	recs := sb.WaitCDRs(1, 10*time.Second)
	if len(recs) != 1 {
		t.Fatalf("%d CDRs, want exactly 1: %+v", len(recs), recs)
	}
	return recs[0]
}

func expectCDR(t *testing.T, c CDR, status int, disposition, side string) {
	t.Helper()
	if c.Status != status || c.Disposition != disposition || c.HangupSide != side {
		t.Errorf("CDR status=%d disposition=%s side=%s (reason %q), want %d/%s/%s", c.Status, c.Disposition, c.HangupSide, c.HangupReason, status, disposition, side)
	}
}

func TestCallCancelBeforeAnswer(t *testing.T) {
	uas := writeScenario(t, "uas-cancel",
		`<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""),
		uas487(),
		`<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-cancel", uacInvite(), `<recv response="180"/>`, `<pause milliseconds="300"/>`,
		uacCancel("[last_Via:]"),
		`<recv response="200"/>`, `<recv response="487"/>`,
		uacAckFinal())
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 487, "cancelled", "caller")
}

func TestCallCalleeBusy(t *testing.T) {
	uas := writeScenario(t, "uas-busy", `<recv request="INVITE"/>`, reply("486", "Busy Here", false, ""), `<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-busy", uacInvite(), `<recv response="486"/>`,
		uacAckFinal())
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 486, "busy", "callee")
}

func TestCallCalleeHangsUp(t *testing.T) {
	uas := writeScenario(t, "uas-bye", `<recv request="INVITE">`+captureFrom+`</recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<pause milliseconds="1000"/>`, uasInDialog("BYE", "1", ""), `<recv response="200"/>`)
	uac := writeScenario(t, "uac-bye", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "callee")
	if c.Billable < 0.5 {
		t.Errorf("billable %.2fs for a call answered for a second", c.Billable)
	}
}

// holdCheck fails the sipp call unless the SDP has Switchboard's address and dir.
func holdCheck(dir string) string {
	return `<action>
<ereg regexp="a=` + dir + `" search_in="body" check_it="true" assign_to="d` + dir + `"/>
<ereg regexp="c=IN IP4 127\.0\.0\.1" search_in="body" check_it="true" assign_to="c` + dir + `"/>
</action>`
}

func refs(names ...string) string {
	return `<Reference variables="` + strings.Join(names, ",") + `"/>`
}

func TestCallReinviteFromCaller(t *testing.T) {
	uas := writeScenario(t, "uas-reinv", `<recv request="INVITE"/>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="INVITE">`+holdCheck("sendonly")+`</recv>`, replyNoTag("200", "OK", true, "recvonly"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("dsendonly", "csendonly"))
	uac := writeScenario(t, "uac-reinv", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="300"/>`,
		uacInDialog("INVITE", "3", "", sdp("sendonly")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("recvonly")+`</recv>`, uacAck("3"), `<pause milliseconds="300"/>`,
		uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`, refs("drecvonly", "crecvonly"))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

func TestCallReinviteFromCallee(t *testing.T) {
	uas := writeScenario(t, "uas-reinv2", `<recv request="INVITE">`+captureFrom+`</recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<pause milliseconds="300"/>`, uasInDialog("INVITE", "1", sdp("sendonly")), `<recv response="100" optional="true"/>`,
		`<recv response="200">`+holdCheck("recvonly")+`</recv>`, uasAck("1"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("drecvonly", "crecvonly"))
	uac := writeScenario(t, "uac-reinv2", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="INVITE">`+holdCheck("sendonly")+`</recv>`, replyNoTag("200", "OK", true, "recvonly"),
		`<recv request="ACK"/>`, `<pause milliseconds="300"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`,
		refs("dsendonly", "csendonly"))
	c := callCase(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

func TestCallNoAnswer(t *testing.T) {
	uas := writeScenario(t, "uas-noanswer", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""),
		uas487(), `<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-noanswer", uacInvite(), `<recv response="180"/>`, `<recv response="480"/>`,
		uacAckFinal())
	c := callCase(t, SBOptions{RingTimeout: "2s"}, uas, uac)
	expectCDR(t, c, 480, "no-answer", "switchboard")
}

// TestCallSlowCalleeGetsTrying: Switchboard sends no 100 Trying of its own
// but leaves it to the INVITE's server transaction, which must send one
// 200 ms after the INVITE when nothing else went out (RFC 3261 §17.2.1).
// The callee rings only after a second; the caller must have its 100 well
// before that (and before the 180), or sipp fails the call.
func TestCallSlowCalleeGetsTrying(t *testing.T) {
	uas := writeScenario(t, "uas-slow", `<recv request="INVITE"/>`, `<pause milliseconds="1000"/>`,
		reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""),
		uas487(), `<recv request="ACK"/>`)
	const optional100 = `<recv response="100" optional="true"/>` + "\n"
	inv := uacInvite()
	if !strings.HasSuffix(inv, optional100) {
		t.Fatalf("uacInvite no longer ends with an optional 100:\n%s", inv)
	}
	uac := writeScenario(t, "uac-slow", strings.TrimSuffix(inv, optional100),
		`<recv response="100" timeout="700"/>`, `<recv response="180"/>`, `<recv response="480"/>`, uacAckFinal())
	c := callCase(t, SBOptions{RingTimeout: "2s"}, uas, uac)
	expectCDR(t, c, 480, "no-answer", "switchboard")
}

// TestCallEarlyMedia: the callee answers 183 with SDP and never 200; the
// caller plays PCMA during early media, the callee echoes it, then the
// caller cancels. Packets both ways before answer prove early media runs
// through Switchboard's ports; the caller's 183 carries Switchboard's SDP.
func TestCallEarlyMedia(t *testing.T) {
	cancel487 := uas487()
	uas := writeScenario(t, "uas-early", `<recv request="INVITE"/>`, reply("183", "Session Progress", true, "sendrecv"),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""), cancel487, `<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-early", uacInvite(),
		`<recv response="180" optional="true"/>`,
		`<recv response="183">`+holdCheck("sendrecv")+`</recv>`,
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`,
		uacCancel("Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-4"),
		`<recv response="200"/>`, `<recv response="487"/>`,
		uacAckFinal(), refs("dsendrecv", "csendrecv"))
	c := callCaseEcho(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 487, "cancelled", "caller")
	if c.AToBPackets < 50 || c.BToAPackets < 30 {
		t.Errorf("early media: %d packets caller→callee, %d back; want both flowing before answer", c.AToBPackets, c.BToAPackets)
	}
}

// TestCallLateOffer: the caller's INVITE has no SDP. Switchboard offers its
// codecs to the callee, puts the callee's answer as its offer in the 200,
// and takes the caller's answer from the ACK; audio then flows both ways.
func TestCallLateOffer(t *testing.T) {
	uas := writeScenario(t, "uas-late", `<recv request="INVITE"><action>
<ereg regexp="m=audio [0-9]+ RTP/AVP 0 8" search_in="body" check_it="true" assign_to="ouroffer"/>
<ereg regexp="c=IN IP4 127\.0\.0\.1" search_in="body" check_it="true" assign_to="ouraddr"/>
</action></recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("ouroffer", "ouraddr"))
	uac := writeScenario(t, "uac-late", uacInviteWith(""), `<recv response="180" optional="true"/>`,
		`<recv response="200">`+holdCheck("sendrecv")+`</recv>`,
		`<send>`+cdata(`ACK [next_url] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
[routes]
CSeq: 2 ACK
Content-Type: application/sdp
Content-Length: [len]

`+sdp("sendrecv"))+`</send>`,
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="3000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("dsendrecv", "csendrecv"))
	c := callCaseEcho(t, SBOptions{}, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.AToBPackets < 50 || c.BToAPackets < 30 {
		t.Errorf("late offer: %d packets caller→callee, %d back", c.AToBPackets, c.BToAPackets)
	}
}
