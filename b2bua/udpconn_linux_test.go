package b2bua

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestRawUDPConn: the raw-syscall listener sends and receives like
// net.UDPConn on IPv4, IPv6 and a dual-stack socket (IPv4 peers seen as
// IPv4), and a read on a closed listener says net.ErrClosed, which is how
// sipgo's read loop knows to stop.
func TestRawUDPConn(t *testing.T) {
	cases := []struct {
		name, listen, peer string
	}{
		{"ipv4", "127.0.0.1:0", "127.0.0.1:0"},
		{"ipv6", "[::1]:0", "[::1]:0"},
		{"dual-stack, IPv4 peer", "[::]:0", "127.0.0.1:0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", tc.listen)
			if err != nil {
				t.Skipf("no %s here: %v", tc.listen, err)
			}
			conn := newRawUDPConn(pc)
			if _, ok := conn.(*rawUDPConn); !ok {
				t.Fatalf("listener not wrapped: %T", conn)
			}
			peer, err := net.ListenPacket("udp", tc.peer)
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			lport := pc.LocalAddr().(*net.UDPAddr).Port
			peerAddr := peer.LocalAddr().(*net.UDPAddr)
			dst := &net.UDPAddr{IP: peerAddr.IP, Port: lport}

			// Peer → listener: ReadFrom gives the data and the peer's address.
			if _, err := peer.WriteTo([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), dst); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1500)
			_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatalf("ReadFrom: %v", err)
			}
			if got := string(buf[:n]); got != "OPTIONS sip:x SIP/2.0\r\n\r\n" {
				t.Errorf("read %q", got)
			}
			ua := from.(*net.UDPAddr)
			if !ua.IP.Equal(peerAddr.IP) || ua.Port != peerAddr.Port {
				t.Errorf("from %v, want %v", from, peerAddr)
			}
			if peerAddr.IP.To4() != nil && ua.String() != peerAddr.String() {
				t.Errorf("IPv4 peer shown as %q, want %q", ua.String(), peerAddr.String())
			}

			// Listener → peer: WriteTo reaches the address ReadFrom gave.
			const answer = "SIP/2.0 200 OK\r\n\r\n"
			if n, err := conn.WriteTo([]byte(answer), from); err != nil || n != len(answer) {
				t.Fatalf("WriteTo: %d, %v", n, err)
			}
			_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, src, err := peer.ReadFrom(buf)
			if err != nil {
				t.Fatalf("peer read: %v", err)
			}
			if string(buf[:n]) != answer || src.(*net.UDPAddr).Port != lport {
				t.Errorf("peer got %q from %v", buf[:n], src)
			}

			// A read waiting on a listener that closes ends with ErrClosed.
			errc := make(chan error, 1)
			_ = pc.SetReadDeadline(time.Time{})
			go func() { _, _, err := conn.ReadFrom(buf); errc <- err }()
			time.Sleep(20 * time.Millisecond)
			_ = conn.Close()
			select {
			case err := <-errc:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("read on closed listener: %v, want net.ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("read did not return after Close")
			}
			if _, err := conn.WriteTo([]byte("x"), from); err == nil {
				t.Error("write on closed listener succeeded")
			}
		})
	}
}
