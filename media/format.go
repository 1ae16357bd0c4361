package media

import (
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// LegFormat is what one leg negotiated in SDP: the audio codec with its
// fmtp, the packet time, and the optional telephone-event (RFC 4733) and
// comfort-noise (RFC 3389) payload types. A Codec with an empty Name means
// "not negotiated".
type LegFormat struct {
	// Audio is the negotiated audio codec (PT, rtpmap name/clock/channels,
	// fmtp).
	Audio Codec
	// Ptime is the leg's packet time (a=ptime); zero means 20 ms.
	Ptime time.Duration
	// TelephoneEvent is the leg's telephone-event payload type and clock,
	// if any.
	TelephoneEvent Codec
	// ComfortNoise is the leg's CN payload type, if any.
	ComfortNoise Codec
}

// Digit is a DTMF key press seen on a direction (RFC 4733 events, or
// in-band tones where the direction is processed), reported once when the
// key is released.
type Digit struct {
	// Key is '0'-'9', '*', '#', 'A'-'D'.
	Key byte
	// Start is when the press began, by the arrival of its first report.
	Start time.Time
	// Duration is the length of the press from the event's own duration
	// field (exact, whatever the clock rate), or as the in-band detector
	// measured it.
	Duration time.Duration
	// Inband tells a digit found as tones in the audio (ITU-T Q.24) from
	// one received as RFC 4733 events.
	Inband bool
}

// BridgeConfig is what Bridge.Configure needs to choose, per direction,
// between the relay and the processing chain.
type BridgeConfig struct {
	// A and B are the formats the bridge's two endpoints negotiated (A is
	// the first endpoint given to NewBridge).
	A, B LegFormat
	// Process forces the processing chain in both directions even where
	// the relay would do (media.mode: process).
	Process bool
	// OpusComplexity is the Opus encoder complexity (1-10); zero selects
	// the codecs package's default (5).
	OpusComplexity int
	// OnDigit, if set, is called for each DTMF key received, on a
	// processing direction or as RFC 4733 on a relayed one
	// (relay_digits.go), on the receiving endpoint's reactor goroutine
	// (from is that endpoint); it must not block (post an event to the
	// call, e.g. to send SIP INFO).
	OnDigit func(from *Endpoint, d Digit)
	// Taps asks for PCM on the taps of relayed directions too: a copy of
	// each relayed packet is decoded on the playout clock, off the relay's
	// path (monitor.go). Processed directions feed their taps anyway.
	Taps bool
}

// Errors of Configure and SendDigit.
var (
	// ErrNoTranscoding is wrapped when a direction needs processing and a
	// codec cannot be decoded or encoded (CanTranscode is false, or this
	// build has no codecs).
	ErrNoTranscoding = errors.New("media: cannot transcode")
	// ErrNotProcessing is returned by SendDigit for a direction that
	// relays, or whose far leg has no telephone-event.
	ErrNotProcessing = errors.New("media: direction is not processed or has no telephone-event")
)

// ptimeOf returns f's packet time, 20 ms when unset.
func (f *LegFormat) ptimeOf() time.Duration {
	if f.Ptime <= 0 {
		return 20 * time.Millisecond
	}
	return f.Ptime
}

func (c *Codec) present() bool { return c.Name != "" }

// relayable reports whether packets from in can be relayed to out as they
// are: same codec and ptime, and nothing the far leg lacks (telephone-event
// at the same clock, CN).
func relayable(in, out *LegFormat) bool {
	if !sameCodec(in.Audio, out.Audio) || in.ptimeOf() != out.ptimeOf() {
		return false
	}
	if in.TelephoneEvent.present() &&
		(!out.TelephoneEvent.present() || in.TelephoneEvent.Clock != out.TelephoneEvent.Clock) {
		return false
	}
	return !in.ComfortNoise.present() || out.ComfortNoise.present()
}

// relayMap is the PayloadMap of a relayed direction from in to out.
func relayMap(in, out *LegFormat) PayloadMap {
	m := PayloadMap{in.Audio.PT: out.Audio}
	if in.TelephoneEvent.present() {
		m[in.TelephoneEvent.PT] = out.TelephoneEvent
	}
	if in.ComfortNoise.present() {
		m[in.ComfortNoise.PT] = out.ComfortNoise
	}
	return m
}

// acceptMap lists what a processed direction from in accepts (for
// latching and the PT check): its own payload types, unchanged; the
// processor itself tells them apart.
func acceptMap(in *LegFormat) PayloadMap { return relayMap(in, in) }

// Configure chooses, for each direction, the relay (same codec and ptime
// on both legs, nothing to decode: the PayloadMap is built here, as
// SetPayloadMap would) or the processing chain (jitter buffer → decode →
// resample → taps → encode → packetize at the far leg's ptime), given
// both legs' negotiated formats. It may be called before Start and again
// at any time (re-INVITE): a direction that switches hands its outgoing
// stream (SSRC, sequence, timestamp) over, so the far side sees one
// continuous stream (process.go, "Handover"). On error nothing changes.
func (br *Bridge) Configure(cfg BridgeConfig) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.stopped {
		return fmt.Errorf("media: configure a stopped bridge")
	}
	if br.hold != nil {
		return ErrHeld
	}
	br.cfg = cfg
	type plan struct {
		d       *direction
		in, out *LegFormat
		p       *processor
	}
	plans := []plan{{d: br.ab, in: &cfg.A, out: &cfg.B}, {d: br.ba, in: &cfg.B, out: &cfg.A}}
	for i := range plans {
		pl := &plans[i]
		if !cfg.Process && relayable(pl.in, pl.out) {
			continue
		}
		p, err := newProcessor(pl.d, *pl.in, *pl.out, &cfg)
		if err != nil {
			for _, q := range plans[:i] {
				if q.p != nil {
					q.p.close()
				}
			}
			return fmt.Errorf("media: %s → %s: %w", pl.in.Audio.Name, pl.out.Audio.Name, err)
		}
		pl.p = p
	}
	for _, pl := range plans {
		if pl.p == nil {
			br.toRelay(pl.d, relayMap(pl.in, pl.out))
		} else {
			br.toProcess(pl.d, pl.p, acceptMap(pl.in))
		}
		br.setMonitor(pl.d, *pl.in, cfg.Taps && pl.p == nil)
		if pl.p == nil {
			pl.d.digits.Store(newRelayDigits(pl.in, cfg.OnDigit))
		} else {
			pl.d.digits.Store(nil) // the processor reads them itself
		}
	}
	return nil
}

// Processing reports whether packets arriving on from are processed
// (decoded and re-encoded) rather than relayed.
func (br *Bridge) Processing(from *Endpoint) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	d := br.dir(from)
	return d != nil && d.proc != nil
}

// dir returns the direction fed by from, nil if from is not in the bridge.
func (br *Bridge) dir(from *Endpoint) *direction {
	switch from {
	case br.a:
		return br.ab
	case br.b:
		return br.ba
	}
	return nil
}

// toRelay makes d relay with map m. A processor it replaces is first
// taken off the playout clock (after which no tick touches it), then its
// outgoing stream state is handed to the relay through a resumeRelay,
// which adopts it on the reactor goroutine with the next packet. br.mu is
// held.
func (br *Bridge) toRelay(d *direction, m PayloadMap) {
	d.table.Store(newPTTable(m))
	p := d.proc
	if p == nil {
		return
	}
	d.proc = nil
	br.engine.playout.remove(p)
	if st, ok := p.handback(); ok {
		rr := &resumeRelay{d: d, state: st}
		rr.box = &handlerBox{h: rr}
		d.handler.Store(rr.box)
	} else {
		d.setHandler(&relay{d: d})
	}
	p.close()
}

// toProcess installs p on d. The state p starts from is the replaced
// processor's (taken back after it left the clock), or a resumeRelay's not
// yet adopted; otherwise p copies the relay's outStream on the reactor
// goroutine at its first packet. br.mu is held.
func (br *Bridge) toProcess(d *direction, p *processor, accept PayloadMap) {
	if old := d.proc; old != nil {
		br.engine.playout.remove(old)
		if st, ok := old.handback(); ok {
			p.start(st)
		}
		old.close()
	} else if rr, ok := d.handler.Load().h.(*resumeRelay); ok {
		p.start(rr.state)
	}
	d.proc = p
	d.setHandler(p)
	d.table.Store(newPTTable(accept))
	br.engine.playout.add(p)
}

// resumeRelay is the relay's first handler after processing: on the
// reactor goroutine, which owns the relay's outStream, it adopts the
// state the processor handed back, then installs the plain relay.
type resumeRelay struct {
	d     *direction
	box   *handlerBox
	state outStream
}

// HandleRTP implements RTPHandler.
func (r *resumeRelay) HandleRTP(pkt []byte, h rtp.Header, now int64) {
	d := r.d
	if !d.handler.CompareAndSwap(r.box, &handlerBox{h: &relay{d: d}}) {
		// Configure replaced this handler meanwhile (and gave the new one
		// the state): let it have the packet.
		d.handle(pkt, h, now)
		return
	}
	d.out = r.state
	d.handle(pkt, h, now)
}
