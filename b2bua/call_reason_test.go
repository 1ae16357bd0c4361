package b2bua

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
)

// TestRelayFailure: the status and Reason a callee's failure reaches the
// caller with, with and without a trunk's overrides.
func TestRelayFailure(t *testing.T) {
	o, err := cause.NewOverrides(cause.Config{Q850ToSIP: map[string]int{"34": 486}, SIPToQ850: map[string]int{"480": 20}})
	if err != nil {
		t.Fatal(err)
	}
	trunk := Target{Kind: TargetTrunk, Trunk: &Trunk{Name: "carrier", Causes: o}}
	congestion := []cause.Reason{cause.Q850(34)}
	for _, tc := range []struct {
		name    string
		target  Target
		status  int
		reasons []cause.Reason
		code    int
		q850    int
		side    string
	}{
		{"busy, no Reason", Target{}, 486, nil, 486, 17, cdr.HangupSwitchboard},
		{"trunk's Q.850 survives", Target{}, 503, congestion, 503, 34, cdr.HangupCallee},
		{"redirect not leaked", Target{}, 302, nil, 480, 31, cdr.HangupSwitchboard},
		{"q850_to_sip", trunk, 503, congestion, 486, 34, cdr.HangupCallee},
		{"sip_to_q850", trunk, 480, nil, 480, 20, cdr.HangupSwitchboard},
		{"SIP Reason only: Q.850 added", Target{}, 404, []cause.Reason{cause.SIP(404, "Not Found")}, 404, 1, cdr.HangupCallee},
	} {
		c := &Call{target: tc.target}
		code := c.relayFailure(tc.status, tc.reasons)
		if code != tc.code || c.why.q850 != tc.q850 || c.why.side != tc.side {
			t.Errorf("%s: %d q850 %d side %s, want %d %d %s", tc.name, code, c.why.q850, c.why.side, tc.code, tc.q850, tc.side)
		}
		if !strings.Contains(c.why.hdr, "Q.850;cause=") {
			t.Errorf("%s: Reason %q has no Q.850 cause", tc.name, c.why.hdr)
		}
	}
}

// TestNoteReason: the first BYE or CANCEL's Reason is kept and relayed;
// without one the call ends with normal clearing.
func TestNoteReason(t *testing.T) {
	bye := func(reason string) *sip.Request {
		r := sip.NewRequest(sip.BYE, sip.Uri{Scheme: "sip", Host: "example.com"})
		if reason != "" {
			r.AppendHeader(sip.NewHeader("Reason", reason))
		}
		return r
	}
	c := &Call{}
	c.noteReason(cdr.HangupCaller, bye(""))
	if c.why != normalClearing || c.endingReason() != `Q.850;cause=16;text="Normal call clearing"` {
		t.Errorf("no Reason: %+v", c.why)
	}
	c = &Call{}
	c.noteReason(cdr.HangupCallee, bye(`Q.850;cause=27;text="Destination out of order"`))
	c.noteReason(cdr.HangupCaller, bye(`Q.850;cause=16`))
	if c.why.q850 != 27 || c.why.side != cdr.HangupCallee || !strings.Contains(c.why.hdr, "cause=27") {
		t.Errorf("relayed: %+v", c.why)
	}
	c = &Call{}
	c.noteReason(cdr.HangupCaller, bye(`Q.850;cause=`))
	if c.why != normalClearing {
		t.Errorf("malformed Reason not ignored: %+v", c.why)
	}
	won, lost := &Leg{}, &Leg{}
	c.b = won
	if c.cancelReason(&outTx{}) != completedElsewhere || c.byeReason(lost) != completedElsewhere || c.byeReason(won) == completedElsewhere {
		t.Error("a losing fork's CANCEL or BYE is not completed elsewhere")
	}
}
