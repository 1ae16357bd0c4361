//go:build cgo

package media

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// termCall is a terminal on a real endpoint facing a peer on loopback,
// with the playout clock driven by a fake clock.
type termCall struct {
	e    *Engine
	ep   *Endpoint
	peer *peer
	term *Terminal
	clk  *fakeClock
}

func newTermCall(t *testing.T, cfg TerminalConfig) *termCall {
	t.Helper()
	addr := netip.MustParseAddr("127.0.0.1")
	clk := newFakeClock()
	e := newTestEngine(t, addr, 1, func(c *Config) { c.Now = clk.Now; c.LatchPackets = 1 })
	e.playout.manual = true
	tc := &termCall{e: e, ep: newTestEndpoint(t, e), peer: newPeer(t, addr), clk: clk}
	tc.ep.SetRemote(tc.peer.addr())
	tc.term = NewTerminal(tc.ep, testLogger(t))
	t.Cleanup(tc.term.Stop)
	if err := tc.term.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	tc.term.Start(nil)
	return tc
}

// run sends n packets of s (nil: none) and ticks the clock after each,
// decoding what comes back into r.
func (tc *termCall) run(t *testing.T, s *sender, n int, r *receiver) {
	t.Helper()
	sent := tc.ep.Stats().PacketsIn
	for i := range n {
		if s != nil {
			tc.peer.send(tc.ep.Local(), s.next())
			sent++
			eventually(t, func() bool { return tc.ep.Stats().PacketsIn >= sent })
		}
		tc.clk.Advance(PlayoutInterval)
		tc.e.playout.tick(tc.clk.Now())
		if i%5 == 4 {
			r.drain(tc.peer)
		}
	}
	r.drain(tc.peer)
}

// TestTerminalEcho: what the peer sends comes back, decoded and
// re-encoded, at its frequency; a tap sees it on the way.
func TestTerminalEcho(t *testing.T) {
	for _, f := range []LegFormat{fmtPCMU, fmtOpus, fmtG722} {
		t.Run(f.Audio.Name, func(t *testing.T) {
			echo := &Echo{}
			tc := newTermCall(t, TerminalConfig{Format: f, Source: echo})
			tc.term.AddTap(echo)
			meter := NewToneMeter()
			tc.term.AddTap(meter)
			r := newReceiver(t, f)
			s := newSender(t, f, 700)
			tc.run(t, s, 100*int(20*time.Millisecond)/int(s.frameDur()), r)
			sum := r.meter.Summary()
			t.Logf("echoed %d packets: %+v; tap %+v", len(r.hdrs), sum, meter.Summary())
			if len(r.hdrs) < 40 || !near(sum.Frequency, 700, 15) || sum.RecentDBov < -25 {
				t.Fatalf("echo: %d packets, %.0f Hz at %.1f dBov; want 700 Hz", len(r.hdrs), sum.Frequency, sum.RecentDBov)
			}
			if ms := meter.Summary(); !near(ms.Frequency, 700, 15) {
				t.Fatalf("tap: %.0f Hz", ms.Frequency)
			}
			for i, h := range r.hdrs {
				if h.PT != f.Audio.PT || (i > 0 && h.Seq != r.hdrs[i-1].Seq+1) || h.SSRC != r.hdrs[0].SSRC {
					t.Fatalf("packet %d: %+v after %+v", i, h, r.hdrs[max(i-1, 0)])
				}
			}
		})
	}
}

// TestTerminalTone: a tone plays to a peer that sends nothing, and a
// reconfiguration continues the same stream.
func TestTerminalTone(t *testing.T) {
	tc := newTermCall(t, TerminalConfig{Format: fmtPCMU, Source: &Tone{Frequency: 1200}})
	r := newReceiver(t, fmtPCMU)
	tc.run(t, nil, 60, r)
	if err := tc.term.Configure(TerminalConfig{Format: fmtPCMA, Source: &Tone{Frequency: 1200}}); err != nil {
		t.Fatal(err)
	}
	var hdrs []rtp.Header
	hdrs = append(hdrs, r.hdrs...)
	r2 := newReceiver(t, fmtPCMA)
	tc.run(t, nil, 60, r2)
	if sum := r.meter.Summary(); len(r.hdrs) < 55 || !near(sum.Frequency, 1200, 15) {
		t.Fatalf("tone: %d packets, %+v", len(r.hdrs), sum)
	}
	if sum := r2.meter.Summary(); len(r2.hdrs) < 55 || !near(sum.Frequency, 1200, 15) {
		t.Fatalf("tone after reconfigure: %d packets, %+v", len(r2.hdrs), sum)
	}
	last, first := hdrs[len(hdrs)-1], r2.hdrs[0]
	if first.SSRC != last.SSRC || first.Seq != last.Seq+1 || first.PT != 8 || !first.Marker {
		t.Fatalf("stream after reconfigure %+v, before %+v", first, last)
	}
}

// TestTerminalPlayback: a 44.1 kHz stereo WAV plays to a PCMU leg
// (resampled, mixed to mono) and, not looped, stops at its end.
func TestTerminalPlayback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clip.wav")
	writeTestWAV(t, path, 44100, 2, tone(500, 44100, 0, 22050)) // 0.5 s
	clip, err := LoadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTermCall(t, TerminalConfig{Format: fmtPCMU, Source: NewPlayer(clip, false)})
	r := newReceiver(t, fmtPCMU)
	tc.run(t, nil, 50, r)
	sum := r.meter.Summary()
	if len(r.hdrs) < 20 || len(r.hdrs) > 30 || !near(sum.Frequency, 500, 15) {
		t.Fatalf("playback: %d packets (want 25: 0.5 s), %+v", len(r.hdrs), sum)
	}
}

// writeTestWAV writes mono on each of channels as a 16-bit WAV file.
func writeTestWAV(t *testing.T, path string, rate, channels int, mono []int16) {
	t.Helper()
	var data []byte
	for _, m := range mono {
		for range channels {
			v := uint16(m)
			data = append(data, byte(v), byte(v>>8))
		}
	}
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
	le16 := func(v int) []byte { return []byte{byte(v), byte(v >> 8)} }
	le32 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	h = append(h, le16(channels)...)
	h = append(h, le32(rate)...)
	h = append(h, le32(rate*2*channels)...)
	h = append(h, le16(2*channels)...)
	h = append(h, le16(16)...)
	h = append(h, "data"...)
	h = append(h, le32(len(data))...)
	copy(h[4:], le32(36+len(data)))
	if err := os.WriteFile(path, append(h, data...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMonitorRelayedTaps: with BridgeConfig.Taps a relayed direction
// stays relayed (packets unchanged in payload) and its taps still get the
// decoded audio; without, they get nothing.
func TestMonitorRelayedTaps(t *testing.T) {
	for _, taps := range []bool{true, false} {
		c := newProcCall(t, BridgeConfig{A: fmtPCMU, B: fmtPCMU, Taps: taps})
		if c.br.Processing(c.a) {
			t.Fatal("PCMU ↔ PCMU processed")
		}
		meter := NewToneMeter()
		c.br.AddTap(c.a, meter)
		r := newReceiver(t, fmtPCMU)
		c.run(t, newSender(t, fmtPCMU, 900), 60, r, nil)
		sum := meter.Summary()
		if got := r.meter.Summary(); len(r.hdrs) < 55 || !near(got.Frequency, 900, 15) {
			t.Fatalf("relayed: %d packets, %+v", len(r.hdrs), got)
		}
		if taps && (!near(sum.Frequency, 900, 15) || sum.Frames < 50) {
			t.Fatalf("taps on: tap saw %+v", sum)
		}
		if !taps && sum.Frames != 0 {
			t.Fatalf("taps off: tap saw %+v", sum)
		}
	}
}

// TestSetTapsMidCall: a relayed call configured without taps starts
// feeding a tap once SetTaps(true) turns them on (an on-demand recording),
// and stops again after SetTaps(false).
func TestSetTapsMidCall(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMU, B: fmtPCMU})
	meter := NewToneMeter()
	c.br.AddTap(c.a, meter)
	r := newReceiver(t, fmtPCMU)
	s := newSender(t, fmtPCMU, 900)
	c.run(t, s, 20, r, nil)
	if got := meter.Summary(); got.Frames != 0 {
		t.Fatalf("taps off: tap saw %+v", got)
	}
	c.br.SetTaps(true)
	c.run(t, s, 60, r, nil)
	on := meter.Summary()
	if !near(on.Frequency, 900, 15) || on.Frames < 40 {
		t.Fatalf("after SetTaps(true): tap saw %+v", on)
	}
	if c.br.Processing(c.a) {
		t.Fatal("SetTaps switched the direction to processing")
	}
	c.br.SetTaps(false)
	c.run(t, s, 30, r, nil)
	if off := meter.Summary(); off.Frames > on.Frames+2 {
		t.Fatalf("after SetTaps(false): tap went on from %d to %d frames", on.Frames, off.Frames)
	}
}

// BenchmarkRelayPacketRecorded is BenchmarkRelayPacket on a call whose
// relayed direction has a monitor (BridgeConfig.Taps, a recorded call):
// the relay's extra cost is the copy into the monitor's jitter buffer;
// allocs/op must stay 0 (decoding runs on the playout clock).
func BenchmarkRelayPacketRecorded(b *testing.B) {
	benchRelayPacket(b, func(c *call) {
		if err := c.br.Configure(BridgeConfig{A: fmtPCMU, B: fmtPCMU, Taps: true}); err != nil {
			b.Fatal(err)
		}
		c.br.AddTap(c.a, NewToneMeter())
	})
}

// TestBridgeHold: while held, the held endpoint gets the source (and the
// other leg's packets are dropped); after the hold, the relay carries
// the other leg again.
func TestBridgeHold(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMU, B: fmtPCMU})
	s := newSender(t, fmtPCMU, 900)
	r := newReceiver(t, fmtPCMU)
	c.run(t, s, 20, r, nil)
	if err := c.br.Hold(c.b, &Tone{Frequency: 600}); err != nil {
		t.Fatal(err)
	}
	if err := c.br.Configure(BridgeConfig{A: fmtPCMU, B: fmtPCMU}); err != ErrHeld {
		t.Fatalf("Configure while held: %v", err)
	}
	held := newReceiver(t, fmtPCMU)
	c.run(t, s, 60, held, nil)
	if sum := held.meter.Summary(); len(held.hdrs) < 55 || len(held.hdrs) > 62 || !near(sum.Frequency, 600, 15) {
		t.Fatalf("held party got %d packets, %+v; want the 600 Hz source alone", len(held.hdrs), sum)
	}
	if err := c.br.Hold(c.b, nil); err != nil {
		t.Fatal(err)
	}
	after := newReceiver(t, fmtPCMU)
	c.run(t, s, 40, after, nil)
	if sum := after.meter.Summary(); len(after.hdrs) < 35 || !near(sum.Frequency, 900, 15) {
		t.Fatalf("after the hold: %d packets, %+v; want the 900 Hz leg", len(after.hdrs), sum)
	}
	// One stream throughout: the music continues it, the relay takes it back.
	for _, pair := range [][2][]rtp.Header{{r.hdrs, held.hdrs}, {held.hdrs, after.hdrs}} {
		last, first := pair[0][len(pair[0])-1], pair[1][0]
		if first.SSRC != last.SSRC || first.Seq != last.Seq+1 || !first.Marker {
			t.Fatalf("stream broken at the hold: %+v after %+v", first, last)
		}
	}
}

// BenchmarkTerminalTick is one echo-service call (or one conference
// participant's media) per op: a packet pushed into the terminal's jitter
// buffer, then one playout tick decoding it into the tap and encoding
// the source back (PCMU and Opus); the figure is the share of a core one
// such leg takes.
func BenchmarkTerminalTick(b *testing.B) {
	for _, f := range []LegFormat{fmtPCMU, fmtOpus} {
		b.Run(f.Audio.Name, func(b *testing.B) {
			echo := &Echo{}
			addr := netip.MustParseAddr("127.0.0.1")
			clk := newFakeClock()
			e := newTestEngine(b, addr, 1, func(c *Config) { c.Now = clk.Now })
			e.playout.manual = true
			ep := newTestEndpoint(b, e)
			term := NewTerminal(ep, testLogger(b))
			b.Cleanup(term.Stop)
			if err := term.Configure(TerminalConfig{Format: f, Source: echo}); err != nil {
				b.Fatal(err)
			}
			term.AddTap(echo)
			term.Start(nil)
			s := newSender(b, f, 440)
			const n = 64
			var pkts [n][]byte
			for i := range n {
				pkts[i] = s.next()
			}
			recv := term.recv
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				pkt := pkts[i%n]
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], uint32(i)*recv.jbStep())
				h, _ := rtp.Parse(pkt)
				recv.HandleRTP(pkt, h, clk.Now().UnixNano())
				i++
				clk.Advance(PlayoutInterval)
				e.playout.tick(clk.Now())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(PlayoutInterval)*100, "%core/leg")
		})
	}
}
