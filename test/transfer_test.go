package test

import (
	"fmt"
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
