package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// needTool skips (or, under CI, fails) a test whose tool is missing.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing (Makefile DEBS)", name)
		}
		t.Skipf("%s missing (Makefile DEBS)", name)
	}
	return p
}

// securityLines are the security event lines of the process output.
func securityLines(sb *SB, event string) []string {
	var out []string
	for _, l := range strings.Split(sb.Output(), "\n") {
		if strings.Contains(l, " switchboard security event="+event+" ") {
			out = append(out, l)
		}
	}
	return out
}

// TestGuardPasswordGuessing: SIPVicious svcrack guesses user 1000's
// password from a dictionary holding it at position 40; Switchboard bans
// the source after 5 failures, so svcrack never finds it, and afterwards
// the right password from that address does not register while another
// address registers. The security lines it produced match the shipped
// fail2ban filter (fail2ban-regex).
func TestGuardPasswordGuessing(t *testing.T) {
	svcrack := needTool(t, "svcrack")
	f2b := needTool(t, "fail2ban-regex")
	sb := startSB(t, SBOptions{Users: []string{"1000"},
		Security: "  auth_failures: 5\n  window: 60s\n  ban: 5m\n  rate: -1\n  drop_user_agents: []\n"})
	var words []string
	for i := 0; i < 39; i++ {
		words = append(words, fmt.Sprintf("guess%02d", i))
	}
	words = append(words, sb.Users["1000"])
	dict := filepath.Join(t.TempDir(), "dict.txt")
	if err := os.WriteFile(dict, []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(svcrack, "-u", "1000", "-d", dict, "-p", fmt.Sprint(sb.SIPPort), "--maximumtime=40", "127.0.0.1")
	cmd.Dir = t.TempDir()
	out, _ := cmd.CombinedOutput()
	t.Logf("svcrack:\n%s", out)
	if strings.Contains(string(out), sb.Users["1000"]) {
		t.Fatalf("svcrack found the password")
	}
	fails := securityLines(sb, "auth_failure")
	bans := securityLines(sb, "ban")
	blocked := securityLines(sb, "blocked")
	t.Logf("auth_failure lines %d, ban lines %d, blocked lines %d", len(fails), len(bans), len(blocked))
	if len(bans) != 1 || !strings.Contains(bans[0], "src=127.0.0.1 ") {
		t.Fatalf("want one ban of 127.0.0.1, got %q", bans)
	}
	if len(fails) >= 20 || len(fails) < 5 {
		t.Fatalf("%d failures counted before the ban; want 5..19", len(fails))
	}
	if len(blocked) == 0 {
		t.Fatalf("svcrack's later guesses were not refused as blocked")
	}

	// The right password from the banned address: challenged again.
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	cseq := 1
	res, raw := sigRegister(t, ua, sb, "1000", "guard-reg-"+randToken(), &cseq, []string{"<sip:1000@" + ua.Local + ">"})
	if res.StatusCode != 401 {
		t.Fatalf("right password from the banned source: got %d, want 401\n%s", res.StatusCode, raw)
	}
	// Another source registers normally.
	ua2 := newSigUA(t, "127.0.0.2:0", sb.Addr())
	cseq = 1
	res, raw = sigRegister(t, ua2, sb, "1000", "guard-reg-"+randToken(), &cseq, []string{"<sip:1000@" + ua2.Local + ">"})
	if res.StatusCode != 200 {
		t.Fatalf("another source: got %d, want 200\n%s", res.StatusCode, raw)
	}

	// The shipped fail2ban filter matches every counted line.
	logf := filepath.Join(t.TempDir(), "security.log")
	lines := append(append(append([]string(nil), fails...), bans...), blocked...)
	if err := os.WriteFile(logf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rx, err := exec.Command(f2b, logf, "../configs/fail2ban/filter.d/switchboard.conf").CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, rx)
	}
	want := fmt.Sprintf("Lines: %d lines, 0 ignored, %d matched, 0 missed", len(lines), len(lines))
	if !strings.Contains(string(rx), want) {
		t.Fatalf("fail2ban-regex: want %q in\n%s", want, rx)
	}
}

// TestGuardUserEnumeration: SIPVicious svwar looks for extensions
// 990-1010 (1000 and 1001 exist) and finds none: with the default
// scanner list its User-Agent is dropped, and with the list emptied every
// extension, known or not, gets the same challenge.
func TestGuardUserEnumeration(t *testing.T) {
	svwar := needTool(t, "svwar")
	for _, tc := range []struct{ name, security string }{
		{"default", "  rate: -1\n"},
		{"no-drop", "  rate: -1\n  drop_user_agents: []\n  auth_failures: 1000\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Security: tc.security})
			for _, m := range []string{"REGISTER", "INVITE", "OPTIONS"} {
				cmd := exec.Command(svwar, "-e", "990-1010", "-m", m, "-p", fmt.Sprint(sb.SIPPort), "--force", "--maximumtime=15", "127.0.0.1")
				cmd.Dir = t.TempDir()
				out, _ := cmd.CombinedOutput()
				t.Logf("svwar -m %s:\n%s", m, out)
				for _, u := range []string{"1000", "1001"} {
					if strings.Contains(string(out), "| "+u+" ") {
						t.Errorf("svwar -m %s found extension %s", m, u)
					}
				}
			}
			if tc.name == "default" && len(securityLines(sb, "scanner")) == 0 {
				t.Errorf("no scanner event logged")
			}
		})
	}
}

// TestSecurityRateLimit: a burst of 60 OPTIONS from 127.0.0.1 over UDP
// against rate 5/s, burst 10 gets only the burst answered (the rest
// dropped silently), the same over TCP from 127.0.0.3 gets 503s, one
// rate_limit line per source is written to security.log, and 127.0.0.2
// registers meanwhile.
func TestSecurityRateLimit(t *testing.T) {
	logf := filepath.Join(t.TempDir(), "security.log")
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Security: "  rate: 5\n  burst: 10\n  log: " + logf + "\n"})
	const burst = 60
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	for i := 0; i < burst; i++ {
		ua.send(newSigReq("OPTIONS", "sip:127.0.0.1", "probe", "probe").text(ua.transport, ua.Local))
	}
	answered := 0
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, _, err := ua.read(deadline); err != nil {
			break
		}
		answered++
	}
	t.Logf("UDP: %d of %d OPTIONS answered", answered, burst)
	if answered >= burst || answered < 10 {
		t.Fatalf("%d of %d answered; want the burst (10) and not all", answered, burst)
	}

	tcp := newSigTCPUA(t, "127.0.0.3", sb.Addr())
	for i := 0; i < burst; i++ {
		tcp.send(newSigReq("OPTIONS", "sip:127.0.0.1", "probe", "probe").text(tcp.transport, tcp.Local))
	}
	codes := map[int]int{}
	deadline = time.Now().Add(2 * time.Second)
	for n := 0; n < burst; n++ {
		m, _, err := tcp.read(deadline)
		if err != nil {
			break
		}
		if res, ok := m.(*sip.Response); ok {
			codes[res.StatusCode]++
		}
	}
	t.Logf("TCP: responses by status %v", codes)
	if codes[503] == 0 || codes[200] < 10 || codes[200] >= burst {
		t.Fatalf("TCP: want the burst answered 200 and the rest 503, got %v", codes)
	}

	ua2 := newSigUA(t, "127.0.0.2:0", sb.Addr())
	cseq := 1
	res, raw := sigRegister(t, ua2, sb, "1000", "guard-rate-"+randToken(), &cseq, []string{"<sip:1000@" + ua2.Local + ">"})
	if res.StatusCode != 200 {
		t.Fatalf("another source: got %d, want 200\n%s", res.StatusCode, raw)
	}
	data, err := os.ReadFile(logf)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"127.0.0.1", "127.0.0.3"} {
		if n := strings.Count(string(data), "event=rate_limit src="+src+"\n"); n != 1 {
			t.Errorf("%d rate_limit lines for %s in security.log, want 1:\n%s", n, src, data)
		}
	}
}

// TestGuardTollFraud: user 1000 may place one call per hour and may not
// dial the international class; the second call and the international
// call get 403 with a Warning naming the reason, each with its CDR.
func TestGuardTollFraud(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"},
		Routes:    `  - {match: '^1\d{3}$', to: user}` + "\n" + `  - {match: '^00\d+$', to: reject, status: 404}`,
		Security:  "  rate: -1\n  classes:\n    - {name: international, match: '^00'}\n",
		UserExtra: map[string]string{"1000": ", calls_per_hour: 1"}})
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	call := func(dialled string) (int, string) {
		r := newSigReq("INVITE", "sip:"+dialled+"@127.0.0.1", "1000", dialled)
		res, raw := ua.doAuth(r, "1000", sb.Users["1000"])
		if res.StatusCode >= 300 {
			ua.send(ua.ack(r, res).text(ua.transport, ua.Local))
		}
		return res.StatusCode, raw
	}
	code, raw := call("0044201234567")
	if code != 403 || !strings.Contains(raw, `destination class international not allowed`) {
		t.Fatalf("international: got %d\n%s", code, raw)
	}
	code, _ = call("1001") // 1001 not registered: 480/404, but it counts
	if code == 403 {
		t.Fatalf("first call refused with 403")
	}
	code, raw = call("1001")
	if code != 403 || !strings.Contains(raw, "calls per hour reached") {
		t.Fatalf("second call in the hour: got %d\n%s", code, raw)
	}
	cdrs := sb.WaitCDRs(3, 5*time.Second)
	reasons := map[string]bool{}
	for _, c := range cdrs {
		reasons[c.HangupReason] = true
	}
	for _, want := range []string{"destination class international not allowed", "calls per hour reached"} {
		if !reasons[want] {
			t.Errorf("no CDR with hangup_reason %q in %+v", want, cdrs)
		}
	}
}

// TestGuardMaxCalls: user 1000 with max_calls 1 has a call ringing at
// 1001; a second call gets 403 "max calls reached" with its CDR, and once
// the first call has ended a new one is admitted.
func TestGuardMaxCalls(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Security: "  rate: -1\n",
		UserExtra: map[string]string{"1000": ", max_calls: 1"}})
	callee := newSigUA(t, "127.0.0.1:0", sb.Addr())
	cseq := 1
	if res, raw := sigRegister(t, callee, sb, "1001", "guard-mc-"+randToken(), &cseq, []string{"<sip:1001@" + callee.Local + ">"}); res.StatusCode != 200 {
		t.Fatalf("REGISTER 1001: %d\n%s", res.StatusCode, raw)
	}
	first := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r1 := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
	first.start(r1, "1000", sb.Users["1000"])
	inv, _ := callee.awaitRequest("INVITE", 5*time.Second)

	second := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r2 := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
	res, raw := second.doAuth(r2, "1000", sb.Users["1000"])
	if res.StatusCode != 403 || !strings.Contains(raw, `Warning: 399 switchboard "max calls reached"`) {
		t.Fatalf("second concurrent call: got %d\n%s", res.StatusCode, raw)
	}
	second.send(second.ack(r2, res).text(second.transport, second.Local))

	callee.respond(inv, 486, "Busy Here")
	if res, _ := first.final(r1, 5*time.Second); res.StatusCode != 486 {
		t.Fatalf("first call: got %d, want 486", res.StatusCode)
	}
	first.send(first.ack(r1, res).text(first.transport, first.Local))
	cdrs := sb.WaitCDRs(2, 5*time.Second)
	found := false
	for _, c := range cdrs {
		found = found || (c.Status == 403 && c.HangupReason == "max calls reached")
	}
	if !found {
		t.Fatalf("no 403 CDR with hangup_reason max calls reached: %+v", cdrs)
	}

	// The slot was released: a third call reaches the callee again.
	third := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r3 := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
	third.start(r3, "1000", sb.Users["1000"])
	inv, _ = callee.awaitRequest("INVITE", 5*time.Second)
	callee.respond(inv, 486, "Busy Here")
	if res, raw := third.final(r3, 5*time.Second); res.StatusCode != 486 {
		t.Fatalf("third call after release: got %d\n%s", res.StatusCode, raw)
	}
}
