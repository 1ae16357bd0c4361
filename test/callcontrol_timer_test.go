package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Session timers (RFC 4028) through Switchboard (issue 9, item 4): the
// caller's interval and refresher honoured in the 2xx, 422 below
// calls.min_se, Switchboard's own refresh by re-INVITE when it is the
// refresher, and a call whose refresher stops refreshing ended by
// Switchboard with BYE on both legs and one CDR.

// lowerMinSE sets calls.min_se in the running Switchboard's configuration
// and reloads it (SIGHUP): RFC 4028 forbids less than 90 s on the wire,
// which tests cannot wait for.
func lowerMinSE(t *testing.T, sb *SB, minSE string) {
	t.Helper()
	path := filepath.Join(sb.Dir, "switchboard.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "\ncalls:\n", "\ncalls:\n  min_se: "+minSE+"\n", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sb.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(sb.Output(), "configuration reloaded"); {
		if time.Now().After(deadline) {
			t.Fatalf("no reload:\n%s", tail(sb.Output(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shortTimerSB is trunkSB with calls.min_se at 5 s.
func shortTimerSB(t *testing.T) (*SB, int) {
	t.Helper()
	sb, port := trunkSB(t, "")
	lowerMinSE(t, sb, "5s")
	return sb, port
}

// shortTimerCaller is a caller asking a 6 s session with refresher
// (uac: itself, uas: Switchboard), checking the 2xx grants it, then
// running steps after its ACK.
func shortTimerCaller(t *testing.T, name, refresher string, steps ...string) string {
	return writeScenario(t, name, append([]string{uacWith("Supported: timer\nSession-Expires: 6;refresher=" + refresher),
		`<recv response="180" optional="true"/>`,
		`<recv response="200"><action>` + check("Session-Expires:", "^ *6;refresher="+refresher, "se", false) + `</action></recv>`,
		uacAck("2"), refs("se")}, steps...)...)
}

// plainCallee answers and waits for the BYE; its INVITE must carry
// Switchboard's timer offer (Supported: timer, Session-Expires, Min-SE).
func plainCallee(minSE string) []string {
	return []string{`<recv request="INVITE"><action>` + check("Session-Expires:", "^ *1800$", "se", false) +
		check("Min-SE:", "^ *"+minSE+"$", "minse", false) + check("Supported:", "timer", "sup", false) +
		strings.TrimPrefix(captureFrom, "<action>") + `</recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""), refs("se", "minse", "sup", "remote_from", "remote_contact")}
}

// TestCallSessionTimerCallerRefresher: a caller's Session-Expires:
// 90;refresher=uac (with Require: timer) is honoured in the 2xx, with
// Require: timer.
func TestCallSessionTimerCallerRefresher(t *testing.T) {
	uas := writeScenario(t, "uas-timer", plainCallee("90")...)
	uac := writeScenario(t, "uac-timer", uacWith("Supported: timer\nRequire: timer\nSession-Expires: 90;refresher=uac"),
		`<recv response="180" optional="true"/>`,
		`<recv response="200"><action>`+check("Session-Expires:", "^ *90;refresher=uac", "se", false)+
			check("Require:", "timer", "req", false)+`</action></recv>`,
		uacAck("2"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`,
		refs("se", "req"))
	c, _ := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallSessionTimerTooSmall: an interval below calls.min_se gets 422
// with Min-SE (RFC 4028 §8.1).
func TestCallSessionTimerTooSmall(t *testing.T) {
	sb, port := trunkSB(t, "")
	uac := writeScenario(t, "uac-timer-422", uacWith("Supported: timer\nSession-Expires: 30"),
		`<recv response="422"><action>`+check("Min-SE:", "^ *90$", "minse", false)+`</action></recv>`,
		uacAckFinal(), refs("minse"))
	sippOK(t, "caller", trunkCaller(t, sb, t.TempDir(), port, uac))
	c := oneCDR(t, sb)
	if c.Status != 422 {
		t.Errorf("CDR status %d, want 422", c.Status)
	}
}

// TestCallSessionTimerExpiry: the caller is the refresher of a 6 s
// session and never refreshes: about 4 s in (6 s less a third, RFC 4028
// §10) Switchboard ends the call with BYE on both legs, Reason Q.850 102.
func TestCallSessionTimerExpiry(t *testing.T) {
	sb, port := shortTimerSB(t)
	uas := writeScenario(t, "uas-timer-expiry", plainCallee("5")...)
	uac := shortTimerCaller(t, "uac-timer-expiry", "uac",
		`<recv request="BYE" timeout="15000">`+reasonCheck(`Q\.850;cause=102;`)+`</recv>`,
		replyNoTag("200", "OK", false, ""), refs("rsn"))
	start := time.Now()
	c, f := trunkCall(t, sb, port, uas, uac)
	expectCDR(t, c, 200, "answered", "switchboard")
	if c.HangupReason != "session timer expired" {
		t.Errorf("hangup_reason %q, want session timer expired", c.HangupReason)
	}
	if c.Billable < 3 || c.Billable > 6 {
		t.Errorf("call lasted %.1f s, want the session interval less a third (about 4 s)", c.Billable)
	}
	expectCause(t, f, 102, "switchboard")
	t.Logf("ended after %v", time.Since(start).Round(100*time.Millisecond))
}

// TestCallSessionTimerSwitchboardRefreshes: the caller supports timers
// and leaves the refresh to Switchboard (refresher=uas) without allowing
// UPDATE: Switchboard re-INVITEs it at half the interval, with
// refresher=uac on the refresh, and the call goes on.
func TestCallSessionTimerSwitchboardRefreshes(t *testing.T) {
	sb, port := shortTimerSB(t)
	uas := writeScenario(t, "uas-timer-refresh", plainCallee("5")...)
	uac := shortTimerCaller(t, "uac-timer-refresh", "uas",
		`<recv request="INVITE" timeout="6000"><action>`+check("Session-Expires:", "6;refresher=uac", "sere", false)+`</action></recv>`,
		replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="INVITE" timeout="6000"/>`, replyNoTag("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`, refs("sere"))
	c, _ := trunkCall(t, sb, port, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Billable < 5 {
		t.Errorf("call lasted %.1f s: it should have outlived two refreshes (6 s)", c.Billable)
	}
}

// TestCallSessionTimerCallee422: a callee that finds Switchboard's 1800 s
// too small answers 422 with Min-SE: 3600; Switchboard sends the INVITE
// once more (next CSeq) with Session-Expires: 3600 (RFC 4028 §7.3), and
// the caller never sees the 422.
func TestCallSessionTimerCallee422(t *testing.T) {
	uas := writeScenario(t, "uas-timer-422", `<recv request="INVITE"/>`,
		withHeader(reply("422", "Session Interval Too Small", false, ""), "Min-SE: 3600"), `<recv request="ACK"/>`,
		`<recv request="INVITE"><action>`+check("Session-Expires:", "^ *3600$", "se", false)+
			check("CSeq:", "^ *2 INVITE", "cs", false)+strings.TrimPrefix(captureFrom, "<action>")+`</recv>`,
		withHeader(reply("200", "OK", true, "sendrecv"), "Session-Expires: 3600;refresher=uac\nRequire: timer"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("se", "cs", "remote_from", "remote_contact"))
	uac := writeScenario(t, "uac-timer-callee-422", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c, _ := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallSessionTimerCalleeStopsRefreshing: the callee takes the
// refresh of a 6 s session (refresher=uas in its 2xx) and never
// refreshes: Switchboard ends the call with BYE on both legs.
func TestCallSessionTimerCalleeStopsRefreshing(t *testing.T) {
	sb, port := shortTimerSB(t)
	uas := writeScenario(t, "uas-timer-callee-expiry", `<recv request="INVITE"/>`,
		withHeader(reply("200", "OK", true, "sendrecv"), "Session-Expires: 6;refresher=uas\nRequire: timer"),
		`<recv request="ACK"/>`, `<recv request="BYE" timeout="15000">`+reasonCheck(`Q\.850;cause=102;`)+`</recv>`,
		replyNoTag("200", "OK", false, ""), refs("rsn"))
	uac := writeScenario(t, "uac-timer-callee-expiry", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE" timeout="15000"/>`, replyNoTag("200", "OK", false, ""))
	c, f := trunkCall(t, sb, port, uas, uac)
	expectCDR(t, c, 200, "answered", "switchboard")
	if c.Billable < 3 || c.Billable > 6 {
		t.Errorf("call lasted %.1f s, want about 4 s", c.Billable)
	}
	expectCause(t, f, 102, "switchboard")
}

// TestCallSessionTimerCallerRefreshes: a caller that refreshes its 6 s
// session by UPDATE every 2.5 s keeps the call up past the interval;
// each 2xx to a refresh carries the session's Session-Expires.
func TestCallSessionTimerCallerRefreshes(t *testing.T) {
	sb, port := shortTimerSB(t)
	uas := writeScenario(t, "uas-timer-refreshed", plainCallee("5")...)
	var steps []string
	for _, cseq := range []string{"3", "4", "5"} {
		name := "up" + cseq
		steps = append(steps, `<pause milliseconds="2500"/>`,
			uacInDialog("UPDATE", cseq, "Supported: timer\nSession-Expires: 6;refresher=uac\n", ""),
			`<recv response="200"><action>`+check("Session-Expires:", "^ *6;refresher=uac", name, false)+`</action></recv>`, refs(name))
	}
	steps = append(steps, uacInDialog("BYE", "6", "", ""), `<recv response="200"/>`)
	uac := shortTimerCaller(t, "uac-timer-refreshed", "uac", steps...)
	c, _ := trunkCall(t, sb, port, uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Billable < 7 {
		t.Errorf("call lasted %.1f s: the refreshes should have kept it past the 6 s interval", c.Billable)
	}
}

// TestCallSessionTimerSwitchboardRefreshesCallee: the callee leaves the
// refresh of a 4 s session to Switchboard (refresher=uac in its 2xx) and
// allows UPDATE: Switchboard refreshes it by UPDATE without SDP at half
// the interval, twice before the caller hangs up.
func TestCallSessionTimerSwitchboardRefreshesCallee(t *testing.T) {
	refreshed := func(name string) string {
		return `<recv request="UPDATE" timeout="4000"><action>` + check("Session-Expires:", "^ *4;refresher=uac", name, false) + `</action></recv>
` + replyNoTag("200", "OK", false, "") + refs(name)
	}
	uas := writeScenario(t, "uas-timer-update", `<recv request="INVITE"/>`,
		withHeader(reply("200", "OK", true, "sendrecv"), "Session-Expires: 4;refresher=uac\nRequire: timer\nAllow: INVITE, ACK, BYE, CANCEL, UPDATE"),
		`<recv request="ACK"/>`, refreshed("up1"), refreshed("up2"),
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-timer-update", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="5000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c, _ := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestCallSessionTimerRefreshFails: the callee answers Switchboard's
// refresh with 481: the call ends with BYE on both legs and one CDR
// (RFC 4028 §10).
func TestCallSessionTimerRefreshFails(t *testing.T) {
	uas := writeScenario(t, "uas-timer-481", `<recv request="INVITE"/>`,
		withHeader(reply("200", "OK", true, "sendrecv"), "Session-Expires: 4;refresher=uac\nAllow: INVITE, ACK, BYE, UPDATE"),
		`<recv request="ACK"/>`, `<recv request="UPDATE" timeout="4000"/>`, replyNoTag("481", "Call/Transaction Does Not Exist", false, ""),
		`<recv request="BYE">`+reasonCheck(`Q\.850;cause=102;`)+`</recv>`, replyNoTag("200", "OK", false, ""), refs("rsn"))
	uac := writeScenario(t, "uac-timer-481", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE" timeout="6000"/>`, replyNoTag("200", "OK", false, ""))
	c, f := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "switchboard")
	if c.HangupReason != "session refresh failed" {
		t.Errorf("hangup_reason %q, want session refresh failed", c.HangupReason)
	}
	expectCause(t, f, 102, "switchboard")
}
