//go:build cgo

package media

import (
	"encoding/binary"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/media/dtmf"
	"github.com/switchboard/switchboard/media/rtp"
)

var (
	fmtPCMU = LegFormat{Audio: Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}}
	fmtPCMA = LegFormat{Audio: Codec{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1}}
	fmtOpus = LegFormat{Audio: Codec{PT: 111, Name: "opus", Clock: 48000, Channels: 2, Fmtp: "useinbandfec=1"}}
	fmtG722 = LegFormat{Audio: Codec{PT: 9, Name: "G722", Clock: 8000, Channels: 1}, Ptime: 30 * time.Millisecond}
)

// procCall is a bridge between two real endpoints on loopback whose
// playout clock the test drives with a fake clock.
type procCall struct {
	*call
	clk *fakeClock
}

func newProcCall(t testing.TB, cfg BridgeConfig) *procCall {
	t.Helper()
	addr := netip.MustParseAddr("127.0.0.1")
	clk := newFakeClock()
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Now = clk.Now; c.LatchPackets = 1 })
	e.playout.manual = true
	c := &call{e: e, a: newTestEndpoint(t, e), b: newTestEndpoint(t, e), pa: newPeer(t, addr), pb: newPeer(t, addr)}
	c.a.SetRemote(c.pa.addr())
	c.b.SetRemote(c.pb.addr())
	c.br = NewBridge(c.a, c.b, testLogger(t))
	t.Cleanup(c.br.Stop)
	if err := c.br.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	c.br.Start(nil)
	return &procCall{call: c, clk: clk}
}

// tone returns n samples of a sine of freq Hz at rate, starting at sample
// offset off, at about -12 dBov.
func tone(freq float64, rate, off, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(off+i)/float64(rate)))
	}
	return pcm
}

// sender encodes a tone into RTP packets of one leg's format.
type sender struct {
	t     testing.TB
	enc   codecs.Encoder
	pt    uint8
	step  uint32
	seq   uint16
	ts    uint32
	off   int
	freq  float64
	ssrc  uint32
	frame int
}

func newSender(t testing.TB, f LegFormat, freq float64) *sender {
	t.Helper()
	c, ok := lookupCodec(codecs.NewRegistry(), f.Audio)
	if !ok {
		t.Fatalf("no codec %s", f.Audio.Name)
	}
	ep := codecs.ParseFmtp(f.Audio.Fmtp)
	ep.Ptime = f.ptimeOf()
	enc, err := c.NewEncoder(ep)
	if err != nil {
		t.Fatal(err)
	}
	return &sender{t: t, enc: enc, pt: f.Audio.PT, step: uint32(codecs.FrameSamples(c.ClockRate(), f.ptimeOf())),
		seq: 1000, ts: 5000, freq: freq, ssrc: 0x5eed, frame: enc.FrameSamples()}
}

// next returns the next packet of the tone.
func (s *sender) next() []byte {
	pcm := tone(s.freq, s.enc.SampleRate(), s.off, s.frame)
	s.off += s.frame
	pkt := make([]byte, rtp.FixedHeaderSize+s.enc.MaxPayloadSize())
	h := rtp.Header{PT: s.pt, Seq: s.seq, TS: s.ts, SSRC: s.ssrc}
	n := h.PutFixed(pkt)
	m, err := s.enc.Encode(pcm, pkt[n:])
	if err != nil {
		s.t.Fatal(err)
	}
	s.seq++
	s.ts += s.step
	return pkt[:n+m]
}

// receiver decodes what a peer receives into a ToneMeter and keeps the
// headers.
type receiver struct {
	t     testing.TB
	dec   codecs.Decoder
	meter *ToneMeter
	pcm   []int16
	hdrs  []rtp.Header
	sizes []int
}

func newReceiver(t testing.TB, f LegFormat) *receiver {
	c, _ := lookupCodec(codecs.NewRegistry(), f.Audio)
	dec, err := c.NewDecoder(codecs.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return &receiver{t: t, dec: dec, meter: NewToneMeter(), pcm: make([]int16, 48000)}
}

// drain reads what p has received until it is quiet for a moment.
func (r *receiver) drain(p *peer) {
	for {
		pkt, ok := p.recvWithin(30 * time.Millisecond)
		if !ok {
			return
		}
		h, ok := rtp.Parse(pkt)
		if !ok {
			r.t.Fatalf("non-RTP %x", pkt)
		}
		r.hdrs = append(r.hdrs, h)
		r.sizes = append(r.sizes, len(h.Payload(pkt)))
		n, err := r.dec.Decode(h.Payload(pkt), r.pcm)
		if err != nil {
			r.t.Fatalf("decode: %v", err)
		}
		r.meter.WritePCM(r.pcm[:n], r.dec.SampleRate(), time.Time{})
	}
}

// run sends n packets from pa (skipping those drop says), each followed by
// one playout tick 20 ms later, and drains pb after each tick.
func (c *procCall) run(t testing.TB, s *sender, n int, r *receiver, drop func(i int) bool) {
	t.Helper()
	ticks := time.Duration(0)
	sent := c.a.Stats().PacketsIn
	for i := range n {
		pkt := s.next()
		if drop == nil || !drop(i) {
			c.pa.send(c.a.Local(), pkt)
			sent++
			eventually(t, func() bool { return c.a.Stats().PacketsIn >= sent })
		}
		// The source's packet time in playout ticks.
		for ticks += s.frameDur(); ticks >= PlayoutInterval; ticks -= PlayoutInterval {
			c.clk.Advance(PlayoutInterval)
			c.e.playout.tick(c.clk.Now())
		}
		if r != nil && i%5 == 4 {
			r.drain(c.pb)
		}
	}
	if r != nil {
		r.drain(c.pb)
	}
}

func (s *sender) frameDur() time.Duration {
	return time.Duration(s.frame) * time.Second / time.Duration(s.enc.SampleRate())
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestProcessPCMUToOpus: a PCMU leg's 1 kHz tone leaves the Opus leg as
// Opus that decodes back to 1 kHz; a tap on the direction sees it too.
func TestProcessPCMUToOpus(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMU, B: fmtOpus})
	if !c.br.Processing(c.a) || !c.br.Processing(c.b) {
		t.Fatal("PCMU ↔ Opus not processed")
	}
	tap := NewToneMeter()
	c.br.AddTap(c.a, tap)
	r := newReceiver(t, fmtOpus)
	c.run(t, newSender(t, fmtPCMU, 1000), 100, r, nil)
	sum := r.meter.Summary()
	t.Logf("received %d packets; decoded %+v; tap %+v", len(r.hdrs), sum, tap.Summary())
	if len(r.hdrs) < 90 {
		t.Fatalf("only %d of 100 packets arrived", len(r.hdrs))
	}
	if !near(sum.Frequency, 1000, 15) || sum.RecentDBov < -25 {
		t.Errorf("decoded Opus: %.0f Hz at %.1f dBov, want 1000 Hz near -12 dBov", sum.Frequency, sum.RecentDBov)
	}
	for i, h := range r.hdrs {
		if h.PT != 111 {
			t.Fatalf("packet %d: PT %d, want 111", i, h.PT)
		}
		if i > 0 && (h.Seq != r.hdrs[i-1].Seq+1 || h.TS != r.hdrs[i-1].TS+960) {
			t.Fatalf("packet %d: seq %d ts %d after %d %d", i, h.Seq, h.TS, r.hdrs[i-1].Seq, r.hdrs[i-1].TS)
		}
	}
	ts := tap.Summary()
	// A G.711 source is coded at 8 kHz (no resampler): the tap sees the
	// PCM the encoder takes.
	if !near(ts.Frequency, 1000, 15) || ts.Rate != 8000 || ts.MaxGap != 0 {
		t.Errorf("tap: %+v, want 1000 Hz at 8000 Hz, contiguous", ts)
	}
}

// TestProcessRepacketize: PCMA in 20 ms packets leaves the G.722 leg in
// 30 ms packets (240 bytes, timestamp step 240 at G.722's 8000 Hz clock).
func TestProcessRepacketize(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMA, B: fmtG722})
	r := newReceiver(t, fmtG722)
	c.run(t, newSender(t, fmtPCMA, 700), 90, r, nil)
	if len(r.hdrs) < 55 {
		t.Fatalf("only %d packets of 30 ms for 1.8 s", len(r.hdrs))
	}
	for i, h := range r.hdrs {
		if r.sizes[i] != 240 || h.PT != 9 {
			t.Fatalf("packet %d: PT %d, %d bytes, want PT 9, 240 bytes", i, h.PT, r.sizes[i])
		}
		if i > 0 && (h.Seq != r.hdrs[i-1].Seq+1 || h.TS != r.hdrs[i-1].TS+240) {
			t.Fatalf("packet %d: seq %d ts %d after %d %d", i, h.Seq, h.TS, r.hdrs[i-1].Seq, r.hdrs[i-1].TS)
		}
	}
	if s := r.meter.Summary(); !near(s.Frequency, 700, 15) {
		t.Errorf("decoded G.722: %+v, want 700 Hz", s)
	}
}

// TestProcessConcealsLoss: with every seventh packet lost, the processed
// stream has no hole: one packet per frame, timestamps 160 apart, and the
// concealed audio keeps the tone.
func TestProcessConcealsLoss(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMU, B: fmtPCMU, Process: true})
	tap := NewToneMeter()
	c.br.AddTap(c.a, tap)
	r := newReceiver(t, fmtPCMU)
	c.run(t, newSender(t, fmtPCMU, 440), 100, r, func(i int) bool { return i%7 == 3 })
	if len(r.hdrs) < 95 {
		t.Fatalf("%d packets out for 100 frames with 14 lost: loss not concealed", len(r.hdrs))
	}
	for i := 1; i < len(r.hdrs); i++ {
		if d := r.hdrs[i].TS - r.hdrs[i-1].TS; d != 160 || r.hdrs[i].Seq != r.hdrs[i-1].Seq+1 {
			t.Fatalf("packet %d: ts step %d, seq %d after %d: a gap", i, d, r.hdrs[i].Seq, r.hdrs[i-1].Seq)
		}
	}
	s := tap.Summary()
	if s.MaxGap != 0 || !near(s.Frequency, 440, 10) || s.RecentDBov < -20 {
		t.Errorf("tap %+v: want contiguous 440 Hz near -12 dBov", s)
	}
	if st := c.a.Stats(); st.PacketsIn > 86 {
		t.Errorf("%d packets in, expected 86", st.PacketsIn)
	}
}

// TestProcessOpusFEC: Opus with in-band FEC in, every seventh packet
// lost: the lost frames are recovered from the next packet's LBRR data
// (the jitter buffer hands it over as Result.Next), and the PCMU leg gets
// one packet per frame with the tone.
func TestProcessOpusFEC(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtOpus, B: fmtPCMU})
	r := newReceiver(t, fmtPCMU)
	// Each packet arrives one frame before it is due, as behind a jitter
	// buffer holding one frame: the packet after a loss is there when the
	// lost frame is played.
	s := newSender(t, fmtOpus, 600)
	sent := uint64(0)
	for i := range 101 {
		pkt := s.next()
		if i%7 != 3 {
			c.pa.send(c.a.Local(), pkt)
			sent++
			eventually(t, func() bool { return c.a.Stats().PacketsIn >= sent })
		}
		if i > 0 {
			c.clk.Advance(PlayoutInterval)
			c.e.playout.tick(c.clk.Now())
		}
		if i%5 == 4 {
			r.drain(c.pb)
		}
	}
	r.drain(c.pb)
	fec := c.br.ab.proc.fecUsed
	t.Logf("%d packets out, %d frames from FEC, %+v", len(r.hdrs), fec, r.meter.Summary())
	if fec < 5 {
		t.Errorf("only %d of 14 lost frames recovered by FEC", fec)
	}
	if len(r.hdrs) < 95 {
		t.Errorf("%d packets out for 100 frames", len(r.hdrs))
	}
	if s := r.meter.Summary(); !near(s.Frequency, 600, 15) {
		t.Errorf("decoded %+v, want 600 Hz", s)
	}
}

// TestSwitchRelayProcessRelay: a re-INVITE-style switch relay → processing
// → relay keeps one stream at the receiver: the same SSRC, sequence
// numbers +1 throughout, timestamps never going back and never jumping
// more than the wall time.
func TestSwitchRelayProcessRelay(t *testing.T) {
	cfg := BridgeConfig{A: fmtPCMU, B: fmtPCMU}
	c := newProcCall(t, cfg)
	if c.br.Processing(c.a) {
		t.Fatal("PCMU ↔ PCMU processed without Process")
	}
	s := newSender(t, fmtPCMU, 500)
	var hdrs []rtp.Header
	collect := func() {
		for {
			pkt, ok := c.pb.recvWithin(30 * time.Millisecond)
			if !ok {
				return
			}
			h, _ := rtp.Parse(pkt)
			hdrs = append(hdrs, h)
		}
	}
	phase := func(process bool, n int) {
		cfg.Process = process
		if err := c.br.Configure(cfg); err != nil {
			t.Fatal(err)
		}
		if c.br.Processing(c.a) != process {
			t.Fatalf("Processing = %v, want %v", !process, process)
		}
		c.run(t, s, n, nil, nil)
		collect()
	}
	phase(false, 20)
	relayed := len(hdrs)
	phase(true, 20)
	processed := len(hdrs) - relayed
	phase(false, 20)
	t.Logf("%d relayed, %d processed, %d relayed", relayed, processed, len(hdrs)-relayed-processed)
	if relayed != 20 || processed < 15 || len(hdrs)-relayed-processed != 20 {
		t.Fatalf("packets per phase %d, %d, %d", relayed, processed, len(hdrs)-relayed-processed)
	}
	for i := 1; i < len(hdrs); i++ {
		p, h := hdrs[i-1], hdrs[i]
		d := int32(h.TS - p.TS)
		if h.SSRC != p.SSRC || h.Seq != p.Seq+1 || d < 160 || d > 160*4 {
			t.Fatalf("packet %d: ssrc %x seq %d ts %d after ssrc %x seq %d ts %d", i, h.SSRC, h.Seq, h.TS, p.SSRC, p.Seq, p.TS)
		}
	}
}

// TestProcessDTMF: an RFC 4733 key press at 8000 Hz on the PCMU leg is
// reported (OnDigit) with its duration and re-sent to the Opus leg at
// 48000 Hz with the same duration; SendDigit sends one the other way.
func TestProcessDTMF(t *testing.T) {
	a, b := fmtPCMU, fmtOpus
	a.TelephoneEvent = Codec{PT: 101, Name: "telephone-event", Clock: 8000}
	b.TelephoneEvent = Codec{PT: 110, Name: "telephone-event", Clock: 48000}
	digits := make(chan Digit, 4)
	c := newProcCall(t, BridgeConfig{A: a, B: b, OnDigit: func(from *Endpoint, d Digit) { digits <- d }})
	// The audio first, so that the direction has a stream to continue.
	c.run(t, newSender(t, fmtPCMU, 500), 5, nil, nil)
	c.sendKey(t, 5, 400*time.Millisecond) // key '5'
	var d Digit
	select {
	case d = <-digits:
	case <-time.After(5 * time.Second):
		t.Fatal("no digit reported")
	}
	if d.Key != '5' || d.Duration != 400*time.Millisecond {
		t.Fatalf("digit %+v, want '5' for 400ms", d)
	}
	// Play ticks until the event has gone out on the Opus leg.
	end := c.eventEnd(t, c.pb, 110, 5, 60)
	if end != 19200 { // 400 ms at 48000 Hz
		t.Errorf("end duration %d at 48 kHz, want 19200", end)
	}
	// The Opus leg's audio gives the direction toward a its stream.
	sb := newSender(t, fmtOpus, 440)
	for range 3 {
		c.pb.send(c.b.Local(), sb.next())
	}
	eventually(t, func() bool { return c.b.Stats().PacketsIn >= 3 })
	if err := c.br.SendDigit(c.a, '#', 160*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got := c.eventEnd(t, c.pa, 101, 11, 30)
	if got != 1280 {
		t.Errorf("SendDigit '#': end duration %d, want 1280 (160 ms at 8 kHz)", got)
	}
}

// TestRelayDTMF: on a relayed direction (PCMU with telephone-event on
// both legs) the RFC 4733 packets pass unchanged, payload type mapped, and
// the key is still reported (OnDigit) once, with its duration, so that a
// relayed call's digits reach its record.
func TestRelayDTMF(t *testing.T) {
	a, b := fmtPCMU, fmtPCMU
	a.TelephoneEvent = Codec{PT: 101, Name: "telephone-event", Clock: 8000}
	b.TelephoneEvent = Codec{PT: 96, Name: "telephone-event", Clock: 8000}
	digits := make(chan Digit, 4)
	c := newProcCall(t, BridgeConfig{A: a, B: b, OnDigit: func(from *Endpoint, d Digit) { digits <- d }})
	if c.br.Processing(c.a) {
		t.Fatal("same codec and events on both legs: want the relay")
	}
	c.run(t, newSender(t, fmtPCMU, 500), 5, nil, nil)
	c.sendKey(t, 9, 1200*time.Millisecond) // key '9'
	var d Digit
	select {
	case d = <-digits:
	case <-time.After(5 * time.Second):
		t.Fatal("no digit reported from the relayed direction")
	}
	if d.Key != '9' || d.Duration != 1200*time.Millisecond || d.Inband {
		t.Fatalf("digit %+v, want '9' for 1.2s from RFC 4733", d)
	}
	if end := c.eventEnd(t, c.pb, 96, 9, 5); end != 9600 {
		t.Errorf("relayed end duration %d with PT 96, want 9600", end)
	}
	select {
	case d := <-digits:
		t.Errorf("second report %+v for one key press", d)
	case <-time.After(100 * time.Millisecond):
	}
}

// sendKey has phone A send event code for dur as RFC 4733 packets at
// 8000 Hz with payload type 101.
func (c *procCall) sendKey(t *testing.T, code uint8, dur time.Duration) {
	t.Helper()
	snd, err := dtmf.NewSender(dtmf.SenderConfig{ClockRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := snd.AppendPackets(nil, code, dur)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		buf := make([]byte, 16)
		h := rtp.Header{PT: 101, Seq: uint16(2000 + i), TS: 90000, SSRC: 0x5eed, Marker: p.Marker}
		h.PutFixed(buf)
		if _, err := p.Event.Marshal(buf[12:]); err != nil {
			t.Fatal(err)
		}
		c.pa.send(c.a.Local(), buf)
	}
}

// eventEnd plays n ticks, reading what p receives, and returns the
// duration of the end report of event code sent with payload type pt
// (0 if none came).
func (c *procCall) eventEnd(t *testing.T, p *peer, pt, code uint8, n int) uint16 {
	t.Helper()
	var end uint16
	for range n {
		c.clk.Advance(PlayoutInterval)
		c.e.playout.tick(c.clk.Now())
		for {
			pkt, ok := p.recvWithin(5 * time.Millisecond)
			if !ok {
				break
			}
			h, _ := rtp.Parse(pkt)
			if h.PT != pt {
				continue
			}
			var ev dtmf.Event
			if err := ev.Unmarshal(h.Payload(pkt)); err != nil {
				t.Fatal(err)
			}
			if ev.Code != code {
				t.Fatalf("event code %d, want %d", ev.Code, code)
			}
			if ev.End {
				end = ev.Duration
			}
		}
	}
	return end
}

func TestCanTranscode(t *testing.T) {
	for _, tt := range []struct {
		c    Codec
		want bool
	}{
		{fmtPCMU.Audio, true}, {fmtOpus.Audio, true}, {Codec{Name: "opus", Clock: 48000}, true},
		{fmtG722.Audio, true}, {Codec{Name: "L16", Clock: 16000}, true},
		{Codec{Name: "GSM", Clock: 8000}, false}, {Codec{Name: "G729", Clock: 8000}, false},
	} {
		if got := CanTranscode(tt.c); got != tt.want {
			t.Errorf("CanTranscode(%s/%d) = %v", tt.c.Name, tt.c.Clock, got)
		}
	}
}

// TestProcessAdaptsOpusFEC: toward an Opus leg that asked for in-band
// FEC (useinbandfec=1) no FEC is coded while its peer reports no loss;
// once a receiver report shows 10 % loss the encoder protects against it
// (bigger payloads), and clean reports then halve the protection.
func TestProcessAdaptsOpusFEC(t *testing.T) {
	c := newProcCall(t, BridgeConfig{A: fmtPCMA, B: fmtOpus})
	rb := newPeer(t, netip.MustParseAddr("127.0.0.1"))
	c.b.SetRTCP(RTCPOptions{Remote: rb.addr(), Codec: "opus", Ptime: 20 * time.Millisecond, ClockRate: 48000})
	s := newSender(t, fmtPCMA, 1000)
	ab := c.br.ab.proc
	sent := uint64(0)
	play := func(n int) (bytes, pkts int) {
		r := newReceiver(t, fmtOpus)
		for i := range n {
			c.pa.send(c.a.Local(), s.next())
			sent++
			eventually(t, func() bool { return c.a.Stats().PacketsIn >= sent })
			c.clk.Advance(PlayoutInterval)
			c.e.playout.tick(c.clk.Now())
			if i%5 == 4 {
				r.drain(c.pb)
			}
		}
		r.drain(c.pb)
		for _, n := range r.sizes[len(r.sizes)/2:] { // past the encoder's start
			bytes += n
		}
		return bytes, len(r.sizes) - len(r.sizes)/2
	}
	report := func(lost uint8, ssrc uint32) {
		rr := &rtcp.ReceiverReport{SSRC: 0x5EED0001, Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: lost}}}
		buf, err := rr.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rb.send(netip.AddrPortFrom(c.b.Local().Addr(), c.b.Local().Port()+1), buf)
		sess := c.b.RTCPSession()
		eventually(t, func() bool { _, n := sess.RemoteLoss(); return n > ab.lossReports })
	}
	clean, n1 := play(100)
	ssrc := ab.out.ssrc
	report(26, ssrc) // 26/256: 10.2 %
	play(60)
	if ab.lossPct != 11 {
		t.Fatalf("after a report of 10.2 %% loss the encoder expects %d %%, want 11", ab.lossPct)
	}
	lossy, n2 := play(100)
	t.Logf("payload bytes per packet: %.1f clean, %.1f at 11 %% loss", float64(clean)/float64(n1), float64(lossy)/float64(n2))
	if lossy*n1*10 < clean*n2*11 {
		t.Errorf("payloads %d bytes / %d packets at 11 %% loss vs %d / %d clean: want a tenth more for the FEC", lossy, n2, clean, n1)
	}
	for _, want := range []int{5, 2, 1, 0} {
		report(0, ssrc)
		play(55)
		if ab.lossPct != want {
			t.Fatalf("after a clean report the encoder expects %d %%, want %d", ab.lossPct, want)
		}
	}
}

// BenchmarkProcessTick is one 20 ms tick of a PCMA ↔ Opus call, both
// directions: a packet pushed into each direction's jitter buffer, then
// pop, decode, resample, encode and send (to a peer on hold, so no
// system call), on the calling goroutine.
func BenchmarkProcessTick(b *testing.B) {
	c := newProcCall(b, BridgeConfig{A: fmtPCMA, B: fmtOpus})
	sa, sb := newSender(b, fmtPCMA, 1000), newSender(b, fmtOpus, 440)
	const n = 64
	var pa, pb [n][]byte
	for i := range n {
		pa[i], pb[i] = sa.next(), sb.next()
	}
	c.a.SetRemote(netip.AddrPort{})
	c.b.SetRemote(netip.AddrPort{})
	ab, ba := c.br.ab.proc, c.br.ba.proc
	seq := uint16(0)
	push := func(p *processor, pkt []byte, i int) {
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(i)*p.jbStep())
		h, _ := rtp.Parse(pkt)
		p.HandleRTP(pkt, h, c.clk.Now().UnixNano())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		push(ab, pa[i%n], i)
		push(ba, pb[i%n], i)
		seq++
		i++
		c.clk.Advance(PlayoutInterval)
		c.e.playout.tick(c.clk.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(PlayoutInterval)*100, "%core/call")
}
