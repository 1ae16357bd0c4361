package b2bua

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestSessionExpires(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		secs        int
		refresher   string
		ok          bool
	}{
		{"Session-Expires", "90;refresher=uac", 90, "uac", true},
		{"Session-Expires", " 1800 ", 1800, "", true},
		{"x", "600 ; Refresher = UAS", 600, "uas", true},
		{"Session-Expires", "abc", 0, "", false},
		{"Session-Expires", "0", 0, "", false},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
		req.AppendHeader(sip.NewHeader(tc.name, tc.value))
		secs, r, ok := sessionExpires(req)
		if secs != tc.secs || r != tc.refresher || ok != tc.ok {
			t.Errorf("%s: %s: %d %q %v", tc.name, tc.value, secs, r, ok)
		}
	}
}

// TestSessionAnswerA: the caller's interval and refresher, the defaults
// (1800 s, 90 s) bounding them, and who refreshes a caller without
// timer support (RFC 4028 §9).
func TestSessionAnswerA(t *testing.T) {
	for _, tc := range []struct {
		hdrs      []string
		want      string // Session-Expires in the 2xx ("" none)
		require   bool
		weRefresh bool
	}{
		{[]string{"Supported", "timer", "Session-Expires", "90;refresher=uac"}, "90;refresher=uac", true, false},
		{[]string{"Supported", "timer", "Session-Expires", "3600;refresher=uas"}, "1800;refresher=uas", true, true},
		{[]string{"Supported", "timer", "Session-Expires", "100", "Min-SE", "120"}, "120;refresher=uac", true, false},
		{[]string{"Supported", "timer"}, "1800;refresher=uac", true, false},
		{[]string{"Session-Expires", "300;refresher=uac"}, "300;refresher=uas", false, true},
		{nil, "", false, false},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
		for i := 0; i < len(tc.hdrs); i += 2 {
			req.AppendHeader(sip.NewHeader(tc.hdrs[i], tc.hdrs[i+1]))
		}
		c := &Call{host: &Server{}, aReq: req, a: &Leg{Name: "a"}}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		c.sessionAnswerA(res)
		c.disarm(timerSessionA)
		got := ""
		if h := res.GetHeader("Session-Expires"); h != nil {
			got = h.Value()
		}
		if got != tc.want || hasOptionTag(res, "Require", "timer") != tc.require || c.sessA.weRefresh != tc.weRefresh {
			t.Errorf("%v: Session-Expires %q require %v we refresh %v, want %q %v %v", tc.hdrs, got,
				hasOptionTag(res, "Require", "timer"), c.sessA.weRefresh, tc.want, tc.require, tc.weRefresh)
		}
		if tc.want != "" && c.sessA.interval < 90*time.Second {
			t.Errorf("%v: interval %v", tc.hdrs, c.sessA.interval)
		}
	}
}
