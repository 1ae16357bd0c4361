package media

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestLatching walks one endpoint through the latching policy of doc.go.
// Leg a's phone is behind NAT: its SDP says sdp, its packets come from nat.
// Where a's packets go is observed at the sockets, and a rejected packet is
// proven dropped by the next accepted one arriving first.
func TestLatching(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 2, nil) // LatchPackets defaults to 3
	c := newCall(t, e, addr)            // c.pa is the SDP address of a
	c.br.SetPayloadMap(c.a, PayloadMap{0: {PT: 0, Clock: 8000}})
	c.br.Start(nil)
	sdp, nat, stray, rebind, moved := c.pa, newPeer(t, addr), newPeer(t, addr), newPeer(t, addr), newPeer(t, addr)

	seq := uint16(0)
	// toA sends a packet into a; relayed says whether pb must receive it.
	toA := func(from *peer, pt uint8, relayed bool) {
		t.Helper()
		seq++
		from.send(c.a.Local(), rtpPacket(pt, seq, uint32(seq)*160, 0x77, false))
		if relayed {
			if h, _ := c.pb.recvRTP(); h.PT != pt || h.Size != 12 {
				t.Fatalf("pb got pt %d", h.PT)
			}
		}
	}
	// fromB sends a packet from b's phone and checks which socket gets it.
	fromB := func(want *peer) {
		t.Helper()
		seq++
		c.pb.send(c.b.Local(), rtpPacket(0, seq, uint32(seq)*160, 0x99, false))
		want.recv()
		if got, _ := c.a.Remote(); got != want.addr() {
			t.Fatalf("a sends to %s, want %s", got, want.addr())
		}
	}
	// sync proves that everything sent to a so far has been processed.
	sync := func(from *peer) { t.Helper(); toA(from, 0, true) }

	fromB(sdp) // nothing received yet: the SDP address
	toA(nat, 0, true)
	toA(nat, 0, true) // before the first latch every source is relayed
	fromB(sdp)        // two packets do not latch
	toA(nat, 0, true)
	fromB(nat) // the third does
	if got := c.a.Stats().Latches; got != 1 {
		t.Fatalf("Latches = %d, want 1", got)
	}

	toA(stray, 0, false) // a single stray packet is dropped...
	sync(nat)
	fromB(nat) // ...and does not move the latch

	toA(stray, 0, false)
	toA(stray, 0, false)
	toA(nat, 0, true) // the latched source interrupts the candidate
	toA(stray, 0, false)
	toA(stray, 0, false)
	sync(nat)
	fromB(nat)
	toA(stray, 8, false) // unmapped PTs never count towards a latch
	toA(stray, 0, false)
	toA(stray, 8, false)
	toA(stray, 0, false)
	sync(nat)
	fromB(nat)
	if got := c.a.Stats().Rejected; got != 9 {
		t.Errorf("Rejected = %d, want 9", got)
	}

	toA(rebind, 0, false) // NAT rebinding: the old address falls silent
	toA(rebind, 0, false)
	toA(rebind, 0, true) // third consecutive packet re-latches and is relayed
	fromB(rebind)
	toA(nat, 0, false) // the old address is now the stranger
	sync(rebind)

	// Hold (c=0.0.0.0) sends nothing but keeps the latch.
	c.a.SetRemote(netip.MustParseAddrPort("0.0.0.0:0"))
	seq++
	c.pb.send(c.b.Local(), rtpPacket(0, seq, 0, 0x99, false))
	eventually(t, func() bool { return c.a.Stats().NoDestination == 1 })
	if got := c.a.Stats().NoDestination; got != 1 {
		t.Fatalf("NoDestination = %d, want 1", got)
	}
	c.a.SetRemote(sdp.addr())
	fromB(rebind)

	// A re-INVITE to another address drops the latch: the new SDP address
	// is used, and any source is accepted until the next latch.
	c.a.SetRemote(moved.addr())
	fromB(moved)
	toA(stray, 0, true)
	fromB(moved)
	if got := c.a.Stats().Latches; got != 2 {
		t.Errorf("Latches = %d, want 2", got)
	}
}

// TestLatchBeforeSDP covers a packet stream arriving before SetRemote: the
// latch it forms is kept when the SDP address arrives.
func TestLatchBeforeSDP(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 1, func(c *Config) { c.LatchPackets = 1 })
	ep := newTestEndpoint(t, e)
	if _, ok := ep.Remote(); ok {
		t.Fatal("destination before SetRemote")
	}
	p := newPeer(t, addr)
	p.send(ep.Local(), rtpPacket(0, 1, 0, 1, false))
	eventually(t, func() bool { return ep.Stats().Latches == 1 })
	ep.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"))
	if got, ok := ep.Remote(); !ok || got != p.addr() {
		t.Errorf("Remote() = %s %v, want latched %s", got, ok, p.addr())
	}
}

func TestEndpointCounters(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 1, nil)
	ep := newTestEndpoint(t, e)
	p := newPeer(t, addr)
	// RFC 7983 first bytes: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP; the
	// rest (here 64: RTP version 1) is invalid, as is a 12-byte RTP
	// header whose CSRC count runs past the end.
	stun := append([]byte{0, 1, 0, 0}, make([]byte, 16)...)
	dtls := []byte{22, 254, 253, 0, 0}
	for _, pkt := range [][]byte{{0x40, 2, 3}, {0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, stun, dtls, rtpPacket(0, 1, 0, 1, false)} {
		p.send(ep.Local(), pkt)
	}
	eventually(t, func() bool {
		s := ep.Stats()
		return s.Invalid == 2 && s.PacketsIn == 1 && s.STUNIn == 1 && s.DTLSIn == 1
	})
	if s := ep.Stats(); s.Invalid != 2 || s.PacketsIn != 1 || s.BytesIn != 16 || s.STUNIn != 1 || s.DTLSIn != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestPortPool(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type op struct {
		take    bool // else release
		port    int  // taken (0: want exhaustion) or released
		open    bool // release: the sockets stay open; take: want a warm port
		advance time.Duration
		cool    time.Duration // > 0: cool ports warm for longer, wantCooled of them
		cooled  []int
	}
	tests := []struct {
		name       string
		lo, hi     int
		quarantine time.Duration
		ops        []op
	}{
		{"odd max drops the last port", 1000, 1004, time.Second, []op{
			{take: true, port: 1000}, {take: true, port: 1002}, {take: true, port: 0},
		}},
		{"quarantine holds a port back", 1000, 1003, time.Second, []op{
			{take: true, port: 1000}, {take: true, port: 1002},
			{port: 1000}, {take: true, port: 0},
			{advance: 999 * time.Millisecond, take: true, port: 0},
			{advance: time.Millisecond, take: true, port: 1000},
		}},
		{"quarantine holds an open port back", 1000, 1003, time.Second, []op{
			{take: true, port: 1000}, {take: true, port: 1002},
			{port: 1000, open: true}, {take: true, port: 0},
			{advance: 999 * time.Millisecond, take: true, port: 0},
			{advance: time.Millisecond, take: true, port: 1000, open: true},
		}},
		{"FIFO reuse", 1000, 1005, 0, []op{
			{take: true, port: 1000}, {port: 1000}, {take: true, port: 1002}, {take: true, port: 1004}, {take: true, port: 1000},
		}},
		{"warm ports first, FIFO among them", 1000, 1009, time.Second, []op{
			{take: true, port: 1000}, {take: true, port: 1002}, {take: true, port: 1004},
			{port: 1002, open: true}, {port: 1000, open: true}, {port: 1004},
			{advance: time.Second, take: true, port: 1002, open: true},
			{take: true, port: 1000, open: true}, {take: true, port: 1006}, {take: true, port: 1008}, {take: true, port: 1004},
		}},
		{"cooling closes warm ports in order", 1000, 1007, time.Second, []op{
			{take: true, port: 1000}, {take: true, port: 1002}, {take: true, port: 1004},
			{port: 1002, open: true}, {advance: time.Second, port: 1000, open: true}, {port: 1004},
			{advance: time.Second, cool: 500 * time.Millisecond, cooled: []int{1002}},
			{take: true, port: 1000, open: true}, {take: true, port: 1006}, {take: true, port: 1004}, {take: true, port: 1002},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPortPool(tt.lo, tt.hi, tt.quarantine)
			now := t0
			for i, o := range tt.ops {
				now = now.Add(o.advance)
				if o.cool > 0 {
					p.expire(now)
					if got := p.cool(now.Add(-o.cool)); !slices.Equal(got, o.cooled) {
						t.Fatalf("op %d: cooled %v, want %v", i, got, o.cooled)
					}
					continue
				}
				if !o.take {
					p.release(o.port, o.open, now)
					continue
				}
				got, warm, err := p.take(now)
				if o.port == 0 {
					if !errors.Is(err, ErrPortsExhausted) {
						t.Fatalf("op %d: got %d, %v; want exhaustion", i, got, err)
					}
					continue
				}
				if err != nil || got != o.port || warm != o.open {
					t.Fatalf("op %d: got %d (warm %v), %v; want %d (warm %v)", i, got, warm, err, o.port, o.open)
				}
			}
			if n := p.size(); n != (tt.hi-tt.lo+1)/2 {
				t.Errorf("size %d, want %d", n, (tt.hi-tt.lo+1)/2)
			}
		})
	}
}

// TestEnginePorts exercises the pool through real sockets: exhaustion,
// quarantine, skipping ports bound by someone else, release on close.
func TestEnginePorts(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	clock := newFakeClock()
	e := newTestEngine(t, addr, 3, func(c *Config) { c.Now = clock.Now; c.Quarantine = 10 * time.Second })
	lo := e.cfg.PortMin

	// Someone else holds the RTCP port of the first pair.
	other, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(lo+1))))
	if err != nil {
		t.Fatal(err)
	}
	ep1, err := e.NewEndpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(ep1.Local().Port()); got != lo+2 {
		t.Errorf("first endpoint on %d, want %d (skipping %d)", got, lo+2, lo)
	}
	ep2, err := e.NewEndpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(ep2.Local().Port()); got != lo+4 {
		t.Errorf("second endpoint on %d, want %d", got, lo+4)
	}
	if _, err := e.NewEndpoint(nil); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("third endpoint: %v, want ErrPortsExhausted", err)
	}
	other.Close()
	ep3, err := e.NewEndpoint(nil) // the skipped pair is free again
	if err != nil || int(ep3.Local().Port()) != lo {
		t.Fatalf("after the other socket closed: %v, %v", ep3, err)
	}
	if e.Active() != 3 {
		t.Errorf("Active = %d, want 3", e.Active())
	}

	if err := ep1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ep1.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if e.Active() != 2 {
		t.Errorf("Active = %d after close, want 2", e.Active())
	}
	// During quarantine the pair stays bound and drains: a late packet
	// reaches nobody, and no other process can take the port.
	late := newPeer(t, addr)
	late.send(netip.AddrPortFrom(addr, uint16(lo+2)), rtpPacket(0, 1, 160, 0x1234, false))
	eventually(t, func() bool { return ep1.pair.drained.Load() > 0 })
	if st := ep1.Stats(); st.PacketsIn != 0 || st.Invalid != 0 || ep1.pair.drained.Load() != 1 {
		t.Errorf("late packet: closed endpoint %+v, %d drained; want it drained", st, ep1.pair.drained.Load())
	}
	for _, p := range []int{lo + 2, lo + 3} {
		if c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(p)))); err == nil {
			c.Close()
			t.Fatalf("port %d free during quarantine, want it held", p)
		}
	}
	if _, err := e.NewEndpoint(nil); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("during quarantine: %v, want ErrPortsExhausted", err)
	}
	clock.Advance(10 * time.Second)
	ep4, err := e.NewEndpoint(nil)
	if err != nil || int(ep4.Local().Port()) != lo+2 {
		t.Fatalf("after quarantine: %v, %v", ep4, err)
	}
	if ep4.pair != ep1.pair {
		t.Errorf("after quarantine: a new pair, want the warm one reused")
	}

	// A pair left warm for longer than warmKeep is closed: the sockets
	// are really gone.
	if err := ep4.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	e.closeCold(clock.Now(), warmKeep) // quarantine just ended: still warm
	if c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(lo+2)))); err == nil {
		c.Close()
		t.Fatal("warm pair closed at once, want it kept for warmKeep")
	}
	clock.Advance(warmKeep + time.Millisecond)
	e.closeCold(clock.Now(), warmKeep)
	for _, p := range []int{lo + 2, lo + 3} {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(p))))
		if err != nil {
			t.Fatalf("port %d still bound after warmKeep: %v", p, err)
		}
		c.Close()
	}
	ep5, err := e.NewEndpoint(nil) // binds the cold pair again
	if err != nil || int(ep5.Local().Port()) != lo+2 || ep5.pair == ep1.pair {
		t.Fatalf("after cooling: %v, %v", ep5, err)
	}

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.Active() != 0 {
		t.Errorf("Active = %d after engine Close", e.Active())
	}
	if _, err := e.NewEndpoint(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("NewEndpoint after Close: %v", err)
	}
}

func TestConfig(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name string
		cfg  Config
		ok   bool
		want func(Config) bool
	}{
		{"defaults", Config{Bind: lo, PortMin: 20000, PortMax: 20099}, true, func(c Config) bool {
			return c.Advertise == lo && c.Quarantine == DefaultQuarantine && c.Inactivity == 0 &&
				c.LatchPackets == DefaultLatchPackets && c.Now != nil
		}},
		{"odd min rounded up", Config{Bind: lo, PortMin: 20001, PortMax: 20003}, true, func(c Config) bool { return c.PortMin == 20002 }},
		{"negative quarantine disables", Config{Bind: lo, PortMin: 2, PortMax: 3, Quarantine: -1}, true, func(c Config) bool { return c.Quarantine == 0 }},
		{"wildcard bind needs advertise", Config{PortMin: 20000, PortMax: 20001}, false, nil},
		{"wildcard bind with advertise", Config{Advertise: netip.MustParseAddr("203.0.113.1"), PortMin: 20000, PortMax: 20001}, true,
			func(c Config) bool { return c.Bind == netip.IPv4Unspecified() }},
		{"no pair", Config{Bind: lo, PortMin: 20001, PortMax: 20002}, false, nil},
		{"inverted", Config{Bind: lo, PortMin: 20010, PortMax: 20000}, false, nil},
		{"too high", Config{Bind: lo, PortMin: 65534, PortMax: 65536}, false, nil},
		{"short sweep", Config{Bind: lo, PortMin: 2, PortMax: 3, Inactivity: 100 * time.Millisecond}, true,
			func(c Config) bool { return c.sweepInterval() == 25*time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if tt.want != nil && !tt.want(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}
