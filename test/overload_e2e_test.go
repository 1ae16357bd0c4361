package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// trunkInvite is user 1000's INVITE to the trunk number 95551234.
func trunkInvite() *sigReq {
	r := newSigReq("INVITE", "sip:95551234@127.0.0.1", "1000", "95551234")
	r.Body = sigSDP("8")
	return r
}

// TestOverloadRefusesNewCalls: with overload.max_setups 2, two calls ring
// and the next three new INVITEs get a stateless 503 with Retry-After (no
// CDR: they never became calls); a retransmitted INVITE and a CANCEL of a
// ringing call are not refused, and once that call ends a new one is
// admitted again. The refusals are in the log and in the metrics.
func TestOverloadRefusesNewCalls(t *testing.T) {
	port, trunkPort := sigPeerPort(), sigPeerPort()
	apiPort := sigPeerPort()
	sb := sigStart(t, port, SBOptions{RingTimeout: "30s",
		Extra: fmt.Sprintf("overload:\n  max_setups: 2\n  retry_after: 7s\napi:\n  listen: 127.0.0.1:%d\n  metrics_open: true\n", apiPort)}, trunkPort)
	callee := newSigUA(t, fmt.Sprintf("127.0.0.2:%d", trunkPort), sb.Addr())
	caller := newSigUA(t, "127.0.0.3:0", sb.Addr())
	pass := sb.Users["1000"]
	ring := func(r *sigReq) *sip.Request {
		t.Helper()
		inv, _ := callee.awaitRequest("INVITE", 5*time.Second)
		callee.respond(inv, 180, "Ringing")
		for {
			res, raw := caller.next(r, 5*time.Second)
			if res == nil {
				t.Fatalf("call %s: no 180", r.CallID)
			}
			if res.StatusCode >= 200 {
				t.Fatalf("call %s: final %d before ringing:\n%s", r.CallID, res.StatusCode, raw)
			}
			if res.StatusCode == 180 {
				return inv
			}
		}
	}
	var ringing []*sigReq
	var calleeInvites []*sip.Request
	for range 2 {
		r := trunkInvite()
		caller.start(r, "1000", pass)
		calleeInvites = append(calleeInvites, ring(r))
		ringing = append(ringing, r)
	}

	for i := range 3 {
		r := trunkInvite()
		caller.start(r, "1000", pass)
		res, raw := caller.final(r, 5*time.Second)
		if res.StatusCode != 503 {
			t.Fatalf("call %d beyond max_setups: %d, want 503:\n%s", i+3, res.StatusCode, raw)
		}
		if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "7" {
			t.Fatalf("503 without Retry-After 7:\n%s", raw)
		}
		if tag, _ := res.To().Params.Get("tag"); tag == "" {
			t.Fatalf("503 without a To tag:\n%s", raw)
		}
	}

	// The retransmission of a ringing call's INVITE is absorbed, not refused.
	first := ringing[0]
	caller.send(first.text(caller.transport, caller.Local))
	if res, raw := caller.next(first, time.Second); res != nil && res.StatusCode >= 200 {
		t.Fatalf("retransmitted INVITE got a final %d:\n%s", res.StatusCode, raw)
	}
	// Its CANCEL goes through: 200 for the CANCEL, 487 for the INVITE.
	cancel := *first
	cancel.Method, cancel.Body, cancel.Headers = "CANCEL", "", nil
	caller.send(cancel.text(caller.transport, caller.Local))
	if res, raw := caller.final(&cancel, 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("CANCEL: %d:\n%s", res.StatusCode, raw)
	}
	cc, _ := callee.awaitRequest("CANCEL", 5*time.Second)
	callee.respond(cc, 200, "OK")
	callee.respond(calleeInvites[0], 487, "Request Terminated")
	if res, raw := caller.final(first, 5*time.Second); res.StatusCode != 487 {
		t.Fatalf("cancelled INVITE: %d:\n%s", res.StatusCode, raw)
	}
	_, _ = callee.awaitRequest("ACK", 5*time.Second)

	// One setup left the table: a new call is admitted.
	r := trunkInvite()
	caller.start(r, "1000", pass)
	calleeInvites[0] = ring(r)
	ringing[0] = r

	sb.waitOutput("overload: new calls refused with 503", 5*time.Second)
	if out := sb.Output(); !strings.Contains(out, "overload: new calls refused with 503") || !strings.Contains(out, "refused_total=3") {
		t.Fatalf("no refusal log line with refused_total=3:\n%s", tail(out, 3000))
	}
	if code, body := apiDo(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", apiPort), ""); code != 200 ||
		!strings.Contains(string(body), `switchboard_overload_rejected_total{reason="setups"} 3`) {
		t.Fatalf("metrics (%d) lack 3 refusals by setups:\n%s", code, body)
	}

	// Hang up what rings; every admitted call has one record, the refused
	// ones none.
	for i, r := range ringing {
		c := *r
		c.Method, c.Body, c.Headers = "CANCEL", "", nil
		caller.send(c.text(caller.transport, caller.Local))
		caller.final(&c, 5*time.Second)
		cc, _ := callee.awaitRequest("CANCEL", 5*time.Second)
		callee.respond(cc, 200, "OK")
		callee.respond(calleeInvites[i], 487, "Request Terminated")
		caller.final(r, 5*time.Second)
	}
	recs := sb.WaitCDRs(3, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if recs = sb.CDRs(); len(recs) != 3 {
		t.Fatalf("%d CDRs, want 3 (the admitted calls): %+v", len(recs), recs)
	}
	for _, c := range recs {
		if c.Disposition != "cancelled" {
			t.Errorf("CDR %+v, want cancelled", c)
		}
	}
}
