package media

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// BenchmarkRelayPacket measures one packet through the whole relay over
// loopback, in lockstep: phone a → socket → reader → parse, latch, PT map,
// rewrite → socket → phone b. allocs/op counts every goroutine, so 0 means
// the reader path allocates nothing.
func BenchmarkRelayPacket(b *testing.B) { benchRelayPacket(b, nil) }

// benchRelayPacket runs BenchmarkRelayPacket on a call that setup (if not
// nil) prepares further.
func benchRelayPacket(b *testing.B, setup func(*call)) {
	benchRelay(b, setup, append(rtpPacket(0, 0, 0, 0x1234, false)[:12], make([]byte, 160)...), func(i int) uint32 { return uint32(i * 160) })
}

// benchRelay is benchRelayPacket's loop for any packet: pkt is sent with
// sequence number i and timestamp ts(i).
func benchRelay(b *testing.B, setup func(*call), pkt []byte, ts func(i int) uint32) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(b, addr, 2, nil)
	c := newBenchCall(b, e, addr)
	if setup != nil {
		setup(c)
	}
	dst := c.a.Local()
	buf := make([]byte, 2048)
	send := func(i int) {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], ts(i))
		wire := pkt
		if c.seal != nil {
			wire = c.seal(pkt)
		}
		if _, err := c.pa.conn.WriteToUDPAddrPort(wire, dst); err != nil {
			b.Fatal(err)
		}
		n, _, err := c.pb.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			b.Fatal(err)
		}
		if c.open != nil && !c.open(buf[:n]) {
			b.Fatal("peer b cannot unprotect what the relay sent")
		}
	}
	for i := range 10 { // latch and warm up
		send(i)
	}
	c.pb.conn.SetReadDeadline(time.Now().Add(time.Minute))
	b.ReportAllocs()
	i := 10
	for b.Loop() {
		send(i)
		i++
	}
	if s := c.b.Stats(); s.PacketsOut < uint64(b.N) {
		b.Fatalf("only %d of %d packets relayed", s.PacketsOut, b.N)
	}
}

// BenchmarkRelayRewrite measures the relay handler alone on the calling
// goroutine: parse, PT map, rewrite and one sendto (the receiver is not
// read, so the kernel drops what overflows its buffer).
func BenchmarkRelayRewrite(b *testing.B) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(b, addr, 2, nil)
	c := newBenchCall(b, e, addr)
	d := c.br.ab
	pkt := append(rtpPacket(0, 0, 0, 0x1234, false)[:12], make([]byte, 160)...)
	for _, send := range []bool{true, false} {
		name := "rewrite+send"
		if !send {
			name = "rewrite-only"
			c.b.SetRemote(netip.AddrPort{}) // hold: everything up to the syscall
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			now := time.Now().UnixNano()
			for b.Loop() {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
				binary.BigEndian.PutUint32(pkt[8:], 0x1234)
				h, ok := rtp.Parse(pkt)
				if !ok {
					b.Fatal("bad packet")
				}
				d.handle(pkt, h, now+int64(i)*20e6)
				i++
			}
		})
	}
}

// BenchmarkBridgeMemory opens calls (two endpoints, a bridge with payload
// maps, started) in batches of 500 and reports the heap and goroutine-stack
// bytes each call holds, measured over a whole batch. ns/op is the cost of
// opening one call.
func BenchmarkBridgeMemory(b *testing.B) {
	const batch = 500
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(b, addr, 2*batch, nil)
	pm := PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}, 101: {PT: 101, Name: "telephone-event", Clock: 8000}}
	remote := netip.MustParseAddrPort("127.0.0.1:9")
	var heap, stack, batches float64
	var before, after runtime.MemStats
	eps := make([]*Endpoint, 0, 2*batch)
	brs := make([]*Bridge, 0, batch)
	closeBatch := func() {
		for _, br := range brs {
			br.Stop()
		}
		for _, ep := range eps {
			ep.Close()
		}
		eps, brs = eps[:0], brs[:0]
		// Close the released pairs too: each batch binds its own and
		// counts their readers and buffers.
		e.closeCold(e.cfg.Now().Add(time.Hour), 0)
	}
	measure := func() {
		runtime.GC()
		runtime.ReadMemStats(&before)
	}
	b.StopTimer()
	measure()
	b.StartTimer()
	for b.Loop() {
		a, err := e.NewEndpoint(nil)
		if err != nil {
			b.Fatal(err)
		}
		bb, err := e.NewEndpoint(nil)
		if err != nil {
			b.Fatal(err)
		}
		a.SetRemote(remote)
		bb.SetRemote(remote)
		br := NewBridge(a, bb, nil)
		br.SetPayloadMap(a, pm)
		br.SetPayloadMap(bb, pm)
		br.Start(nil)
		eps = append(eps, a, bb)
		brs = append(brs, br)
		if len(brs) == batch {
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap += float64(after.HeapAlloc-before.HeapAlloc) / batch
			stack += float64(after.StackInuse-before.StackInuse) / batch
			batches++
			closeBatch()
			measure()
			b.StartTimer()
		}
	}
	b.StopTimer()
	closeBatch()
	if batches == 0 {
		b.Logf("fewer than %d calls opened: no memory figure (use -benchtime=%dx or more)", batch, batch)
		return
	}
	b.ReportMetric(heap/batches, "B/call")
	b.ReportMetric(stack/batches, "stack-B/call")
}

func newBenchCall(b *testing.B, e *Engine, addr netip.Addr) *call {
	c := &call{e: e, a: newTestEndpoint(b, e), b: newTestEndpoint(b, e), pa: newPeer(b, addr), pb: newPeer(b, addr)}
	c.a.SetRemote(c.pa.addr())
	c.b.SetRemote(c.pb.addr())
	c.br = NewBridge(c.a, c.b, nil)
	c.br.SetPayloadMap(c.a, PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}})
	c.br.SetPayloadMap(c.b, PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}})
	c.br.Start(nil)
	b.Cleanup(c.br.Stop)
	return c
}

// BenchmarkEndpointOpenClose is the media cost of a call leg's set-up and
// tear-down: NewEndpoint then Close. warm reuses the released pair (the
// steady state of a busy engine); cold closes it every time, so each
// iteration binds two sockets and starts two readers.
func BenchmarkEndpointOpenClose(b *testing.B) {
	for _, warm := range []bool{true, false} {
		name := "cold"
		if warm {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			e := newTestEngine(b, netip.MustParseAddr("127.0.0.1"), 4, nil)
			b.ReportAllocs()
			for b.Loop() {
				ep, err := e.NewEndpoint(nil)
				if err != nil {
					b.Fatal(err)
				}
				ep.Close()
				if !warm {
					e.closeCold(e.cfg.Now().Add(time.Hour), 0)
				}
			}
		})
	}
}
