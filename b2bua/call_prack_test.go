package b2bua

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestParseRAck(t *testing.T) {
	for _, tc := range []struct {
		hdr        string
		rseq, cseq uint32
		method     string
		ok         bool
	}{
		{"776656 1 INVITE", 776656, 1, "INVITE", true},
		{"  5   2 invite ", 5, 2, "INVITE", true},
		{"0 1 INVITE", 0, 0, "", false},
		{"1 INVITE", 0, 0, "", false},
		{"x 1 INVITE", 0, 0, "", false},
		{"", 0, 0, "", false},
	} {
		req := sip.NewRequest(sip.PRACK, sip.Uri{Scheme: "sip", Host: "example.com"})
		if tc.hdr != "" {
			req.AppendHeader(sip.NewHeader("RAck", tc.hdr))
		}
		rseq, cseq, method, ok := parseRAck(req)
		if ok != tc.ok || rseq != tc.rseq || cseq != tc.cseq || method != tc.method {
			t.Errorf("RAck %q: %d %d %q %v", tc.hdr, rseq, cseq, method, ok)
		}
	}
}

func TestRelOf(t *testing.T) {
	for _, tc := range []struct {
		hdrs []string // name, value pairs
		want relState
	}{
		{nil, relNone},
		{[]string{"Supported", "timer, replaces"}, relNone},
		{[]string{"Supported", "timer, 100rel"}, relSupported},
		{[]string{"k", "100REL"}, relSupported},
		{[]string{"Supported", "100rel", "Require", "100rel"}, relRequired},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "example.com"})
		for i := 0; i < len(tc.hdrs); i += 2 {
			req.AppendHeader(sip.NewHeader(tc.hdrs[i], tc.hdrs[i+1]))
		}
		if got := relOf(req); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.hdrs, got, tc.want)
		}
	}
}
