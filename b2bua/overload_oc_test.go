package b2bua

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestTrunkOC: a trunk's oc=100 holds back every new call while valid and
// none after; oc=0 ends it; a stale oc-seq is ignored; oc=50 holds back
// about half; a Via without oc changes nothing (RFC 7339 §5.3-5.4).
func TestTrunkOC(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	res := func(params ...string) *sip.Response {
		v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5060, Params: sip.NewParams()}
		for i := 0; i+1 < len(params); i += 2 {
			v.Params.Add(params[i], params[i+1])
		}
		r := sip.NewResponse(503, "Service Unavailable")
		r.AppendHeader(v)
		return r
	}
	var oc trunkOC
	oc.note(res("branch", "z9hG4bK-1"), now)
	if oc.holdBack(now) {
		t.Fatal("held back without any oc")
	}
	oc.note(res("oc", "100", "oc-validity", "1000", "oc-seq", "10.5"), now)
	if !oc.holdBack(now.Add(999*time.Millisecond)) || oc.holdBack(now.Add(time.Second)) {
		t.Fatal("oc=100 for 1000 ms: want every call held back within, none after")
	}
	oc.note(res("oc", "100", "oc-validity", "60000", "oc-seq", "10.4"), now)
	if oc.holdBack(now.Add(2 * time.Second)) {
		t.Fatal("a stale oc-seq was taken")
	}
	oc.note(res("oc", "50", "oc-validity", "60000", "oc-seq", "11"), now)
	held := 0
	for range 2000 {
		if oc.holdBack(now) {
			held++
		}
	}
	if held < 850 || held > 1150 {
		t.Fatalf("oc=50 held back %d of 2000", held)
	}
	oc.note(res("oc", "0", "oc-seq", "12"), now)
	if oc.holdBack(now) {
		t.Fatal("oc=0 did not end the reduction")
	}
}

// TestOCViaParams: the reduction goes only on a Via that offered oc.
func TestOCViaParams(t *testing.T) {
	o := &overload{}
	o.oc.sample(100, 40)
	if got := o.ocViaParams("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;oc"); len(got) < 10 || got[:7] != ";oc=40;" {
		t.Fatalf("params %q, want oc=40 first", got)
	}
	if got := o.ocViaParams("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;ocx=1"); got != "" {
		t.Fatalf("params %q on a Via without oc", got)
	}
	o.oc.sample(100, 0)
	if got := o.ocViaParams("SIP/2.0/UDP h;oc"); got[:7] != ";oc=10;" {
		t.Fatalf("params %q: a refused INVITE asks at least 10", got)
	}
}
