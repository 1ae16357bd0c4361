package b2bua

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// queuedConn is a wrapped listener and a peer socket aimed at it.
func queuedConn(t testing.TB, measure *atomic.Int64) (*rawUDPConn, net.PacketConn, net.Addr) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	_ = pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	c := newRawUDPConn(pc).(*rawUDPConn)
	if measure != nil && !c.measureQueue(measure) {
		t.Fatal("SO_TIMESTAMPNS refused")
	}
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return c, peer, pc.LocalAddr()
}

// TestRawUDPConnQueueDelay: with measureQueue, reads still give the data
// and the sender, and datagrams that waited in the queue publish their
// standing delay when a window ends; a drained queue publishes 0.
func TestRawUDPConnQueueDelay(t *testing.T) {
	var standing atomic.Int64
	c, peer, dst := queuedConn(t, &standing)
	// The kernel turns receive timestamps on for the whole system through
	// deferred work (the netstamp static key): until that ran, a datagram
	// is stamped when it is read, not when it arrived, so its delay looks
	// like zero. Wait until a datagram that waited shows it waited.
	buf := make([]byte, 1500)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := peer.WriteTo([]byte("warm"), dst); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		c.qw.start = time.Now().UnixNano() // the read below stays in this window
		c.qw.min = 1 << 62
		if _, _, err := c.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
		if c.qw.min >= int64(10*time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("receive timestamps never took effect (last delay %v)", time.Duration(c.qw.min))
		}
	}
	c.qw = queueWindow{}
	for i := 0; i < 3; i++ {
		if _, err := peer.WriteTo([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), dst); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(150 * time.Millisecond) // they wait in the queue
	for i := 0; i < 3; i++ {
		n, from, err := c.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "OPTIONS sip:x SIP/2.0\r\n\r\n" || from.String() != peer.LocalAddr().String() {
			t.Fatalf("read %q from %v: %v", buf[:n], from, err)
		}
	}
	// The window started at the first read (the zero start is long past):
	// the next window's first read publishes the least delay of this one.
	time.Sleep(time.Duration(queueInterval))
	if _, err := peer.WriteTo([]byte("x"), dst); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // queued before the read: no EAGAIN, which would mean an empty queue
	_, _, _ = c.ReadFrom(buf)
	if got := time.Duration(standing.Load()); got < 100*time.Millisecond {
		t.Fatalf("standing delay %v after datagrams waited 150 ms", got)
	}
}

func benchRead(b *testing.B, measure bool) {
	var standing atomic.Int64
	var m *atomic.Int64
	if measure {
		m = &standing
	}
	c, peer, dst := queuedConn(b, m)
	msg := []byte(normalInvite)
	buf := make([]byte, 65535)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := peer.WriteTo(msg, dst); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawUDPRead is one send and one read of an INVITE on loopback,
// with and without the queue delay measure (recvmsg with SO_TIMESTAMPNS
// instead of recvfrom).
func BenchmarkRawUDPRead(b *testing.B) {
	b.Run("recvfrom", func(b *testing.B) { benchRead(b, false) })
	b.Run("timestamped", func(b *testing.B) { benchRead(b, true) })
}
