package b2bua

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/guard"
)

// TestReadFilterRateLimit: on UDP the per-source rate applies in the read
// filter, before parsing: past the burst a source's requests are dropped
// unanswered, its responses still pass, and TCP is left to the handler's
// check (which answers 503 there).
func TestReadFilterRateLimit(t *testing.T) {
	f, log, _ := newTestFilter()
	f.s.sec = guard.New(guard.Config{Rate: guard.RateConfig{Rate: 0.001, Burst: 2}}, nil, guard.NewEvents(&strings.Builder{}, nil))
	passed := 0
	for range 5 {
		if out, _ := f.filter(testUDP, []byte(normalInvite)); len(out) > 0 {
			passed++
		}
	}
	if passed != 2 || f.stats().Limited != 3 || len(log.take()) != 0 {
		t.Fatalf("%d of 5 passed, %d limited, want the burst of 2 and 3 dropped unanswered", passed, f.stats().Limited)
	}
	response := sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:u@b>;tag=2", "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0")
	if out, _ := f.filter(testUDP, []byte(response)); len(out) == 0 {
		t.Fatal("a response of a limited source was dropped")
	}
	tcp := strings.Replace(normalInvite, "/UDP", "/TCP", 1)
	if out, _ := f.filter(testTCP, []byte(tcp)); len(out) == 0 {
		t.Fatal("a TCP request was dropped by the filter")
	}
}
