package test

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashKeepsRecords: two answered calls up, Switchboard SIGKILLed:
// the next start writes one record per call, marked interrupted, ending
// at the last time the journal knew them alive; a further restart adds
// none.
func TestCrashKeepsRecords(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{})
	startSipp(t, dir, "-sn", "uas", "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort), "-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2))
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	uac := writeScenario(t, "uac-long", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="30000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200" timeout="2000"/>`)
	startSipp(t, dir, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
		"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
		"-au", "1000", "-ap", sb.Users["1000"], "-m", "2", "-r", "10")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(sb.Output(), "msg=answered") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(sb.Output(), "msg=answered"); n != 2 {
		t.Fatalf("%d calls answered, want 2", n)
	}
	killedAt := time.Now().Add(2500 * time.Millisecond)
	time.Sleep(2500 * time.Millisecond) // the journal's flush and an alive mark
	sb.Signal(syscall.SIGKILL)
	<-sb.exited
	if n := len(sb.CDRs()); n != 0 {
		t.Fatalf("%d records before the restart; the calls were up", n)
	}

	restartSB(t, sb)
	recs := sb.WaitCDRs(2, 5*time.Second)
	if len(recs) != 2 {
		t.Fatalf("%d records after the restart, want 2 (one per interrupted call)", len(recs))
	}
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.CallID] = true
		if r.HangupReason != "interrupted" || r.HangupSide != "switchboard" || r.Disposition != "answered" || r.Dialled != "95551234" {
			t.Errorf("record %+v: want an answered call to 95551234 interrupted by switchboard", r)
		}
		if r.End.Before(r.Answer) || r.End.After(killedAt.Add(time.Second)) || killedAt.Sub(r.End) > 3*time.Second {
			t.Errorf("interrupted call ends %v, killed about %v", r.End, killedAt)
		}
	}
	if len(ids) != 2 {
		t.Errorf("records for %d distinct calls, want 2", len(ids))
	}
	if !strings.Contains(sb.Output(), "call interrupted by a crash") {
		t.Error("no log line for the interrupted calls")
	}
	restartSB(t, sb)
	time.Sleep(500 * time.Millisecond)
	if n := len(sb.CDRs()); n != 2 {
		t.Errorf("%d records after a second restart, want still 2", n)
	}
}
