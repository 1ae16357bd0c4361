package registrar

import "testing"

// TestDropConnection: a browser's bindings over WebSocket end with the
// connection they came on, and only those; they are not restored at start.
func TestDropConnection(t *testing.T) {
	f := newFixture(t)
	f.do(reg{user: "1000", network: "WS", source: "127.0.0.1:40001", contacts: []string{"<sip:abc@df7jal23ls0d.invalid;transport=ws>"}})
	f.do(reg{user: "1000", callID: "c2", network: "WSS", source: "127.0.0.1:40002", contacts: []string{"<sip:xyz@k2j3h4.invalid;transport=ws>"}})
	f.do(reg{user: "1001", source: "127.0.0.1:40001", contacts: []string{"<sip:1001@192.0.2.20>"}}) // UDP, same address
	bs := f.r.Lookup("1000")
	if len(bs) != 2 || !bs[0].ConnectionBound() || !bs[1].ConnectionBound() {
		t.Fatalf("bindings %+v", bs)
	}
	if n := f.r.DropConnection("WS", "127.0.0.1:40009"); n != 0 {
		t.Fatalf("dropped %d for another connection", n)
	}
	if n := f.r.DropConnection("WS", "127.0.0.1:40001"); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	if bs := f.r.Lookup("1000"); len(bs) != 1 || bs[0].Transport != "WSS" {
		t.Fatalf("after close: %+v", bs)
	}
	if bs := f.r.Lookup("1001"); len(bs) != 1 || bs[0].ConnectionBound() {
		t.Fatalf("a UDP binding went with a WebSocket: %+v", bs)
	}
	// A restart keeps the UDP binding only: the connection is gone.
	if err := f.r.Close(); err != nil {
		t.Fatal(err)
	}
	f.open()
	if bs := f.r.Lookup("1000"); len(bs) != 0 {
		t.Errorf("connection-bound binding restored: %+v", bs)
	}
	if bs := f.r.Lookup("1001"); len(bs) != 1 {
		t.Errorf("UDP binding lost: %+v", bs)
	}
}
