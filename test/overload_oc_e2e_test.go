package test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestOverloadControlRFC7339 (issue 16, item 1): SIP overload control
// with the loss algorithm, both ways.
//   - As a server: with overload.max_setups 1 and one call ringing, a new
//     INVITE whose top Via offers overload control (";oc") gets a 503 whose
//     Via asks for a reduction (oc=10..100, oc-algo="loss", oc-validity,
//     oc-seq); one without ";oc" gets a plain 503.
//   - As a client: the INVITE to the trunk advertises ";oc;oc-algo="loss"";
//     the trunk answers 503 asking oc=100 for 10 s, and the next call to
//     it is refused by Switchboard itself (503, CDR "trunk overload
//     control") without reaching the trunk.
func TestOverloadControlRFC7339(t *testing.T) {
	t.Parallel()
	port, trunkPort := sigPeerPort(), sigPeerPort()
	sb := sigStart(t, port, SBOptions{RingTimeout: "30s", Extra: "overload:\n  max_setups: 1\n"}, trunkPort)
	callee := newSigUA(t, fmt.Sprintf("127.0.0.2:%d", trunkPort), sb.Addr())
	caller := newSigUA(t, "127.0.0.3:0", sb.Addr())
	pass := sb.Users["1000"]
	first := trunkInvite()
	caller.start(first, "1000", pass)
	inv, raw := callee.awaitRequest("INVITE", 5*time.Second)
	if v := inv.Via(); v == nil || !v.Params.Has("oc") || v.Params.GetOr("oc-algo", "") != `"loss"` {
		t.Fatalf("INVITE to the trunk does not advertise overload control:\n%s", raw)
	}
	callee.respond(inv, 180, "Ringing")

	// Server side: the second call is refused, with or without oc asked.
	ocVia := regexp.MustCompile(`(?m)^Via: [^\r\n]*;oc=(\d+);oc-algo="loss";oc-validity=\d+;oc-seq=\d+\.\d+`)
	for _, withOC := range []bool{true, false} {
		r := trunkInvite()
		r.Body = sigSDP("8")
		msg := r.text(caller.transport, caller.Local)
		if withOC {
			msg = strings.Replace(msg, ";rport\r\n", ";rport;oc\r\n", 1)
		}
		caller.send(msg)
		res, raw := caller.final(r, 5*time.Second) // shed before any challenge
		if res.StatusCode != 503 {
			t.Fatalf("call beyond max_setups: %d, want 503:\n%s", res.StatusCode, raw)
		}
		m := ocVia.FindStringSubmatch(raw)
		switch {
		case withOC && m == nil:
			t.Errorf("503 to a client that offered oc asks no reduction:\n%s", raw)
		case withOC && (len(m[1]) < 2 || len(m[1]) > 3 || len(m[1]) == 3 && m[1] != "100"):
			t.Errorf("reduction oc=%s, want 10 to 100", m[1])
		case !withOC && strings.Contains(raw, ";oc="):
			t.Errorf("503 to a client without oc carries oc parameters:\n%s", raw)
		}
	}

	// Client side: the trunk refuses the ringing call with 503 asking for
	// a full reduction for 10 s.
	res := sip.NewResponseFromRequest(inv, 503, "Service Unavailable", nil)
	v := res.Via()
	v.Params.Add("oc", "100")
	v.Params.Add("oc-validity", "10000")
	v.Params.Add("oc-seq", "1700000000.1")
	callee.send(res.String())
	fr, raw := caller.final(first, 5*time.Second)
	if fr.StatusCode != 503 {
		t.Fatalf("first call: %d, want the trunk's 503:\n%s", fr.StatusCode, raw)
	}
	caller.send(caller.ack(first, fr).text(caller.transport, caller.Local))
	callee.awaitRequest("ACK", 5*time.Second)

	// The first call's admission slot (max_setups 1) is released as it
	// ends, which may lag its 503 a little: an INVITE still shed by
	// admission control (stateless, Retry-After, no call) is tried again.
	var r *sip.Response
	var raw2 string
	for try := 0; ; try++ {
		next := trunkInvite()
		r, raw2 = caller.doAuth(next, "1000", pass)
		if r.StatusCode != 503 || r.GetHeader("Retry-After") == nil || try == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.StatusCode != 503 || r.GetHeader("Retry-After") != nil {
		t.Fatalf("call while the trunk asks oc=100: %d, want 503 from Switchboard:\n%s", r.StatusCode, raw2)
	}
	if m, raw, err := callee.read(time.Now().Add(500 * time.Millisecond)); err == nil {
		if req, ok := m.(*sip.Request); ok && req.Method == sip.INVITE {
			t.Fatalf("the trunk got an INVITE while it asked for a full reduction:\n%s", raw)
		}
	}
	recs := sb.WaitCDRs(2, 5*time.Second)
	found := false
	for _, c := range recs {
		found = found || c.HangupReason == "trunk overload control"
	}
	if !found {
		t.Fatalf("no CDR says trunk overload control: %+v", recs)
	}
}
