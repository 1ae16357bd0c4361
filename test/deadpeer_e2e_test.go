package test

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestDeadPeerEndsCall: the caller streams G.711 while the callee answers
// and then sends nothing (a phone that died after answering). With
// media.inactivity_timeout 2s, Switchboard ends the call on both legs
// within a few seconds although the caller still sends, and the record
// names the callee's leg as the silent one, with Q.850 cause 102.
func TestDeadPeerEndsCall(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{Inactivity: "2s"})
	uas := writeScenario(t, "uas-dead", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE" timeout="15000"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-streaming", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<recv request="BYE" timeout="15000"/>`, replyNoTag("200", "OK", false, ""))
	uDone := make(chan Sipp, 1)
	go func() {
		uDone <- runSipp(t, dir, 30*time.Second, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-m", "1", "-timeout", "20s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	start := time.Now()
	r := runSipp(t, dir, 30*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "20s", "-timeout_error")
	took := time.Since(start)
	sippOK(t, "streaming caller (must get BYE)", r)
	sippOK(t, "silent callee (must get BYE)", <-uDone)
	if took > 6*time.Second {
		t.Errorf("the caller got BYE %v after dialling: the dead callee was not noticed while the caller streamed (timeout 2 s)", took.Round(100*time.Millisecond))
	}
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "switchboard")
	if c.HangupReason != "rtp-timeout" || c.SilentLeg != "b" || c.Q850Cause != 102 {
		t.Errorf("CDR reason %q silent_leg %q q850 %d, want rtp-timeout / b / 102", c.HangupReason, c.SilentLeg, c.Q850Cause)
	}
	if c.AToBPackets == 0 {
		t.Error("no RTP from the caller counted: the test's caller did not stream")
	}
}
