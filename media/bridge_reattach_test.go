package media

import (
	"net/netip"
	"testing"
)

// TestBridgeReattach: a terminal started on one of a bridge's endpoints
// takes its RTP; after the terminal stops, Reattach gives both endpoints
// back to the bridge (a fax gateway on a leg, b2bua/fax_gateway.go).
func TestBridgeReattach(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	c := newCall(t, newTestEngine(t, addr, 4, nil), addr)
	c.br.Reattach() // before Start: nothing
	if c.a.rx.Load() != nil {
		t.Fatal("Reattach before Start attached the bridge")
	}
	c.br.Start(nil)
	term := NewTerminal(c.b, testLogger(t))
	term.Start(nil)
	c.a.SetHandler(nil)
	if c.b.rx.Load() == c.br.ba || c.a.rx.Load() != nil {
		t.Fatal("the terminal and SetHandler(nil) did not take the endpoints")
	}
	term.Stop()
	c.br.Reattach()
	if c.a.rx.Load() != c.br.ab || c.b.rx.Load() != c.br.ba {
		t.Fatal("Reattach did not give the bridge its endpoints back")
	}
	c.br.Stop()
	c.br.Reattach() // after Stop: nothing
	if c.a.rx.Load() != nil || c.b.rx.Load() != nil {
		t.Fatal("Reattach after Stop attached the bridge")
	}
}
