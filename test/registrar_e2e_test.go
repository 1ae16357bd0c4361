package test

// Registrar end to end: bindings added, listed, refused (423), removed one
// by one and all at once; a call forking to every contact of a user; and
// bindings that survive a restart of the process.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sigRegister sends an authenticated REGISTER for user from ua with the
// given Contact lines (none: a fetch) and extra headers. cseq carries the
// registration's CSeq across calls (one Call-ID per ua, RFC 3261 §10.2.4).
func sigRegister(t *testing.T, ua *sigUA, sb *SB, user, callID string, cseq *int, contacts []string, hdrs ...string) (*sip.Response, string) {
	t.Helper()
	r := &sigReq{Method: "REGISTER", RURI: "sip:127.0.0.1", From: user, To: user, FromTag: randToken(), CallID: callID, CSeq: *cseq}
	for _, c := range contacts {
		r.Headers = append(r.Headers, "Contact: "+c)
	}
	r.Headers = append(r.Headers, hdrs...)
	res, raw := ua.doAuth(r, user, sb.Users[user])
	*cseq = r.CSeq + 1
	return res, raw
}

// sigRegisterFrom registers user's contact sip:user@127.0.0.1:port from
// that very port (so the binding's source is where a sipp callee will
// listen), then frees the port.
func sigRegisterFrom(t *testing.T, sb *SB, user string, port, expires int) {
	t.Helper()
	ua := newSigUA(t, fmt.Sprintf("127.0.0.1:%d", port), sb.Addr())
	defer ua.Close()
	cseq := 1
	res, raw := sigRegister(t, ua, sb, user, "sig-reg-"+randToken(), &cseq,
		[]string{fmt.Sprintf("<sip:%s@127.0.0.1:%d>", user, port)}, fmt.Sprintf("Expires: %d", expires))
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER %s from port %d: got %d\n%s", user, port, res.StatusCode, raw)
	}
}

var reContactURI = regexp.MustCompile(`<(sip:[^>]*)>([^,\r\n]*)`)

// sigBindings lists the contact URIs of a 200 to REGISTER (sorted), and
// fails the test if one lacks an expires parameter (RFC 3261 §10.3 step 8).
func sigBindings(t *testing.T, res *sip.Response) []string {
	t.Helper()
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		for _, m := range reContactURI.FindAllStringSubmatch(h.Value(), -1) {
			out = append(out, m[1])
			if !strings.Contains(m[2], "expires=") {
				t.Errorf("binding %s listed without expires: %q", m[1], h.Value())
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestRegistrarBindings: one user, several contacts in one REGISTER; a
// too-short expiry gets 423 with Min-Expires; a REGISTER without Contact
// lists the bindings; expires=0 removes one, "*" with Expires: 0 removes all,
// after which a call to the user finds no one (480).
func TestRegistrarBindings(t *testing.T) {
	sb := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort())
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	callID, cseq := "sig-reg-"+randToken(), 1
	a, b := "sip:1001@127.0.0.1:25001", "sip:1001@127.0.0.1:25002"
	want := func(step string, res *sip.Response, raw string, code int, bindings ...string) {
		t.Helper()
		if res.StatusCode != code {
			t.Fatalf("%s: got %d, want %d\n%s", step, res.StatusCode, code, raw)
		}
		if code != 200 {
			return
		}
		sort.Strings(bindings)
		if got := sigBindings(t, res); strings.Join(got, " ") != strings.Join(bindings, " ") {
			t.Fatalf("%s: bindings %q, want %q\n%s", step, got, bindings, raw)
		}
	}

	res, raw := sigRegister(t, ua, sb, "1001", callID, &cseq, []string{"<" + a + ">"}, "Expires: 5")
	want("expires below min_expires", res, raw, 423)
	if me := res.GetHeader("Min-Expires"); me == nil || me.Value() != "10" {
		t.Errorf("423 without Min-Expires: 10:\n%s", raw)
	}
	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, nil)
	want("fetch after the 423", res, raw, 200)

	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, []string{"<" + a + ">", "<" + b + ">"}, "Expires: 120")
	want("two contacts", res, raw, 200, a, b)
	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, nil)
	want("fetch", res, raw, 200, a, b)

	// Another user's bindings are not this user's.
	ua2 := newSigUA(t, "127.0.0.1:0", sb.Addr())
	cseq2 := 1
	res, raw = sigRegister(t, ua2, sb, "1000", "sig-reg-"+randToken(), &cseq2, nil)
	want("fetch of another user", res, raw, 200)

	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, []string{"<" + a + ">;expires=0"})
	want("unregister one", res, raw, 200, b)
	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, nil)
	want("fetch after unregistering one", res, raw, 200, b)

	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, []string{"*"}, "Expires: 0")
	want("unregister all", res, raw, 200)
	res, raw = sigRegister(t, ua, sb, "1001", callID, &cseq, nil)
	want("fetch after unregistering all", res, raw, 200)

	// A trunk call to the user now finds no contact.
	caller := newSigUA(t, "127.0.0.2:0", sb.Addr())
	r := newSigReq("INVITE", "sip:1001@127.0.0.1", "5551234", "1001")
	r.Headers = []string{"Contact: <sip:5551234@" + caller.Local + ">"}
	r.Body = sigSDP("0", "a=rtpmap:0 PCMU/8000")
	if res, raw := caller.do(r); res.StatusCode != 480 {
		t.Errorf("call to an unregistered user: got %d, want 480\n%s", res.StatusCode, raw)
	}
	c := oneCDR(t, sb)
	if c.Status != 480 || c.Disposition == "answered" {
		t.Errorf("CDR %+v", c)
	}
}

// TestForkToAllContacts: user 1001 is registered twice, by a baresip phone
// (which answers at once) and by a sipp callee (which only rings). A call
// to 1001 reaches both in parallel; the phone wins and the ringing one gets
// CANCEL (and never sends 200: its scenario fails on anything else).
func TestForkToAllContacts(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	sb := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort())
	phone := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
	lp := sigPeerPort()
	sigRegisterFrom(t, sb, "1001", lp, 300)

	loser := writeScenario(t, "uas-sig-loser", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""),
		uas487(), `<recv request="ACK"/>`)
	lDone := sigSippUAS(t, dir, loser, "127.0.0.1", lp, lp+2)
	r := sigCall(t, dir, sigTrustedCaller(t, 1500), sb, "127.0.0.2", sigPeerPort(), "5551234", "1001")
	sippOK(t, "caller", r)
	sippOK(t, "ringing contact (must get CANCEL)", <-lDone)
	if !phone.HasEvent("CALL_ESTABLISHED") || !phone.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Errorf("phone: established %v, closed %v", phone.HasEvent("CALL_ESTABLISHED"), phone.HasEvent("CALL_CLOSED"))
	}
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
}

// restartSB stops the process (SIGTERM) and starts a new one on the same
// config file and state directory.
func restartSB(t *testing.T, sb *SB) {
	t.Helper()
	env := sb.cmd.Env
	sb.Stop()
	if sb.Alive() {
		t.Fatal("switchboard still running after Stop")
	}
	sb.exited = make(chan struct{})
	sb.start(filepath.Join(sb.Dir, "switchboard.yaml"), env)
}

// TestBindingsSurviveRestart: a contact registered before a restart is
// still listed after it, and a trunk call to the user reaches it without
// the phone registering again.
func TestBindingsSurviveRestart(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	sb := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort())
	p := sigPeerPort()
	sigRegisterFrom(t, sb, "1001", p, 300)
	restartSB(t, sb)

	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	cseq := 1
	res, raw := sigRegister(t, ua, sb, "1001", "sig-reg-"+randToken(), &cseq, nil)
	if got := sigBindings(t, res); res.StatusCode != 200 || len(got) != 1 || got[0] != fmt.Sprintf("sip:1001@127.0.0.1:%d", p) {
		t.Errorf("bindings after restart: %d %q\n%s", res.StatusCode, got, raw)
	}

	uas := writeScenario(t, "uas-sig-restart", sigAnswerAfter(200)...)
	uDone := sigSippUAS(t, dir, uas, "127.0.0.1", p, p+2)
	r := sigCall(t, dir, sigTrustedCaller(t, 500), sb, "127.0.0.2", sigPeerPort(), "5551234", "1001")
	sippOK(t, "caller", r)
	sippOK(t, "callee registered before the restart", <-uDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
}
