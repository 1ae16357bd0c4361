package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Cause mapping through Switchboard (issue 9, item 3): the Reason header
// (RFC 3326) on final failures to the caller (RFC 6432), on BYE and on
// CANCEL, in both directions, with the trunk's per-trunk overrides; and
// the CDR's Q.850 cause and whose Reason ended the call. sipp's regexp
// checks (check_it) fail a scenario whose message lacks the Reason wanted.

// causeFields are the CDR's cause fields (the harness's CDR type lacks them).
type causeFields struct {
	Q850Cause  int    `json:"q850_cause"`
	ReasonSide string `json:"reason_side"`
	Reason     string `json:"reason"`
}

// causeFieldsOf reads the cause fields of sb's one record.
func causeFieldsOf(t *testing.T, sb *SB) causeFields {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(sb.Dir, "records", "*.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if line, _, _ := bytes.Cut(bytes.TrimSpace(data), []byte("\n")); len(line) > 0 {
			var c causeFields
			if err := json.Unmarshal(line, &c); err != nil {
				t.Fatalf("CDR %s: %v", line, err)
			}
			return c
		}
	}
	t.Fatal("no CDR")
	return causeFields{}
}

// withHeader adds header lines to a scenario message, before its
// Content-Length.
func withHeader(msg, hdr string) string {
	out := strings.Replace(msg, "Content-Length:", hdr+"\nContent-Length:", 1)
	if out == msg {
		panic("no Content-Length in message")
	}
	return out
}

// reasonCheck is a recv action failing the call unless the Reason header
// matches re.
func reasonCheck(re string) string {
	return `<action>` + check("Reason:", re, "rsn", false) + `</action>`
}

// causeCall runs one authenticated sipp caller (user 1000 dialling
// 95551234) through Switchboard to a sipp callee behind trunk "carrier",
// whose YAML gets causes (e.g. ", causes: {...}"), and returns the one
// CDR with its cause fields.
func causeCall(t *testing.T, causes, uas, uac string) (CDR, causeFields) {
	t.Helper()
	sb, port := trunkSB(t, causes)
	return trunkCall(t, sb, port, uas, uac)
}

// trunkSB starts Switchboard with user 1000 and trunk "carrier" (extra
// appended to its YAML) on 127.0.0.2 at the returned port.
func trunkSB(t *testing.T, extra string) (*SB, int) {
	t.Helper()
	requireTool(t, "sipp")
	port := sigPeerPort()
	return startSB(t, SBOptions{Users: []string{"1000"},
		Trunks: fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]%s}`, port, extra),
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`}), port
}

// trunkCall runs the sipp callee uas on the trunk and the caller uac
// (user 1000 dialling 95551234), both to success, and returns the CDR.
func trunkCall(t *testing.T, sb *SB, port int, uas, uac string) (CDR, causeFields) {
	t.Helper()
	dir := t.TempDir()
	uasDone := sigSippUAS(t, dir, uas, "127.0.0.2", port, port+2)
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, uac))
	sippOK(t, "callee", <-uasDone)
	return oneCDR(t, sb), causeFieldsOf(t, sb)
}

// trunkCaller runs the caller uac as user 1000 dialling 95551234.
func trunkCaller(t *testing.T, sb *SB, dir string, port int, uac string) Sipp {
	return sigCall(t, dir, uac, sb, "127.0.0.3", port+4, "1000", "95551234", "-au", "1000", "-ap", sb.Users["1000"])
}

func expectCause(t *testing.T, got causeFields, q850 int, side string) {
	t.Helper()
	if got.Q850Cause != q850 || got.ReasonSide != side || !strings.Contains(got.Reason, fmt.Sprintf("Q.850;cause=%d;", q850)) {
		t.Errorf("CDR q850_cause=%d reason_side=%q reason=%q, want %d, %q and that cause in the reason", got.Q850Cause, got.ReasonSide, got.Reason, q850, side)
	}
}

// TestCallCauseCalleeFailure: the callee's final failure reaches the
// caller with the right Q.850 cause in its Reason: the callee's own (34
// survives end to end) or, when it gave none, the RFC 3398 §8.2.6.1 cause
// of its status; a trunk's overrides change the status (q850_to_sip) or
// the cause (sip_to_q850).
func TestCallCauseCalleeFailure(t *testing.T) {
	const congestion = `Reason: Q.850;cause=34;text="No circuit/channel available"`
	const overrides = `, causes: {q850_to_sip: {"34": 486}, sip_to_q850: {"480": 20}}`
	for _, tc := range []struct {
		name, causes string
		status, text string
		reason       string // the callee's Reason header, if any
		want         string // status the caller gets
		q850         int
		side         string // reason_side in the CDR
	}{
		{"404", "", "404", "Not Found", "", "404", 1, "switchboard"},
		{"480", "", "480", "Temporarily Unavailable", "", "480", 18, "switchboard"},
		{"486", "", "486", "Busy Here", "", "486", 17, "switchboard"},
		{"503 with Q.850 34", "", "503", "Service Unavailable", congestion, "503", 34, "callee"},
		{"603", "", "603", "Decline", "", "603", 21, "switchboard"},
		{"override q850_to_sip", overrides, "503", "Service Unavailable", congestion, "486", 34, "callee"},
		{"override sip_to_q850", overrides, "480", "Temporarily Unavailable", "", "480", 20, "switchboard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := reply(tc.status, tc.text, false, "")
			if tc.reason != "" {
				res = withHeader(res, tc.reason)
			}
			uas := writeScenario(t, "uas-cause", `<recv request="INVITE"/>`, res, `<recv request="ACK"/>`)
			uac := writeScenario(t, "uac-cause", uacInvite(),
				`<recv response="`+tc.want+`">`+reasonCheck(fmt.Sprintf(`Q\.850;cause=%d;text=`, tc.q850))+`</recv>`,
				uacAckFinal(), refs("rsn"))
			c, f := causeCall(t, tc.causes, uas, uac)
			if c.Status != atoi(tc.want) {
				t.Errorf("CDR status %d, want %s", c.Status, tc.want)
			}
			expectCause(t, f, tc.q850, tc.side)
		})
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// answeredCallee answers the INVITE, then runs steps (the end of the call).
func answeredCallee(steps ...string) []string {
	return append([]string{`<recv request="INVITE">` + captureFrom + `</recv>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`}, steps...)
}

// TestCallCauseCallerBye: a normal hang-up by the caller (BYE without a
// Reason) reaches the callee as a BYE with Q.850 cause 16.
func TestCallCauseCallerBye(t *testing.T) {
	uas := writeScenario(t, "uas-cause-bye", answeredCallee(
		`<recv request="BYE">`+reasonCheck(`Q\.850;cause=16;text=.Normal call clearing.`)+`</recv>`,
		replyNoTag("200", "OK", false, ""), refs("rsn", "remote_from", "remote_contact"))...)
	uac := writeScenario(t, "uac-cause-bye", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c, f := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "caller")
	expectCause(t, f, 16, "switchboard")
}

// TestCallCauseCalleeByeRelayed: the callee's BYE Reason reaches the
// caller's BYE, and the CDR says the callee's Reason ended the call.
func TestCallCauseCalleeByeRelayed(t *testing.T) {
	uas := writeScenario(t, "uas-cause-bye-reason", answeredCallee(`<pause milliseconds="500"/>`,
		withHeader(uasInDialog("BYE", "1", ""), `Reason: Q.850;cause=27;text="Destination out of order"`),
		`<recv response="200"/>`)...)
	uac := writeScenario(t, "uac-cause-bye-reason", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE">`+reasonCheck(`Q\.850;cause=27;text=.Destination out of order.`)+`</recv>`,
		replyNoTag("200", "OK", false, ""), refs("rsn"))
	c, f := causeCall(t, "", uas, uac)
	expectCDR(t, c, 200, "answered", "callee")
	expectCause(t, f, 27, "callee")
}

// TestCallCauseCancelRelayed: the caller's CANCEL Reason reaches the
// callee on Switchboard's CANCEL.
func TestCallCauseCancelRelayed(t *testing.T) {
	uas := writeScenario(t, "uas-cause-cancel",
		`<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL">`+reasonCheck(`Q\.850;cause=19;text=.No answer from user.`)+`</recv>`,
		reply("200", "OK", false, ""), uas487(), `<recv request="ACK"/>`, refs("rsn"))
	uac := writeScenario(t, "uac-cause-cancel", uacInvite(), `<recv response="180"/>`, `<pause milliseconds="300"/>`,
		withHeader(uacCancel("[last_Via:]"), `Reason: Q.850;cause=19;text="No answer from user"`),
		`<recv response="200"/>`, `<recv response="487"/>`, uacAckFinal())
	c, f := causeCall(t, "", uas, uac)
	expectCDR(t, c, 487, "cancelled", "caller")
	expectCause(t, f, 19, "caller")
}

// TestCallCauseForkCompletedElsewhere: a user registered twice is forked
// to; when one contact answers, the other's CANCEL says the call was
// completed elsewhere (RFC 3326 §2).
func TestCallCauseForkCompletedElsewhere(t *testing.T) {
	requireTool(t, "sipp")
	loser := writeScenario(t, "uas-cause-loser", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL">`+reasonCheck(`SIP;cause=200;text=.Call completed elsewhere.`)+`</recv>`,
		reply("200", "OK", false, ""), uas487(), `<recv request="ACK"/>`, refs("rsn"))
	winner := writeScenario(t, "uas-cause-winner", sigAnswerAfter(500)...)
	sb, dir := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort()), t.TempDir()
	// Both contacts of user 1001 ring; the first answers at 0.5 s.
	var done []chan Sipp
	for _, scen := range []string{winner, loser} {
		p := sigPeerPort()
		sigRegisterFrom(t, sb, "1001", p, 300)
		done = append(done, sigSippUAS(t, dir, scen, "127.0.0.1", p, p+2))
	}
	sippOK(t, "caller", sigCall(t, dir, sigTrustedCaller(t, 1000), sb, "127.0.0.2", sigPeerPort(), "5551234", "1001"))
	sippOK(t, "callee answering", <-done[0])
	sippOK(t, "callee cancelled (must see SIP;cause=200)", <-done[1])
	expectCDR(t, oneCDR(t, sb), 200, "answered", "caller")
}
