package media

import (
	"bytes"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// call is two endpoints bridged, with a phone on each side.
type call struct {
	e      *Engine
	a, b   *Endpoint
	pa, pb *peer
	br     *Bridge
	// seal, when set, is what peer a does to a packet before sending it
	// (SRTP protect); open what peer b does to one it reads.
	seal func([]byte) []byte
	open func([]byte) bool
}

func newCall(t *testing.T, e *Engine, addr netip.Addr) *call {
	t.Helper()
	c := &call{e: e, a: newTestEndpoint(t, e), b: newTestEndpoint(t, e), pa: newPeer(t, addr), pb: newPeer(t, addr)}
	c.a.SetRemote(c.pa.addr())
	c.b.SetRemote(c.pb.addr())
	c.br = NewBridge(c.a, c.b, testLogger(t))
	t.Cleanup(c.br.Stop)
	return c
}

func loopbacks(t *testing.T) []netip.Addr {
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	if p, err := netip.ParseAddr("::1"); err == nil {
		if c, err := newPeerOK(p); err == nil {
			c.Close()
			addrs = append(addrs, p)
		} else {
			t.Logf("skipping IPv6: %v", err)
		}
	}
	return addrs
}

func TestRelayBothWays(t *testing.T) {
	for _, addr := range loopbacks(t) {
		t.Run(addr.String(), func(t *testing.T) {
			e := newTestEngine(t, addr, 2, nil)
			c := newCall(t, e, addr)
			// Leg a uses 101 for telephone-event, leg b 96.
			c.br.SetPayloadMap(c.a, PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}, 101: {PT: 96, Name: "telephone-event", Clock: 8000}})
			c.br.SetPayloadMap(c.b, PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}, 96: {PT: 101, Name: "telephone-event", Clock: 8000}})
			var rtcpHook atomic.Int64
			c.a.SetRTCPHandler(func(pkt []byte, from netip.AddrPort) {
				if from == c.pa.addr() {
					rtcpHook.Add(1)
				}
			})
			c.br.Start(nil)

			steps := []struct {
				from       *peer
				to         *Endpoint
				sink       *peer
				inPT       uint8
				wantPT     uint8
				dropBefore uint8 // an unmapped PT sent first, 0 for none
			}{
				{c.pa, c.a, c.pb, 0, 0, 0},
				{c.pa, c.a, c.pb, 101, 96, 8},
				{c.pb, c.b, c.pa, 96, 101, 0},
				{c.pb, c.b, c.pa, 0, 0, 101},
			}
			ssrcs := map[*peer]uint32{}
			for i, st := range steps {
				if st.dropBefore != 0 {
					st.from.send(st.to.Local(), rtpPacket(st.dropBefore, uint16(i), 0, 0xdead, false))
				}
				sent := rtpPacket(st.inPT, uint16(100+i), uint32(160*i), 0xabc0+uint32(i), false)
				st.from.send(st.to.Local(), sent)
				h, got := st.sink.recvRTP()
				if h.PT != st.wantPT {
					t.Errorf("step %d: PT %d, want %d", i, h.PT, st.wantPT)
				}
				if !bytes.Equal(got[12:], sent[12:]) {
					t.Errorf("step %d: payload %x, want %x", i, got[12:], sent[12:])
				}
				if h.SSRC == 0xabc0+uint32(i) {
					t.Errorf("step %d: incoming SSRC leaked", i)
				}
				if prev, ok := ssrcs[st.sink]; ok && prev != h.SSRC {
					t.Errorf("step %d: SSRC changed %x -> %x", i, prev, h.SSRC)
				}
				ssrcs[st.sink] = h.SSRC
			}
			if ssrcs[c.pa] == ssrcs[c.pb] {
				t.Errorf("both directions use SSRC %x", ssrcs[c.pa])
			}

			// RTCP is read and counted, never forwarded.
			rtcp := []byte{0x81, 201, 0, 1, 0, 0, 0, 1}
			c.pa.send(netip.AddrPortFrom(c.a.Local().Addr(), c.a.Local().Port()+1), rtcp)
			c.pa.send(c.a.Local(), rtpPacket(0, 200, 0, 1, false))
			if h, _ := c.pb.recvRTP(); h.PT != 0 {
				t.Errorf("after RTCP got PT %d", h.PT)
			}
			// Counters are bumped after the write that the peer has seen;
			// RTCP is counted before its hook runs.
			eventually(t, func() bool {
				sa, sb := c.a.Stats(), c.b.Stats()
				return sa.RTCPIn == 1 && sa.PacketsOut == 2 && sb.PacketsOut == 3 && rtcpHook.Load() == 1
			})
			sa, sb := c.a.Stats(), c.b.Stats()
			want := []struct {
				name      string
				got, want uint64
			}{
				{"a.PacketsIn", sa.PacketsIn, 4},
				{"a.DroppedPT", sa.DroppedPT, 1},
				{"b.PacketsOut", sb.PacketsOut, 3},
				{"b.PacketsIn", sb.PacketsIn, 3},
				{"b.DroppedPT", sb.DroppedPT, 1},
				{"a.PacketsOut", sa.PacketsOut, 2},
				{"a.BytesOut", sa.BytesOut, 32},
				{"a.RTCPIn", sa.RTCPIn, 1},
				{"a.RTCPBytesIn", sa.RTCPBytesIn, 8},
				{"rtcp hook", uint64(rtcpHook.Load()), 1},
			}
			for _, w := range want {
				if w.got != w.want {
					t.Errorf("%s = %d, want %d", w.name, w.got, w.want)
				}
			}
		})
	}
}

// TestContinuityAcrossSourceChange switches the incoming stream twice (new
// SSRC on the same address, then a new device after a re-INVITE) and checks
// that the outgoing stream stays one stream.
func TestContinuityAcrossSourceChange(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	clock := newFakeClock()
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Now = clock.Now })
	c := newCall(t, e, addr)
	c.br.SetPayloadMap(c.a, PayloadMap{8: {PT: 8, Name: "PCMA", Clock: 8000}})
	c.br.Start(nil)

	type sent struct {
		from  *peer
		ssrc  uint32
		seq   uint16
		ts    uint32
		after time.Duration // clock advance before sending
	}
	pa2 := newPeer(t, addr)
	var plan []sent
	for i := range 5 {
		plan = append(plan, sent{c.pa, 0x1111, uint16(60000 + i), uint32(1_000_000 + 160*i), 20 * time.Millisecond})
	}
	for i := range 3 { // new SSRC, 500 ms later, unrelated seq/ts
		gap := 20 * time.Millisecond
		if i == 0 {
			gap = 500 * time.Millisecond
		}
		plan = append(plan, sent{c.pa, 0x2222, uint16(7 + i), uint32(42 + 160*i), gap})
	}
	const reinvite = 8
	for i := range 3 { // new device after a re-INVITE, 1 s later
		gap := 20 * time.Millisecond
		if i == 0 {
			gap = time.Second
		}
		plan = append(plan, sent{pa2, 0x3333, uint16(30000 + i), uint32(3_000_000_000 + 160*i), gap})
	}

	var first rtp.Header
	var prev rtp.Header
	for i, p := range plan {
		if i == reinvite {
			c.a.SetRemote(pa2.addr())
		}
		clock.Advance(p.after)
		p.from.send(c.a.Local(), rtpPacket(8, p.seq, p.ts, p.ssrc, false))
		h, _ := c.pb.recvRTP()
		if i == 0 {
			first, prev = h, h
			if !h.Marker {
				t.Errorf("first packet without marker")
			}
			continue
		}
		change := plan[i-1].ssrc != p.ssrc
		wantTS := prev.TS + 160
		if change {
			wantTS = prev.TS + uint32(p.after/time.Millisecond)*8
		}
		if h.SSRC != first.SSRC {
			t.Errorf("packet %d: SSRC %x, want %x", i, h.SSRC, first.SSRC)
		}
		if h.Seq != prev.Seq+1 {
			t.Errorf("packet %d: seq %d, want %d", i, h.Seq, prev.Seq+1)
		}
		if h.TS != wantTS {
			t.Errorf("packet %d: ts %d, want %d (change=%v)", i, h.TS, wantTS, change)
		}
		if h.Marker != change {
			t.Errorf("packet %d: marker %v, want %v", i, h.Marker, change)
		}
		prev = h
	}
	eventually(t, func() bool { return c.a.Stats().SourceChanges == 2 })
	if got := c.a.Stats().SourceChanges; got != 2 {
		t.Errorf("source changes = %d, want 2", got)
	}
}

// TestInactivity drives the sweeper with a fake clock.
func TestInactivity(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	const limit = 100 * time.Millisecond
	type step struct {
		advance time.Duration
		packet  bool // a packet from leg b's phone (after advancing)
		pause   int  // 1 pause, -1 resume
		rtcpA   bool // RTCP from leg a's phone (its arrival time, as the RTCP reader stamps it)
		fired   bool // expected state after sweeping
	}
	tests := []struct {
		name   string
		steps  []step
		reason string
	}{
		{"silent call times out", []step{{advance: 99 * time.Millisecond}, {advance: time.Millisecond, fired: true}}, ReasonRTPTimeout},
		{"a dead peer ends the call while the other streams", []step{
			{advance: 90 * time.Millisecond, packet: true},
			{advance: 9 * time.Millisecond, packet: true},
			{advance: time.Millisecond, packet: true, fired: true},
		}, ReasonRTPTimeoutA},
		{"RTCP keeps a leg without RTP alive", []step{
			{advance: 90 * time.Millisecond, packet: true, rtcpA: true},
			{advance: 90 * time.Millisecond, packet: true, rtcpA: true},
			{advance: 90 * time.Millisecond, packet: true},
			{advance: 9 * time.Millisecond, packet: true},
			{advance: time.Millisecond, packet: true, fired: true},
		}, ReasonRTPTimeoutA},
		{"a silent b leg is named", []step{
			{advance: 90 * time.Millisecond, rtcpA: true},
			{advance: 10 * time.Millisecond, fired: true},
		}, ReasonRTPTimeoutB},
		{"pause suppresses, resume restarts the period", []step{
			{advance: 50 * time.Millisecond, pause: 1},
			{advance: 10 * time.Second},
			{advance: time.Second, pause: -1},
			{advance: 99 * time.Millisecond},
			{advance: time.Millisecond, fired: true},
		}, ReasonRTPTimeout},
		{"fires once", []step{{advance: time.Second, fired: true}, {advance: time.Second, fired: true}}, ReasonRTPTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			e := newTestEngine(t, addr, 2, func(c *Config) { c.Now = clock.Now; c.Inactivity = limit })
			c := newCall(t, e, addr)
			var calls atomic.Int32
			reasons := make(chan string, 4)
			c.br.Start(func(reason string) { calls.Add(1); reasons <- reason })
			seq := uint16(0)
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				switch st.pause {
				case 1:
					c.br.Pause(true)
				case -1:
					c.br.Pause(false)
				}
				if st.rtcpA {
					c.a.lastRTCP.Store(clock.Now().UnixNano())
				}
				if st.packet {
					seq++
					c.pb.send(c.b.Local(), rtpPacket(0, seq, uint32(seq)*160, 9, false))
					c.pa.recv() // relayed, so the reader has stamped it
				}
				e.sweep(clock.Now())
				want := int32(0)
				if st.fired {
					want = 1
				}
				for deadline := time.Now().Add(5 * time.Second); calls.Load() < want && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				if n := calls.Load(); n != want {
					t.Fatalf("step %d: callback ran %d times, want %d", i, n, want)
				}
			}
			if r := <-reasons; r != tt.reason {
				t.Errorf("reason %q, want %q", r, tt.reason)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("callback ran %d times", n)
			}
		})
	}
}

// TestInactivityRealClock checks that the engine's own sweeper fires.
func TestInactivityRealClock(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Inactivity = 50 * time.Millisecond })
	c := newCall(t, e, addr)
	fired := make(chan string, 1)
	c.br.Start(func(reason string) { fired <- reason })
	select {
	case r := <-fired:
		if r != ReasonRTPTimeout {
			t.Errorf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sweeper did not fire")
	}
}

func TestBridgeStop(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	clock := newFakeClock()
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Now = clock.Now; c.Inactivity = time.Second })
	c := newCall(t, e, addr)
	var fired atomic.Int32
	c.br.Start(func(string) { fired.Add(1) })
	c.pa.send(c.a.Local(), rtpPacket(0, 1, 0, 1, false))
	c.pb.recv()
	c.br.Stop()
	c.pa.send(c.a.Local(), rtpPacket(0, 2, 160, 1, false))
	if pkt, ok := c.pb.recvWithin(100 * time.Millisecond); ok {
		t.Errorf("relayed after Stop: %x", pkt)
	}
	clock.Advance(time.Hour)
	e.sweep(clock.Now())
	if fired.Load() != 0 {
		t.Error("timeout fired after Stop")
	}
	// The endpoints survive the bridge and can be bridged again.
	br2 := NewBridge(c.a, c.b, testLogger(t))
	br2.Start(nil)
	defer br2.Stop()
	c.pa.send(c.a.Local(), rtpPacket(0, 3, 320, 1, false))
	c.pb.recv()
}

// TestConcurrentControl changes maps, remotes and pause state while packets
// flow, for the race detector.
func TestConcurrentControl(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Inactivity = time.Hour })
	c := newCall(t, e, addr)
	c.br.Start(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 500 {
			c.pa.send(c.a.Local(), rtpPacket(uint8(i%2), uint16(i), uint32(i*160), uint32(i/100), false))
		}
	}()
	maps := []PayloadMap{nil, {0: {PT: 0, Clock: 8000}}, {0: {PT: 8, Clock: 8000}, 1: {PT: 1, Clock: 16000}}}
	for i := 0; ; i++ {
		select {
		case <-done:
			eventually(t, func() bool { return c.b.Stats().PacketsOut > 0 })
			if c.b.Stats().PacketsOut == 0 {
				t.Error("nothing relayed")
			}
			return
		default:
		}
		c.br.SetPayloadMap(c.a, maps[i%len(maps)])
		c.br.Pause(i%2 == 0)
		c.b.SetRemote(c.pb.addr())
		_ = c.a.Stats()
		if i > 100000 {
			t.Fatal("sender did not finish")
		}
		time.Sleep(10 * time.Microsecond)
	}
}
