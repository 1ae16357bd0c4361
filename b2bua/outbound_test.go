package b2bua

import (
	"testing"
	"time"
)

// TestFlowSilent: a flow is dead once neither a REGISTER nor a keep-alive
// came within Flow-Timer + grace (RFC 5626 §4.4.1); a keep-alive after the
// REGISTER keeps it alive; keep-alives are remembered per transport and
// remote address.
func TestFlowSilent(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limit := 130 * time.Second
	var k flowKeepalives
	if flowSilent(t0, k.at("TCP", "192.0.2.1:4000"), t0.Add(100*time.Second), limit) {
		t.Error("dead 100 s after its REGISTER")
	}
	if !flowSilent(t0, k.at("TCP", "192.0.2.1:4000"), t0.Add(131*time.Second), limit) {
		t.Error("alive 131 s after its REGISTER without keep-alive")
	}
	k.heard("tcp", "192.0.2.1:4000", t0.Add(100*time.Second))
	if flowSilent(t0, k.at("TCP", "192.0.2.1:4000"), t0.Add(131*time.Second), limit) {
		t.Error("dead 31 s after a keep-alive")
	}
	if !flowSilent(t0, k.at("TLS", "192.0.2.1:4000"), t0.Add(131*time.Second), limit) {
		t.Error("a TCP keep-alive kept a TLS flow alive")
	}
	if !flowSilent(t0, k.at("TCP", "192.0.2.1:4000"), t0.Add(231*time.Second), limit) {
		t.Error("alive 131 s after its last keep-alive")
	}
}
