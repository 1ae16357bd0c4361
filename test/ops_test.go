package test

// Operations: what an operator does to a running Switchboard. SIGTERM
// drains (new INVITEs get 503, calls in progress go on for shutdown_grace,
// then get BYE, or 503 and CANCEL while still ringing) and the process exits
// 0; SIGHUP reloads users and routes, keeping the running configuration when
// the new file is invalid. Each test checks the records left behind.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// opsStart sends a request from user (To toUser, Request-URI ruri) on
// ua, answering a digest challenge when pass is set (sigUA.start), and
// returns it for next and final. An INVITE carries a PCMU offer; the
// Contact lets Switchboard reach the caller within the dialog.
func opsStart(ua *sigUA, method, ruri, user, toUser, pass string) *sigReq {
	ua.t.Helper()
	r := newSigReq(method, ruri, user, toUser)
	r.Headers = []string{fmt.Sprintf("Contact: <sip:%s@%s>", user, ua.Local)}
	if method == "INVITE" {
		r.Body = sigSDP("0", "a=rtpmap:0 PCMU/8000", "a=sendrecv")
	}
	ua.start(r, user, pass)
	return r
}

// waitOutput waits (bounded) until the process printed s.
func (sb *SB) waitOutput(s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if strings.Contains(sb.Output(), s) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return strings.Contains(sb.Output(), s)
}

// waitExit waits (bounded) for the process to exit and returns its exit
// code; it fails the test if the process is still running after within.
func (sb *SB) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-sb.exited:
		return sb.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("switchboard still running %v after SIGTERM", within)
		return -1
	}
}

// checkDrainCompleted fails the test when the drain gave up waiting: every
// call had been ended, so none may still hold the drain open (a call whose
// goroutine lingers on transaction timers after its final response).
func checkDrainCompleted(t *testing.T, sb *SB) {
	t.Helper()
	if strings.Contains(sb.Output(), "calls still open after shutdown") {
		t.Errorf("the drain timed out waiting for calls that had all ended (\"calls still open after shutdown\")")
	}
}

// TestSigtermDrainsCalls: with shutdown_grace 3s, a call established before
// SIGTERM stays up through the grace period while new INVITEs get 503; then
// both legs get BYE, the process exits 0 and the call has exactly one CDR
// saying Switchboard hung up.
func TestSigtermDrainsCalls(t *testing.T) {
	requireTool(t, "sipp")
	const grace = 3 * time.Second
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{Grace: grace.String()})

	uas := writeScenario(t, "uas-drain", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-drain", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))

	type result struct {
		r  Sipp
		at time.Time
	}
	uasDone, uacDone := make(chan result, 1), make(chan result, 1)
	go func() {
		r := runSipp(t, dir, 60*time.Second, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-m", "1", "-timeout", "30s", "-timeout_error")
		uasDone <- result{r, time.Now()}
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	go func() {
		r := runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
			"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
			"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "30s", "-timeout_error")
		uacDone <- result{r, time.Now()}
	}()
	if !sb.waitOutput("msg=answered", 10*time.Second) {
		t.Fatal("the call was not answered within 10s")
	}

	sigAt := time.Now()
	sb.Signal(syscall.SIGTERM)
	if !sb.waitOutput("msg=draining", 2*time.Second) {
		t.Fatal("no drain logged within 2s of SIGTERM")
	}
	// A new call during the grace period is refused, before any challenge.
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	tx := opsStart(ua, "INVITE", "sip:95550000@127.0.0.1", "1000", "95550000", "")
	if res, _ := ua.final(tx, 2*time.Second); res.StatusCode != 503 {
		t.Errorf("INVITE while draining: got %d %s, want 503", res.StatusCode, res.Reason)
	}
	if time.Since(sigAt) >= grace {
		t.Fatalf("the test itself took longer than the grace period (%v); cannot tell", time.Since(sigAt))
	}

	for _, leg := range []struct {
		name string
		ch   chan result
	}{{"caller", uacDone}, {"callee", uasDone}} {
		select {
		case r := <-leg.ch:
			if r.r.Stats.Successful != 1 || r.r.Err != nil {
				t.Errorf("%s sipp failed: %v\n%s", leg.name, r.r.Err, tail(r.r.Out, 2500))
			}
			// Allow for timer granularity, not for an early BYE.
			if d := r.at.Sub(sigAt); d < grace-300*time.Millisecond {
				t.Errorf("%s got BYE %v after SIGTERM, before the %v grace ran out", leg.name, d.Round(time.Millisecond), grace)
			}
		case <-time.After(grace + 20*time.Second):
			t.Fatalf("%s sipp still running %v after SIGTERM: no BYE", leg.name, grace+20*time.Second)
		}
	}

	c := drainedCDR(t, sb, "the drained call")
	expectCDR(t, c, 200, "answered", "switchboard")
	if c.Dialled != "95551234" || c.HangupReason != "shutdown" {
		t.Errorf("CDR dialled=%q reason=%q, want 95551234/shutdown", c.Dialled, c.HangupReason)
	}
	if c.Billable < grace.Seconds()-0.3 {
		t.Errorf("billable %.2fs: the call did not last through the %v grace", c.Billable, grace)
	}
}

// TestSigtermWhileRinging: a call still ringing when the grace period (1s)
// runs out gets 503 on the caller's side and CANCEL on the callee's, the
// process exits 0, and the interrupted call has its CDR.
func TestSigtermWhileRinging(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{Grace: "1s"})

	// The callee rings until cancelled.
	uas := writeScenario(t, "uas-ring-drain", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""),
		uas487(), `<recv request="ACK"/>`)
	uasDone := make(chan Sipp, 1)
	go func() {
		uasDone <- runSipp(t, dir, 60*time.Second, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	ua := newSigUA(t, "127.0.0.3:0", sb.Addr())
	tx := opsStart(ua, "INVITE", "sip:95551234@127.0.0.1", "1000", "95551234", sb.Users["1000"])
	for {
		res, _ := ua.next(tx, 10*time.Second)
		if res == nil {
			t.Fatal("no 180 within 10s")
		}
		if res.StatusCode >= 200 {
			t.Fatalf("final %d before ringing", res.StatusCode)
		}
		if res.StatusCode == 180 {
			break
		}
	}
	sigAt := time.Now()
	sb.Signal(syscall.SIGTERM)
	res, _ := ua.final(tx, 15*time.Second)
	if res.StatusCode != 503 {
		t.Errorf("ringing call at shutdown: caller got %d %s, want 503", res.StatusCode, res.Reason)
	}
	if d := time.Since(sigAt); d < 700*time.Millisecond {
		t.Errorf("ringing call ended %v after SIGTERM, before the 1s grace", d.Round(time.Millisecond))
	}
	select {
	case ur := <-uasDone:
		if ur.Stats.Successful != 1 || ur.Err != nil {
			t.Errorf("callee sipp (expects CANCEL) failed: %v\n%s", ur.Err, tail(ur.Out, 2500))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("callee sipp still running 30s after SIGTERM")
	}
	c := drainedCDR(t, sb, "the interrupted call")
	expectCDR(t, c, 503, "failed", "switchboard")
	if c.ACallID != tx.CallID || c.HangupReason != "shutdown" || c.Trunk != "carrier" {
		t.Errorf("CDR a_call_id=%q reason=%q trunk=%q, want %q/shutdown/carrier", c.ACallID, c.HangupReason, c.Trunk, tx.CallID)
	}
}

// TestSighupReload: SIGHUP swaps in a rewritten configuration (a new user
// and a new route take effect without a restart); an invalid file is
// refused with a message naming it and the offending key, and the
// configuration in force stays in force.
func TestSighupReload(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Routes: `  - {match: '^1\d{3}$', to: user}`})
	cfgPath := filepath.Join(sb.Dir, "switchboard.yaml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const pw1002 = "reload-pw-1002"

	// The checks, run before and after reloads. Each is one transaction
	// (after a challenge) from a fresh socket.
	call8 := func() int {
		ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
		tx := opsStart(ua, "INVITE", "sip:8123@127.0.0.1", "1000", "8123", sb.Users["1000"])
		res, _ := ua.final(tx, 5*time.Second)
		return res.StatusCode
	}
	register1002 := func() int {
		ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
		tx := opsStart(ua, "REGISTER", "sip:127.0.0.1", "1002", "1002", pw1002)
		res, _ := ua.final(tx, 5*time.Second)
		return res.StatusCode
	}
	reloads := func() int { return strings.Count(sb.Output(), "configuration reloaded") }
	refusals := func() int { return strings.Count(sb.Output(), "reload refused") }

	if got := call8(); got != 404 {
		t.Fatalf("before reload: 8123 got %d, want 404 (no route)", got)
	}
	if got := register1002(); got != 401 {
		t.Fatalf("before reload: REGISTER 1002 got %d, want 401 (no such user)", got)
	}

	// A new user (literal password: the process env has no variable for
	// it) and a new route in front of the old one.
	text := string(orig)
	if !strings.Contains(text, "users:\n") || !strings.Contains(text, "routes:\n") {
		t.Fatalf("harness config shape changed:\n%s", text)
	}
	text = strings.Replace(text, "users:\n", "users:\n  - {name: \"1002\", password: \""+pw1002+"\"}\n", 1)
	text = strings.Replace(text, "routes:\n", "routes:\n  - {match: '^8(\\d+)$', to: reject, status: 410}\n", 1)
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sb.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for reloads() < 1 && refusals() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if reloads() != 1 {
		t.Fatalf("valid config not reloaded within 5s (refusals: %d)", refusals())
	}
	if got := call8(); got != 410 {
		t.Errorf("after reload: 8123 got %d, want 410 from the new route", got)
	}
	if got := register1002(); got != 200 {
		t.Errorf("after reload: REGISTER 1002 with its password got %d, want 200", got)
	}

	// An unknown key: refused, named, and nothing changes.
	bad := strings.Replace(text, "calls:\n", "calls:\n  ring_timout: 5s\n", 1)
	if bad == text {
		t.Fatalf("harness config has no calls section:\n%s", text)
	}
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	sb.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(5 * time.Second)
	for refusals() < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if refusals() != 1 {
		t.Fatalf("invalid config not refused within 5s (reloads: %d)", reloads())
	}
	var refusal string
	for _, line := range strings.Split(sb.Output(), "\n") {
		if strings.Contains(line, "reload refused") {
			refusal = line
		}
	}
	if !strings.Contains(refusal, "ring_timout") || !strings.Contains(refusal, cfgPath) {
		t.Errorf("refusal does not name the key and the file %s:\n%s", cfgPath, refusal)
	}
	if reloads() != 1 {
		t.Errorf("invalid config counted as reloaded")
	}
	if !sb.Alive() {
		t.Fatal("switchboard exited after an invalid reload")
	}
	if got := call8(); got != 410 {
		t.Errorf("after refused reload: 8123 got %d, want 410 (the config in force)", got)
	}
	if got := register1002(); got != 200 {
		t.Errorf("after refused reload: REGISTER 1002 got %d, want 200 (the config in force)", got)
	}
	// User 1000 still authenticates and the old route still applies: 1001
	// matches ^1\d{3}$ but is no user, so 404 (a challenge would mean the
	// user table was lost).
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	tx := opsStart(ua, "INVITE", "sip:1001@127.0.0.1", "1000", "1001", sb.Users["1000"])
	if res, _ := ua.final(tx, 5*time.Second); res.StatusCode != 404 {
		t.Errorf("after refused reload: 1000 calling 1001 got %d, want 404 (unknown user)", res.StatusCode)
	}

	// Four calls, four records; the ones after the reload name the new route.
	recs := sb.WaitCDRs(4, 5*time.Second)
	if len(recs) != 4 {
		t.Fatalf("%d CDRs for 4 calls: %+v", len(recs), recs)
	}
	for _, c := range recs {
		if c.Dialled == "8123" && c.Status == 410 && c.Route != `^8(\d+)$` {
			t.Errorf("410 call's CDR names route %q, want the reloaded ^8(\\d+)$", c.Route)
		}
	}
}

// TestMaxCallsCountsOnlyLiveCalls: calls.max_calls, set by a SIGHUP reload,
// bounds calls in progress. A call the callee refused is over: it must not
// hold a slot while the transaction layer keeps its finished INVITE
// transaction around (Timer D, 32 s over UDP), so back-to-back refused
// calls with max_calls 1 each reach the callee.
func TestMaxCallsCountsOnlyLiveCalls(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{})
	cfgPath := filepath.Join(sb.Dir, "switchboard.yaml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	limited := strings.Replace(string(orig), "calls:\n", "calls:\n  max_calls: 1\n", 1)
	if limited == string(orig) {
		t.Fatalf("harness config has no calls section:\n%s", orig)
	}
	if err := os.WriteFile(cfgPath, []byte(limited), 0o600); err != nil {
		t.Fatal(err)
	}
	// One round trip first, so this test is about max_calls, not about a
	// SIGHUP racing start-up (TestSighupRightAfterReady).
	probe := newSigUA(t, "127.0.0.1:0", sb.Addr())
	_, _ = probe.final(opsStart(probe, "OPTIONS", "sip:127.0.0.1", "1000", "1000", ""), 5*time.Second)
	sb.Signal(syscall.SIGHUP)
	if !sb.waitOutput("configuration reloaded", 5*time.Second) {
		t.Fatalf("max_calls config not reloaded within 5s (process alive: %v)", sb.Alive())
	}

	const calls = 3
	uas := writeScenario(t, "uas-busy-limit", `<recv request="INVITE"/>`, reply("486", "Busy Here", false, ""), `<recv request="ACK"/>`)
	uasDone := make(chan Sipp, 1)
	go func() {
		uasDone <- runSipp(t, dir, 60*time.Second, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-m", strconv.Itoa(calls), "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	ua := newSigUA(t, "127.0.0.3:0", sb.Addr())
	for i := range calls {
		// The previous call's goroutine may still be finishing in the
		// instant after its final response went out: a 503 is retried for
		// up to 0.5 s, far below the 32 s a finished transaction lingers.
		var res *sip.Response
		for try := 0; ; try++ {
			tx := opsStart(ua, "INVITE", "sip:95551234@127.0.0.1", "1000", "95551234", sb.Users["1000"])
			res, _ = ua.final(tx, 10*time.Second)
			if res.StatusCode != 503 || try == 5 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if res.StatusCode != 486 {
			t.Fatalf("call %d of %d (one at a time, max_calls 1): got %d %s, want the callee's 486", i+1, calls, res.StatusCode, res.Reason)
		}
	}
	select {
	case ur := <-uasDone:
		if ur.Stats.Successful != calls || ur.Err != nil {
			t.Errorf("callee sipp: %d successful, err %v\n%s", ur.Stats.Successful, ur.Err, tail(ur.Out, 2500))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("callee sipp still running")
	}
	recs := sb.WaitCDRs(calls, 5*time.Second)
	if len(recs) != calls {
		t.Fatalf("%d CDRs for %d calls", len(recs), calls)
	}
	for _, c := range recs {
		expectCDR(t, c, 486, "busy", "callee")
	}
}

// TestSighupRightAfterReady: once the process has said "ready", a SIGHUP
// reloads; it must not kill the process (Go's default action for SIGHUP
// until signal.Notify is in place). The race window is small, so the test
// tries a few fresh processes.
func TestSighupRightAfterReady(t *testing.T) {
	for i := range 3 {
		sb := startSB(t, SBOptions{Users: []string{"1000"}})
		sb.Signal(syscall.SIGHUP)
		if !sb.waitOutput("configuration reloaded", 5*time.Second) {
			if !sb.Alive() {
				t.Fatalf("start %d: switchboard died of a SIGHUP sent after it printed ready (%v)", i+1, sb.cmd.ProcessState)
			}
			t.Fatalf("start %d: SIGHUP right after ready not handled within 5s", i+1)
		}
		sb.Stop()
		if code := sb.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("start %d: exit code %d after SIGTERM, want 0", i+1, code)
		}
	}
}

// drainedCDR waits for a drained process to exit 0 having finished its
// drain, and returns the one call record it must have written (what names
// the call in failure messages).
func drainedCDR(t *testing.T, sb *SB, what string) CDR {
	t.Helper()
	if code := sb.waitExit(t, 20*time.Second); code != 0 {
		t.Errorf("exit code %d after drain, want 0", code)
	}
	checkDrainCompleted(t, sb)
	recs := sb.CDRs()
	if len(recs) != 1 {
		t.Fatalf("%d CDRs, want exactly 1 (%s): %+v", len(recs), what, recs)
	}
	return recs[0]
}
