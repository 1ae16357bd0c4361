//go:build cgo

package media

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/media/rtp"
)

// newSinkProcessor is the receiving half of a Terminal, and the decoding
// copy of a relayed direction: the processing chain up to the taps, with
// nothing encoded or sent.
func newSinkProcessor(d *direction, f LegFormat, cfg *BridgeConfig) (*processor, error) {
	out := f
	out.TelephoneEvent = Codec{} // nothing is sent: no events toward anyone
	p, err := newProcessor(d, f, out, cfg)
	if err != nil {
		return nil, err
	}
	p.sinkOnly = true
	return p, nil
}

// generator is a Terminal's sending half: every tick it reads one
// PlayoutInterval of PCM from its source, encodes and packetizes it at
// the leg's ptime and sends it with its own outStream. It is owned by
// the playout goroutine once its terminal is on the clock.
type generator struct {
	ep     *Endpoint
	src    Source
	pk     *codecs.Packetizer
	rate   int // the encoder's PCM rate
	pcm    []int16
	pkt    []byte
	out    outStream
	pt     uint8
	clock  int
	step   uint32
	gap    int64
	now    int64
	emitFn func([]byte) error
}

func newGenerator(ep *Endpoint, f LegFormat, src Source, complexity int) (*generator, error) {
	c, ok := lookupCodec(newRegistry(), f.Audio)
	if !ok {
		return nil, fmt.Errorf("%w: no encoder for %s/%d", ErrNoTranscoding, f.Audio.Name, f.Audio.Clock)
	}
	enc, ptime, err := newLegEncoder(c, f, 48000, complexity)
	if err != nil {
		return nil, err
	}
	g := &generator{
		ep:    ep,
		src:   src,
		pk:    codecs.NewPacketizer(enc),
		rate:  enc.SampleRate(),
		pcm:   make([]int16, codecs.FrameSamples(enc.SampleRate(), PlayoutInterval)),
		pkt:   make([]byte, rtp.FixedHeaderSize+enc.MaxPayloadSize()),
		out:   newOutStream(),
		pt:    f.Audio.PT,
		clock: c.ClockRate(),
		step:  uint32(codecs.FrameSamples(c.ClockRate(), ptime)),
		gap:   int64(2*ptime + PlayoutInterval),
	}
	g.emitFn = g.emit
	return g, nil
}

// continueFrom takes over old's outgoing stream (the terminal was
// reconfigured): same SSRC, sequence +1, marker set.
func (g *generator) continueFrom(old *generator) {
	g.out = old.out
	g.out.resync = true
	g.out.step = old.step
}

// tick sends one PlayoutInterval of the source.
func (g *generator) tick(now time.Time) {
	g.now = now.UnixNano()
	if !g.src.ReadPCM(g.pcm, g.rate) {
		return
	}
	_ = g.pk.Write(g.pcm, g.emitFn)
}

// emit sends one encoded payload.
func (g *generator) emit(payload []byte) error {
	seq, ts, marker := g.out.next(g.step, g.clock, g.gap, g.now)
	h := rtp.Header{PT: g.pt, Seq: seq, TS: ts, SSRC: g.out.ssrc, Marker: marker}
	n := h.PutFixed(g.pkt)
	n += copy(g.pkt[n:], payload)
	g.ep.write(g.pkt[:n], g.now)
	return nil
}

// copyRTP takes a copy of a relayed packet's audio into the monitor's
// jitter buffer, on the reactor goroutine; other payload types are
// ignored. It does not allocate.
func (p *processor) copyRTP(h rtp.Header, pkt []byte, now int64) {
	if h.PT != p.inAudio && int(h.PT) != p.inCN {
		return
	}
	p.jb.Push(h, h.Payload(pkt), time.Unix(0, now))
	if !p.ready.Load() {
		p.ready.Store(true)
	}
}
