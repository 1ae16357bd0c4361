package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkHeardLast asserts that the last secs seconds of what an agent heard
// are want's tone (not other's): the part of a call after a transfer.
func checkHeardLast(t *testing.T, who string, b *Baresip, secs float64, want, other float64) {
	t.Helper()
	x, rate := b.Heard()
	active := activePart(x, 500)
	n := int(secs * float64(rate))
	if len(active) < n {
		t.Fatalf("%s heard %d samples of sound, want at least %d", who, len(active), n)
	}
	last := active[len(active)-n:]
	if f, share := dominant(last, rate, want, other); f != want || share < 0.9 {
		t.Fatalf("%s heard %.0f Hz (share %.2f) at the end, want %.0f Hz", who, f, share, want)
	}
	if level := rms(last); level < 1000 {
		t.Fatalf("%s heard too little energy at the end: rms %.0f", who, level)
	}
}

// transferChain checks the two records of a transferred call: the first
// ends "transferred" on the transferor's side, the second continues it
// (answered, ended by endSide) and both name each other.
func transferChain(t *testing.T, recs []CDR, transferorSide, endSide string) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("want 2 CDRs, got %d: %+v", len(recs), recs)
	}
	first, second := recs[0], recs[1]
	if first.TransferredFrom != "" {
		first, second = second, first
	}
	if first.HangupReason != "transferred" || first.HangupSide != transferorSide || first.Disposition != "answered" {
		t.Errorf("first CDR: reason=%q side=%q disposition=%q", first.HangupReason, first.HangupSide, first.Disposition)
	}
	if first.TransferID == "" || first.TransferID != second.TransferID {
		t.Errorf("transfer_id %q / %q", first.TransferID, second.TransferID)
	}
	if first.TransferredTo != second.CallID || second.TransferredFrom != first.CallID {
		t.Errorf("chain: first %s → %q, second %s ← %q", first.CallID, first.TransferredTo, second.CallID, second.TransferredFrom)
	}
	if second.Disposition != "answered" || second.HangupSide != endSide || second.Status != 200 {
		t.Errorf("second CDR: status=%d disposition=%q side=%q reason=%q", second.Status, second.Disposition, second.HangupSide, second.HangupReason)
	}
}

// TestTransferBlindBaresip (issue 9, item 5): alice calls bob; bob
// transfers her to carol with baresip's /transfer (REFER, RFC 3515).
// Switchboard calls carol on alice's behalf, NOTIFYs bob (who then hangs
// up), releases bob's leg and bridges alice to carol: each hears the
// other's tone after the transfer. Two records, linked.
func TestTransferBlindBaresip(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001", "1002"}})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
	carol := startBaresip(t, BaresipOptions{User: "1002", Password: sb.Users["1002"], SB: sb, ToneHz: 1800, Register: true})
	alice.Command(fmt.Sprintf("dial sip:1001@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !bob.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(2 * time.Second)
	bob.Command(fmt.Sprintf("transfer sip:1002@127.0.0.1:%d", sb.SIPPort))
	if !carol.WaitEvent("CALL_ESTABLISHED", 10*time.Second) {
		t.Fatalf("transfer target not reached\n%s", tail(sb.Output(), 4000))
	}
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatalf("transferor's call not released\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(3 * time.Second)
	alice.Command("hangup")
	if !carol.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatalf("carol did not see the hangup\n%s", tail(sb.Output(), 3000))
	}
	checkHeardLast(t, "alice", alice, 2, carol.Tone, bob.Tone)
	checkHeard(t, "carol", carol, alice.Tone, bob.Tone)
	recs := sb.WaitCDRs(2, 5*time.Second)
	transferChain(t, recs, "callee", "caller")
	t.Logf("records: %+v", recs)
}

// transferSB is Switchboard with two trunks played by sipp: carrier (the
// callee, 9…) and target (the transfer target, 7…), and user 1000.
func transferSB(t *testing.T, calleePort, targetPort int) *SB {
	return startSB(t, SBOptions{
		Users: []string{"1000"},
		Trunks: fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}
  - {name: target, uri: "sip:127.0.0.4:%d", trusted: [127.0.0.4/32]}`, calleePort, targetPort),
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}
  - {match: '^7(\d+)$', to: trunk:target, rewrite: '$1'}`,
	})
}

// transferCase runs a call from user 1000 (uac) to the carrier (callee)
// during which a transfer reaches the target trunk (target); every sipp
// must succeed. It returns Switchboard for the records.
func transferCase(t *testing.T, callee, target, uac string) *SB {
	t.Helper()
	requireTool(t, "sipp")
	dir := t.TempDir()
	port := 15000 + 10*instance()
	sb := transferSB(t, port, port+8)
	uas := func(sf, ip string, p int, done chan<- Sipp) {
		done <- runSipp(t, dir, 60*time.Second, "-sf", sf, "-i", ip, "-p", strconv.Itoa(p),
			"-mi", ip, "-mp", strconv.Itoa(p+2), "-m", "1", "-timeout", "40s", "-timeout_error")
	}
	calleeDone, targetDone := make(chan Sipp, 1), make(chan Sipp, 1)
	go uas(callee, "127.0.0.2", port, calleeDone)
	go uas(target, "127.0.0.4", port+8, targetDone)
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", port))
	waitPort(t, "udp", fmt.Sprintf("127.0.0.4:%d", port+8))
	r := runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(port+4),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(port+6), "-s", "95551234", "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "40s", "-timeout_error")
	for who, s := range map[string]Sipp{"transferor": r, "callee": <-calleeDone, "target": <-targetDone} {
		if s.Stats.Successful != 1 || s.Err != nil {
			t.Errorf("%s sipp failed: %v\n%s", who, s.Err, tail(s.Out, 2500))
		}
	}
	if t.Failed() {
		errs, _ := filepath.Glob(filepath.Join(dir, "sipp-err-*.log"))
		for _, f := range errs {
			b, _ := os.ReadFile(f)
			t.Logf("%s:\n%s", filepath.Base(f), tail(string(b), 2000))
		}
	}
	return sb
}

// notifyCheck checks a NOTIFY of a REFER's subscription (RFC 3515
// §2.4.4): Event refer, a message/sipfrag body with the status line, and
// the subscription state.
func notifyCheck(status, state string) string {
	v := "n" + status
	return `<action>
<ereg regexp="^SIP/2.0 ` + status + ` " search_in="body" check_it="true" assign_to="` + v + `b"/>
<ereg regexp="message/sipfrag" search_in="hdr" header="Content-Type:" check_it="true" assign_to="` + v + `c"/>
<ereg regexp="^ *refer" search_in="hdr" header="Event:" check_it="true" assign_to="` + v + `e"/>
<ereg regexp="^ *` + state + `" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="` + v + `s"/>
</action>`
}

// referTo is the caller's REFER (CSeq 3) to number.
func referTo(number string) string {
	return uacInDialog("REFER", "3", "Refer-To: <sip:"+number+"@[remote_ip]:[remote_port]>\nReferred-By: <sip:1000@[remote_ip]>\n", "")
}

// TestTransferReferNotify (issue 9, item 5): the caller REFERs the call to
// another number (blind transfer). Switchboard answers 202, NOTIFYs
// "100 Trying", "180 Ringing" and "200 OK" as message/sipfrag, calls the
// target with Referred-By from the transferor's identity, BYEs the
// transferor and bridges the callee to the target; the records link.
func TestTransferReferNotify(t *testing.T) {
	callee := writeScenario(t, "uas-callee", `<recv request="INVITE"/>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	target := writeScenario(t, "uas-target", `<recv request="INVITE">`+strings.Replace(captureFrom, "</action>",
		`<ereg regexp="sip:1000@" search_in="hdr" header="Referred-By:" check_it="true" assign_to="rb"/>
</action>`, 1)+`</recv>`,
		reply("180", "Ringing", false, ""), `<pause milliseconds="500"/>`, reply("200", "OK", true, "sendrecv"),
		`<recv request="ACK"/>`, `<pause milliseconds="1000"/>`,
		uasInDialog("BYE", "1", ""), `<recv response="200"/>`, refs("rb"))
	uac := writeScenario(t, "uac-refer", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="300"/>`, referTo("7001"), `<recv response="202"/>`,
		`<recv request="NOTIFY">`+notifyCheck("100", "active")+`</recv>`, replyNoTag("200", "OK", false, ""),
		`<recv request="NOTIFY">`+notifyCheck("180", "active")+`</recv>`, replyNoTag("200", "OK", false, ""),
		`<recv request="NOTIFY">`+notifyCheck("200", "terminated")+`</recv>`, replyNoTag("200", "OK", false, ""),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("n100b", "n100c", "n100e", "n100s", "n180b", "n180c", "n180e", "n180s", "n200b", "n200c", "n200e", "n200s"))
	sb := transferCase(t, callee, target, uac)
	transferChain(t, sb.WaitCDRs(2, 5*time.Second), "caller", "caller")
}

// TestTransferTargetBusy: the transfer target answers 486. The transferor
// gets a NOTIFY with the 486 sipfrag that ends the subscription, the call
// stays up (the caller's later BYE is answered and reaches the callee), and
// it ends in one record with no transfer.
func TestTransferTargetBusy(t *testing.T) {
	callee := writeScenario(t, "uas-callee", `<recv request="INVITE"/>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	target := writeScenario(t, "uas-busy", `<recv request="INVITE"/>`, reply("486", "Busy Here", false, ""), `<recv request="ACK"/>`)
	uac := writeScenario(t, "uac-refer-busy", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="300"/>`, referTo("7001"), `<recv response="202"/>`,
		`<recv request="NOTIFY">`+notifyCheck("100", "active")+`</recv>`, replyNoTag("200", "OK", false, ""),
		`<recv request="NOTIFY">`+notifyCheck("486", "terminated")+`</recv>`, replyNoTag("200", "OK", false, ""),
		`<pause milliseconds="500"/>`, uacInDialog("BYE", "4", "", ""), `<recv response="200"/>`,
		refs("n100b", "n100c", "n100e", "n100s", "n486b", "n486c", "n486e", "n486s"))
	sb := transferCase(t, callee, target, uac)
	recs := sb.WaitCDRs(1, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if recs = sb.CDRs(); len(recs) != 1 {
		t.Fatalf("want 1 CDR, got %+v", recs)
	}
	expectCDR(t, recs[0], 200, "answered", "caller")
	if recs[0].TransferID != "" || recs[0].HangupReason != "bye" {
		t.Errorf("CDR transfer_id=%q reason=%q", recs[0].TransferID, recs[0].HangupReason)
	}
}
