//go:build cgo

package media

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/media/dtmf"
	"github.com/switchboard/switchboard/media/jitter"
	"github.com/switchboard/switchboard/media/rtp"
	"github.com/switchboard/switchboard/rtcpstats"
)

// # Handover
//
// A direction's outgoing stream (SSRC, sequence number, timestamp: an
// outStream) always has exactly one owner, and changes owner only where
// the old owner has provably let go:
//
//   - relay → processing: the relay's outStream is owned by the reactor
//     goroutine of the receiving endpoint. Configure installs the
//     processor as the direction's handler; the processor's first
//     HandleRTP, on that same reactor goroutine (so after the relay's last
//     packet), copies the outStream and publishes it to the playout
//     goroutine with an atomic flag (ready). Nothing is emitted before.
//   - processing → relay (or → another processor): Configure first takes
//     the processor off the playout clock; playout.remove returns only
//     when no tick is inside it, so its state is final. Configure passes
//     it to a resumeRelay (or to the new processor, before it is
//     installed), which adopts it on the reactor goroutine with the next
//     packet and then installs the plain relay.
//
// The state carries the resync flag: the first packet after a handover
// continues at sequence+1 with the timestamp advanced by the wall time
// since the last packet sent, and carries the marker bit, so the far side
// sees one stream without a gap, a jump or two writers.

// newRegistry is the codec table Configure looks codecs up in.
func newRegistry() *codecs.Registry { return codecs.NewRegistry() }

// lookupCodec finds c's codec by rtpmap (Opus is opus/48000/2 whatever
// the SDP wrote as channels, RFC 7587 7).
func lookupCodec(reg *codecs.Registry, c Codec) (codecs.Codec, bool) {
	ch := max(c.Channels, 1)
	if strings.EqualFold(c.Name, "opus") {
		ch = 2
	}
	return reg.Lookup(c.Name, c.Clock, ch)
}

// CanTranscode reports whether the processing chain can decode and encode
// c (an rtpmap entry), so that the B2BUA may offer its own codecs to the
// other leg instead of answering 488.
func CanTranscode(c Codec) bool {
	_, ok := lookupCodec(newRegistry(), c)
	return ok
}

// maxFrame is the longest packet the chain decodes: Opus packs up to
// 120 ms (RFC 6716 §3.2.5).
const maxFrame = 120 * time.Millisecond

// processor is one processed direction: packets arriving on d.from are
// pushed into a jitter buffer on the reactor goroutine; on each tick of
// the engine's playout clock it pops, decodes (concealing loss, playing
// comfort noise after a SID), resamples to the far leg's rate, feeds the
// taps, encodes and packetizes at the far leg's ptime, and sends out of
// d.to with its own outStream.
type processor struct {
	d *direction
	// In-band DTMF (playout goroutine): det finds the digits of a leg
	// without telephone-event; while one sounds, and the far leg gets it
	// as RFC 4733, its audio is muted so that the far end does not hear
	// the digit twice.
	det   *dtmf.Detector
	detOn bool
	// Playout statistics for the leg's quality record (playout goroutine).
	statTicks          int
	delaySum, delayMax time.Duration
	delayN             int
	onDigit            func(*Endpoint, Digit)
	inAudio            uint8
	inCN               int // -1 when none
	inTE               int // -1 when none
	inTEClk            int
	inClock            int
	outPT              uint8
	outClock           int
	outStep            uint32 // timestamp units per outgoing packet
	gap                int64  // ns without a packet after which the timestamp follows the wall clock

	jb       *jitter.Buffer
	dec      codecs.Decoder
	conceal  codecs.Concealer
	fec      codecs.FECDecoder // nil unless the decoder reads in-band FEC
	fecUsed  uint64            // frames recovered by FEC (playout goroutine)
	cn       *codecs.CNDecoder
	cnOn     bool
	playing  bool // a frame was played since the start
	emptyRun time.Duration
	rs       *codecs.Resampler // nil when decoder and encoder rates match
	pk       *codecs.Packetizer
	// lossAd tunes the encoder's FEC to the loss the far leg's peer
	// reports (adaptLoss); lossReports and lossPct are what it last saw.
	lossAd      codecs.LossAdapter
	lossReports uint64
	lossPct     int
	inFrame     time.Duration
	decFrame    int // samples of one inFrame at the decoder's rate
	decBuf      []int16
	rsBuf       []int16
	rate        int // PCM rate after resampling (the encoder's)
	debt        time.Duration
	pkt         []byte
	now         int64
	emitFn      func([]byte) error

	// ready is set once out holds the state to continue from (see
	// Handover); out is then owned by the playout goroutine.
	ready atomic.Bool
	out   outStream

	// DTMF: rx and the digit's start are owned by the reactor goroutine;
	// events queue toward the playout goroutine, which owns tx.
	rx      *dtmf.Receiver
	rxStart time.Time
	events  chan outEvent
	tx      *dtmf.Sender
	txOn    bool
	txTS    uint32 // RTP timestamp of the event being sent
	txStart int64  // when its first packet went out
	txNext  dtmf.Packet
	txHave  bool
	outTE   int // -1 when the far leg has no telephone-event
	closeMu sync.Once
	// sinkOnly: decode for the taps and send nothing (a Terminal's
	// receiving half, or the decoding copy of a relayed direction).
	sinkOnly bool
}

// outEvent is a DTMF event to send toward the far leg.
type outEvent struct {
	code  uint8
	units uint32 // in the far leg's telephone-event clock
}

func newProcessor(d *direction, in, out LegFormat, cfg *BridgeConfig) (*processor, error) {
	reg := newRegistry()
	inC, ok := lookupCodec(reg, in.Audio)
	if !ok {
		return nil, fmt.Errorf("%w: no decoder for %s/%d", ErrNoTranscoding, in.Audio.Name, in.Audio.Clock)
	}
	outC, ok := lookupCodec(reg, out.Audio)
	if !ok {
		return nil, fmt.Errorf("%w: no encoder for %s/%d", ErrNoTranscoding, out.Audio.Name, out.Audio.Clock)
	}
	inPtime := in.ptimeOf()
	srcRate := inC.SampleRate()
	if isOpus(inC) {
		srcRate = 48000
		if mp := codecs.ParseFmtp(in.Audio.Fmtp).MaxPlaybackRate; mp > 0 {
			srcRate = min(srcRate, mp)
		}
	}
	enc, outPtime, err := newLegEncoder(outC, out, srcRate, cfg.OpusComplexity)
	if err != nil {
		return nil, err
	}

	// Decoder: at the encoder's rate when the codec can (Opus), else its own.
	dp := codecs.ParseFmtp(in.Audio.Fmtp)
	dp.Ptime = inPtime
	if isOpus(inC) {
		switch enc.SampleRate() {
		case 8000, 12000, 16000, 24000, 48000:
			dp.SampleRate = enc.SampleRate()
		default:
			dp.SampleRate = 48000
		}
	}
	dec, err := inC.NewDecoder(dp)
	if err != nil {
		return nil, err
	}
	decFrame := codecs.FrameSamples(dec.SampleRate(), inPtime)
	if inC.Name() == "PCMU" || inC.Name() == "PCMA" {
		// ITU-T G.711 Appendix I concealment.
		if dec, err = codecs.WithG711PLC(dec, decFrame); err != nil {
			return nil, err
		}
	}
	p := &processor{
		d:        d,
		onDigit:  cfg.OnDigit,
		inAudio:  in.Audio.PT,
		inCN:     -1,
		inTE:     -1,
		outTE:    -1,
		outPT:    out.Audio.PT,
		outClock: outC.ClockRate(),
		outStep:  uint32(codecs.FrameSamples(outC.ClockRate(), outPtime)),
		gap:      int64(2*outPtime + PlayoutInterval),
		dec:      dec,
		cn:       codecs.NewCNDecoder(),
		pk:       codecs.NewPacketizer(enc),
		inFrame:  inPtime,
		inClock:  inC.ClockRate(),
		decFrame: decFrame,
		decBuf:   make([]int16, codecs.FrameSamples(dec.SampleRate(), maxFrame)),
		rate:     enc.SampleRate(),
		pkt:      make([]byte, rtp.FixedHeaderSize+enc.MaxPayloadSize()),
		rx:       dtmf.NewReceiver(),
		events:   make(chan outEvent, 16),
	}
	p.conceal, _ = dec.(codecs.Concealer)
	p.lossAd, _ = enc.(codecs.LossAdapter)
	if dp.UseInbandFEC || isOpus(inC) {
		p.fec, _ = dec.(codecs.FECDecoder)
	}
	p.emitFn = p.emit
	jc := jitter.Config{ClockRate: inC.ClockRate(), FrameSamples: codecs.FrameSamples(inC.ClockRate(), inPtime)}
	if in.ComfortNoise.present() {
		p.inCN = int(in.ComfortNoise.PT)
		jc.ComfortNoisePT = in.ComfortNoise.PT
	}
	if in.TelephoneEvent.present() {
		p.inTE, p.inTEClk = int(in.TelephoneEvent.PT), max(in.TelephoneEvent.Clock, 8000)
	}
	if out.TelephoneEvent.present() {
		p.outTE = int(out.TelephoneEvent.PT)
		if p.tx, err = dtmf.NewSender(dtmf.SenderConfig{ClockRate: max(out.TelephoneEvent.Clock, 8000)}); err != nil {
			return nil, err
		}
	}
	if p.inTE < 0 && (p.tx != nil || p.onDigit != nil) {
		// A leg without telephone-event signals DTMF in-band: detect the
		// tones (ITU-T Q.24, Goertzel) in what it sends, to report them
		// and send them on as RFC 4733 where the far leg takes events.
		if p.det, err = dtmf.NewDetectorConfig(dtmf.DetectorConfig{SampleRate: dec.SampleRate()}); err != nil {
			return nil, err
		}
	}
	p.jb = jitter.New(jc)
	if dec.SampleRate() != enc.SampleRate() {
		if p.rs, err = codecs.NewResampler(dec.SampleRate(), enc.SampleRate()); err != nil {
			return nil, err
		}
		p.rsBuf = make([]int16, p.rs.MaxOut(len(p.decBuf)))
	}
	return p, nil
}

// isOpus reports whether c is Opus.
func isOpus(c codecs.Codec) bool { return c.Name() == "opus" }

// newLegEncoder creates the encoder of what is sent to a leg of format
// out (codec outC): its fmtp (what its peer asked to receive), its ptime
// (Opus has no 30 ms frame, RFC 6716 §2.1.4: 20 ms instead), and for Opus
// no wider a band than srcRate, the band the source carries
// (Params.SourceRate). It returns the encoder and the ptime it packs.
func newLegEncoder(outC codecs.Codec, out LegFormat, srcRate, complexity int) (codecs.Encoder, time.Duration, error) {
	outPtime := out.ptimeOf()
	if isOpus(outC) && outPtime == 30*time.Millisecond {
		outPtime = 20 * time.Millisecond
	}
	ep := codecs.ParseFmtp(out.Audio.Fmtp)
	ep.Ptime = outPtime
	ep.Complexity = complexity
	ep.PacketLossPercent = -1 // no FEC until the peer reports loss (processor.adaptLoss)
	if isOpus(outC) {
		// Code no wider a band than the source carries (Params.SourceRate),
		// at the source's own PCM rate where Opus has it: a G.711 source is
		// coded at 8 kHz, with no resampler on either side (RFC 7587 §4.1:
		// the RTP clock stays 48000 whatever rate is coded).
		ep.SourceRate = srcRate
		ep.SampleRate = 16000
		switch {
		case srcRate > 16000 && (ep.MaxPlaybackRate == 0 || ep.MaxPlaybackRate > 16000):
			ep.SampleRate = 48000
		case srcRate <= 8000 || (ep.MaxPlaybackRate > 0 && ep.MaxPlaybackRate <= 8000):
			ep.SampleRate = 8000
		}
	}
	enc, err := outC.NewEncoder(ep)
	return enc, outPtime, err
}

// jbStep is the source's timestamp step per packet.
func (p *processor) jbStep() uint32 {
	return uint32(codecs.FrameSamples(p.inClock, p.inFrame))
}

// start presets the state the processor continues from (a handover from
// a processor or an unapplied resumeRelay); it is called before the
// processor is installed.
func (p *processor) start(st outStream) {
	p.out = st
	p.out.resync = true
	p.ready.Store(true)
}

// handback returns the outgoing state to continue from once the
// processor is off the clock, and false if it never took one.
func (p *processor) handback() (outStream, bool) {
	if !p.ready.Load() {
		return outStream{}, false
	}
	st := p.out
	st.resync = true
	st.step = p.outStep
	return st, true
}

// close frees the codecs' C memory; the processor must be off the clock.
func (p *processor) close() {
	p.closeMu.Do(func() {
		if p.rs != nil {
			_ = p.rs.Close()
		}
	})
}

// HandleRTP implements RTPHandler: on the reactor goroutine, audio and CN
// go into the jitter buffer, telephone-events through the DTMF receiver.
func (p *processor) HandleRTP(pkt []byte, h rtp.Header, now int64) {
	if !p.ready.Load() {
		// The relay ran on this goroutine until now: its state is final.
		p.out = p.d.out
		p.out.resync = true
		p.ready.Store(true)
	}
	payload := h.Payload(pkt)
	switch {
	case h.PT == p.inAudio || int(h.PT) == p.inCN:
		p.jb.Push(h, payload, time.Unix(0, now))
	case int(h.PT) == p.inTE:
		p.receiveEvent(h, payload, now)
	default:
		p.d.from.stats.droppedPT.Add(1)
	}
}

// receiveEvent feeds an RFC 4733 packet to the receiver; each key
// released is reported (OnDigit) and queued toward the far leg at its
// telephone-event clock with its duration (RFC 4733 §2.5.2).
func (p *processor) receiveEvent(h rtp.Header, payload []byte, now int64) {
	reps, err := p.rx.Push(h, payload)
	if err != nil {
		return
	}
	for _, r := range reps {
		if r.Edge == dtmf.Press {
			p.rxStart = time.Unix(0, now)
			continue
		}
		if r.Key != 0 && p.onDigit != nil {
			p.onDigit(p.d.from, Digit{Key: r.Key, Start: p.rxStart, Duration: r.Time(p.inTEClk)})
		}
		if p.tx != nil {
			units := uint64(r.Duration) * uint64(p.tx.ClockRate()) / uint64(p.inTEClk)
			select {
			case p.events <- outEvent{code: r.Code, units: uint32(units)}:
			default: // more than 16 digits queued: drop
			}
		}
	}
}

// detectInband runs the DTMF detector over one decoded frame: a released
// digit is reported (OnDigit) and queued toward the far leg as RFC 4733
// events with its duration; the frame is muted while a digit sounds and
// the far leg takes events.
func (p *processor) detectInband(pcm []int16, now time.Time) {
	for _, d := range p.det.Process(pcm) {
		if d.Edge == dtmf.Press {
			p.detOn = true
			continue
		}
		p.detOn = false
		if p.onDigit != nil {
			p.onDigit(p.d.from, Digit{Key: d.Key, Start: now.Add(-d.Duration), Duration: d.Duration, Inband: true})
		}
		code, ok := dtmf.KeyToCode(d.Key)
		if p.tx == nil || !ok {
			continue
		}
		units := int64(d.Duration) * int64(p.tx.ClockRate()) / int64(time.Second)
		select {
		case p.events <- outEvent{code: code, units: uint32(units)}:
		default: // more than 16 digits queued: drop
		}
	}
	if p.detOn && p.tx != nil {
		clear(pcm)
	}
}

// sendDigit queues key for dur toward the far leg.
func (p *processor) sendDigit(key byte, dur time.Duration) error {
	code, ok := dtmf.KeyToCode(key)
	if !ok || p.tx == nil {
		return fmt.Errorf("%w (key %q)", ErrNotProcessing, key)
	}
	units := int64(dur) * int64(p.tx.ClockRate()) / int64(time.Second)
	if units <= 0 || units >= 1<<31 {
		return fmt.Errorf("media: digit duration %v: %w", dur, dtmf.ErrDuration)
	}
	select {
	case p.events <- outEvent{code: code, units: uint32(units)}:
		return nil
	default:
		return fmt.Errorf("media: digit queue full")
	}
}

// tick runs on the playout goroutine: it plays as many of the source's
// frames as one PlayoutInterval holds (one per tick at 20 ms, three every
// two ticks at 30 ms) and sends any telephone-event packets due.
func (p *processor) tick(now time.Time) {
	if !p.ready.Load() {
		return
	}
	p.now = now.UnixNano()
	p.debt += PlayoutInterval
	for p.debt >= p.inFrame {
		p.debt -= p.inFrame
		p.frame(now)
	}
	p.sendEvents()
	if p.statTicks++; p.statTicks%playoutStatTicks == 0 {
		p.reportPlayout()
		p.adaptLoss()
	}
}

// adaptLoss tunes the encoder's in-band FEC (Opus) to the loss the far
// leg's peer reports in RTCP for what this processor sends (RFC 7587 3.3):
// no FEC and no bitrate spent on it while the path is clean, protection as
// soon as a report shows loss. Loss comes in bursts, so after it the
// protection halves per clean report instead of stopping at once.
func (p *processor) adaptLoss() {
	if p.lossAd == nil {
		return
	}
	sess := p.d.to.RTCPSession()
	if sess == nil {
		return
	}
	f, n := sess.RemoteLoss()
	if n == p.lossReports {
		return
	}
	p.lossReports = n
	p.lossPct = max(int(math.Ceil(f*100)), p.lossPct/2)
	_ = p.lossAd.SetPacketLoss(p.lossPct)
}

// playoutStatTicks is how often (in ticks: one second) a processor hands
// its jitter buffer's figures to the leg's RTCP session.
const playoutStatTicks = 50

// reportPlayout hands the jitter buffer's figures to the receiving leg's
// statistics session, for its quality record: late and reordered packets,
// the mean and largest playout delay so far, and the audio concealed.
func (p *processor) reportPlayout() {
	sess := p.d.from.RTCPSession()
	if sess == nil {
		return
	}
	st := p.jb.Stats()
	if p.playing {
		p.delaySum += st.Delay
		p.delayN++
		p.delayMax = max(p.delayMax, st.Delay)
	}
	var mean time.Duration
	if p.delayN > 0 {
		mean = p.delaySum / time.Duration(p.delayN)
	}
	sess.SetPlayoutStats(rtcpstats.PlayoutStats{
		Late:      st.Late,
		Reordered: st.Reordered,
		Delay:     mean,
		MaxDelay:  p.delayMax,
		Concealed: time.Duration(st.Concealed+st.Expanded) * p.inFrame,
	})
}

// frame plays one source frame.
func (p *processor) frame(now time.Time) {
	r := p.jb.Pop(now)
	pcm := p.decBuf[:p.decFrame]
	switch r.Kind {
	case jitter.Frame:
		p.emptyRun = 0
		if int(r.Header.PT) == p.inCN {
			// RFC 3389: a SID sets the noise the gap that follows plays.
			if p.cn.Update(r.Payload) == nil {
				p.cnOn = true
			}
			p.cn.Generate(pcm)
			break
		}
		p.cnOn = false
		p.playing = true
		n, err := p.dec.Decode(r.Payload, p.decBuf)
		if err != nil || n == 0 {
			clear(pcm)
			break
		}
		pcm = p.decBuf[:n]
		if p.det != nil {
			p.detectInband(pcm, now)
		}
	case jitter.Missing, jitter.Expand:
		p.emptyRun = 0
		switch {
		case p.cnOn:
			p.cn.Generate(pcm)
		case p.fec != nil && r.Next != nil && p.decodeFEC(r.Next, pcm):
			// Recovered from the next packet's in-band FEC.
		case p.conceal != nil:
			n, err := p.conceal.Conceal(pcm)
			if err != nil {
				n = 0
			}
			clear(pcm[n:])
		default:
			clear(pcm)
		}
	default: // jitter.Empty
		if !p.playing && !p.cnOn {
			return // nothing started yet
		}
		p.emptyRun += p.inFrame
		switch {
		case p.cnOn:
			p.cn.Generate(pcm)
		case p.emptyRun > time.Second:
			return // the source stopped: send nothing until it resumes
		default:
			clear(pcm)
		}
	}
	if p.rs != nil {
		n := p.rs.Process(pcm, p.rsBuf)
		pcm = p.rsBuf[:n]
	}
	p.d.writeTaps(pcm, p.rate, now)
	if p.sinkOnly {
		return // a terminal's or a monitor's decoder: the taps are the consumer
	}
	_ = p.pk.Write(pcm, p.emitFn)
}

// decodeFEC recovers the lost frame pcm from next's in-band FEC and
// reports whether it could.
func (p *processor) decodeFEC(next []byte, pcm []int16) bool {
	n, err := p.fec.DecodeFEC(next, pcm)
	if err != nil || n == 0 {
		return false
	}
	clear(pcm[n:])
	p.fecUsed++
	return true
}

// emit sends one encoded payload toward the far leg.
func (p *processor) emit(payload []byte) error {
	seq, ts, marker := p.out.next(p.outStep, p.outClock, p.gap, p.now)
	h := rtp.Header{PT: p.outPT, Seq: seq, TS: ts, SSRC: p.out.ssrc, Marker: marker}
	n := h.PutFixed(p.pkt)
	n += copy(p.pkt[n:], payload)
	p.d.to.write(p.pkt[:n], p.now)
	return nil
}

// sendEvents sends the telephone-event packets due now (RFC 4733 §2.5.1),
// sharing the outgoing sequence space; the event's timestamp is the audio
// timestamp when it began.
func (p *processor) sendEvents() {
	if p.tx == nil {
		return
	}
	if !p.txOn {
		select {
		case ev := <-p.events:
			if p.tx.StartUnits(ev.code, ev.units) != nil {
				return
			}
			p.txOn, p.txStart, p.txTS = true, p.now, p.out.outTS
			p.txNext, p.txHave = p.tx.Next()
		default:
			return
		}
	}
	elapsed := uint32((p.now - p.txStart) * int64(p.tx.ClockRate()) / int64(time.Second))
	for p.txHave && p.txNext.SendAt <= elapsed+uint32(p.tx.ClockRate()/100) {
		pk := p.txNext
		p.out.outSeq++
		h := rtp.Header{PT: uint8(p.outTE), Seq: p.out.outSeq, TS: p.txTS + pk.Timestamp, SSRC: p.out.ssrc, Marker: pk.Marker}
		n := h.PutFixed(p.pkt)
		m, err := pk.Event.Marshal(p.pkt[n:])
		if err == nil {
			p.d.to.write(p.pkt[:n+m], p.now)
		}
		p.txNext, p.txHave = p.tx.Next()
	}
	if !p.txHave {
		p.txOn = false
	}
}

// SendDigit sends key toward to (one of the bridge's endpoints) as an RFC
// 4733 event lasting dur, at to's telephone-event clock: for SIP INFO
// received on the other leg. The direction toward to must be processed
// and to's leg must have negotiated telephone-event (ErrNotProcessing
// otherwise).
func (br *Bridge) SendDigit(to *Endpoint, key byte, dur time.Duration) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	var d *direction
	switch to {
	case br.b:
		d = br.ab
	case br.a:
		d = br.ba
	default:
		return fmt.Errorf("media: SendDigit: endpoint is not part of the bridge")
	}
	if d.proc == nil {
		return ErrNotProcessing
	}
	return d.proc.sendDigit(key, dur)
}
