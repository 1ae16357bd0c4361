package media

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// fakeClock is a goroutine-safe manual clock for Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// freeRange finds an even-based range of 2*pairs consecutive ports that are
// currently free on addr, below the kernel's ephemeral range.
func freeRange(t testing.TB, addr netip.Addr, pairs int) (lo, hi int) {
	t.Helper()
	for range 100 {
		lo = 10000 + 2*rand.IntN(10000)
		hi = lo + 2*pairs - 1
		var conns []*net.UDPConn
		ok := true
		for p := lo; p <= hi; p++ {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(p))))
			if err != nil {
				ok = false
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if ok {
			return lo, hi
		}
	}
	t.Fatalf("no free range of %d port pairs on %s", pairs, addr)
	return 0, 0
}

// newTestEngine starts an engine on addr with a free range of pairs ports.
func newTestEngine(t testing.TB, addr netip.Addr, pairs int, mod func(*Config)) *Engine {
	t.Helper()
	lo, hi := freeRange(t, addr, pairs)
	cfg := Config{Bind: addr, PortMin: lo, PortMax: hi, Quarantine: -1}
	if mod != nil {
		mod(&cfg)
	}
	e, err := NewEngine(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newTestEndpoint(t testing.TB, e *Engine) *Endpoint {
	t.Helper()
	ep, err := e.NewEndpoint(testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

// peer is a UDP socket standing in for a phone.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func newPeer(t testing.TB, addr netip.Addr) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, buf: make([]byte, 2048)}
}

func (p *peer) addr() netip.AddrPort {
	a := p.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (p *peer) send(to netip.AddrPort, pkt []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		p.t.Fatal(err)
	}
}

// recv returns the next packet, failing the test after 5 s.
func (p *peer) recv() []byte {
	p.t.Helper()
	pkt, ok := p.recvWithin(5 * time.Second)
	if !ok {
		p.t.Fatalf("peer %s: nothing received", p.addr())
	}
	return pkt
}

func (p *peer) recvWithin(d time.Duration) ([]byte, bool) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, false
		}
		p.t.Fatal(err)
	}
	return append([]byte(nil), p.buf[:n]...), true
}

// recvRTP receives a packet and parses its header.
func (p *peer) recvRTP() (rtp.Header, []byte) {
	p.t.Helper()
	pkt := p.recv()
	h, ok := rtp.Parse(pkt)
	if !ok {
		p.t.Fatalf("received non-RTP %x", pkt)
	}
	return h, pkt
}

func newPeerOK(addr netip.Addr) (*net.UDPConn, error) {
	return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
}

// eventually polls cond for up to 5 s; the caller then asserts the details.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}
