package test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTrunkRoutingPolicy: international calls are routed by source (only
// group intl) to trunk lcr with fallback to trunk carrier; lcr answers
// 503 and the same call completes through carrier. User 1001, without
// the right to dial the international class, gets 403 with the reason
// and a CDR. A call from carrier to its DID 5550100 rings user 1001.
func TestTrunkRoutingPolicy(t *testing.T) {
	requireTool(t, "sipp")
	port := sigPeerPort()
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"},
		UserExtra: map[string]string{"1000": ", groups: [intl], allow: [international]"},
		Trunks: fmt.Sprintf(`  - {name: lcr, uri: "sip:127.0.0.4:%d"}
  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32], dids: {"5550100": "1001"}}`, port, port),
		Routes: `  - {match: '^00\d+$', to: trunk:lcr, source: [group:intl], fallback: [trunk:carrier]}
  - {match: '^00\d+$', to: reject, status: 403, reason: "International calls not allowed"}
  - {match: '^1\d{3}$', to: user}`,
		Security: "  rate: -1\n  auth_failures: 1000\n  user_failures: -1\n  classes:\n    - {name: international, match: '^00'}\n"})
	dir := t.TempDir()

	// 1000 → 00…: lcr refuses with 503, carrier answers.
	uas503 := writeScenario(t, "uas-503", `<recv request="INVITE"/>`, reply("503", "Service Unavailable", false, ""), `<recv request="ACK"/>`)
	lcrDone := sigSippUAS(t, dir, uas503, "127.0.0.4", port, port+2)
	carrierDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.2", port, port+2)
	sippOK(t, "caller 1000", sigCall(t, dir, dnsCaller(t), sb, "127.0.0.3", port+4, "1000", "0044201234567", "-au", "1000", "-ap", sb.Users["1000"]))
	sippOK(t, "lcr", <-lcrDone)
	sippOK(t, "carrier", <-carrierDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Trunk != "carrier" || len(c.TrunkTargets) != 1 || c.TrunkTargets[0] != "trunk lcr → 503" {
		t.Errorf("CDR trunk %q trunk_targets %q, want carrier after lcr → 503", c.Trunk, c.TrunkTargets)
	}

	// 1001 → 00…: no international rights.
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	r := newSigReq("INVITE", "sip:0044201234567@127.0.0.1", "1001", "0044201234567")
	res, raw := ua.doAuth(r, "1001", sb.Users["1001"])
	if res.StatusCode >= 300 {
		ua.send(ua.ack(r, res).text(ua.transport, ua.Local))
	}
	if res.StatusCode != 403 || !strings.Contains(raw, "destination class international not allowed") {
		t.Errorf("1001 dialling 00…: %d, want 403 naming the class\n%s", res.StatusCode, raw)
	}
	recs := sb.WaitCDRs(2, 5*time.Second)
	if len(recs) != 2 || recs[1].Status != 403 || recs[1].HangupReason != "destination class international not allowed" {
		t.Errorf("CDRs %+v: want the second a 403 with the reason", recs)
	}

	// carrier → DID 5550100: rings 1001 (the carrier callee has exited: its port is free for the caller).
	phone := sigPeerPort()
	sigRegisterFrom(t, sb, "1001", phone, 300)
	phoneDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.1", phone, phone+2)
	sippOK(t, "carrier caller", sigCall(t, dir, sigTrustedCaller(t, 300), sb, "127.0.0.2", port, "5551234", "5550100"))
	sippOK(t, "1001", <-phoneDone)
	recs = sb.WaitCDRs(3, 5*time.Second)
	if len(recs) != 3 || recs[2].Route != "did" || recs[2].Caller != "trunk:carrier" || recs[2].Status != 200 {
		t.Errorf("DID call CDR %+v: want route did, caller trunk:carrier, 200", recs[len(recs)-1])
	}
}

// TestTrunkMaxCPS (issue 13, item 4): a trunk with max_cps: 1 takes one
// new call a second. Of three calls placed back to back the first is
// answered by the trunk and the next two get 503 from Switchboard (CDR
// reason "trunk at max_cps"); a call a second later goes through again.
func TestTrunkMaxCPS(t *testing.T) {
	t.Parallel()
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{TrunkExtra: ", max_cps: 1"})
	uasDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.2", uasPort, uasPort+2, "-m", "2")
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	call := func() int {
		r := newSigReq("INVITE", "sip:95551234@127.0.0.1", "1000", "95551234")
		r.Body = sigSDP("8")
		res, _ := ua.doAuth(r, "1000", sb.Users["1000"])
		if res.StatusCode == 200 {
			ua.ackAndBye(r, res)
		} else {
			ua.send(ua.ack(r, res).text(ua.transport, ua.Local))
		}
		return res.StatusCode
	}
	var got []int
	for i := 0; i < 3; i++ {
		got = append(got, call())
	}
	time.Sleep(1100 * time.Millisecond)
	got = append(got, call())
	if want := []int{200, 503, 503, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if r := <-uasDone; r.Err != nil || r.Stats.Successful != 2 {
		t.Errorf("trunk sipp: %v, %d calls, want 2\n%s", r.Err, r.Stats.Successful, tail(r.Out, 2000))
	}
	recs := sb.WaitCDRs(4, 10*time.Second)
	refused := 0
	for _, c := range recs {
		if c.Status == 503 && c.HangupReason == "trunk at max_cps" {
			refused++
		}
	}
	if len(recs) != 4 || refused != 2 {
		t.Fatalf("%d CDRs, %d refused by max_cps, want 4 and 2: %+v", len(recs), refused, recs)
	}
}
