package b2bua

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
)

func TestWebSocketOriginAllowed(t *testing.T) {
	same := &wsFront{}
	listed := &wsFront{origins: []string{"https://phone.example.com"}}
	for _, c := range []struct {
		f            *wsFront
		origin, host string
		want         bool
	}{
		{same, "http://127.0.0.1:8088", "127.0.0.1:8088", true},
		{same, "https://PBX.example.com:8089", "pbx.example.com:8089", true},
		{same, "http://127.0.0.1:8089", "127.0.0.1:8088", false}, // another port is another origin
		{same, "https://evil.example", "127.0.0.1:8088", false},
		{same, "null", "127.0.0.1:8088", false},
		{listed, "https://phone.example.com", "127.0.0.1:8089", true},
		{listed, "https://127.0.0.1:8089", "127.0.0.1:8089", false},
	} {
		if got := c.f.originAllowed(c.origin, c.host); got != c.want {
			t.Errorf("origin %q host %q (allowed %v): %v, want %v", c.origin, c.host, c.f.origins, got, c.want)
		}
	}
}

func TestHeaderHas(t *testing.T) {
	h := http.Header{}
	h.Add("Sec-WebSocket-Protocol", "chat, SIP")
	h.Add("Connection", "keep-alive, Upgrade")
	if !headerHas(h, "Sec-WebSocket-Protocol", "sip") || !headerHas(h, "Connection", "upgrade") {
		t.Error("token not found")
	}
	if headerHas(h, "Sec-WebSocket-Protocol", "si") || headerHas(h, "Upgrade", "websocket") {
		t.Error("token found that is not there")
	}
}

// TestReplayConn: the handshake bytes come first, then the connection's;
// closing runs the close hook once.
func TestReplayConn(t *testing.T) {
	a, b := net.Pipe()
	closed := make(chan struct{}, 2)
	rc := &replayConn{Conn: a, r: io.MultiReader(bytes.NewReader([]byte("GET /ws HTTP/1.1\r\n\r\n")), a)}
	rc.onClose = func() { closed <- struct{}{} }
	go func() { _, _ = b.Write([]byte("frame")) }()
	buf := make([]byte, 64)
	var got []byte
	for len(got) < len("GET /ws HTTP/1.1\r\n\r\nframe") {
		n, err := rc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "GET /ws HTTP/1.1\r\n\r\nframe" {
		t.Fatalf("read %q", got)
	}
	_ = rc.Close()
	_ = rc.Close()
	<-closed
	select {
	case <-closed:
		t.Fatal("close hook ran twice")
	default:
	}
}
