package media

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/switchboard/switchboard/media/rtp"
)

// Reasons passed to a bridge's timeout callback: no RTP or RTCP arrived
// for Config.Inactivity from either endpoint, or from endpoint a only, or
// from b only (a dead peer while the other side still streams).
const (
	ReasonRTPTimeout  = "rtp-timeout"
	ReasonRTPTimeoutA = "rtp-timeout-a"
	ReasonRTPTimeoutB = "rtp-timeout-b"
)

// PayloadMap maps an incoming payload type to the codec sent out of the
// other endpoint: the outgoing PT and the clock rate used to keep
// timestamps continuous. Name, Channels and Fmtp are informational.
type PayloadMap map[uint8]Codec

// Bridge connects two endpoints: what arrives on one is sent out of the
// other. Each direction has its own outgoing stream (SSRC, sequence and
// timestamp space) and its own handler; today the handler is the relay
// (rewrite headers, never decode).
type Bridge struct {
	engine *Engine
	log    *slog.Logger
	a, b   *Endpoint
	ab, ba *direction
	// cfg is the configuration last applied (Configure), hold the music
	// on hold in force (hold.go); both guarded by mu.
	cfg  BridgeConfig
	hold *holdState

	mu        sync.Mutex // guards started, stopped; before Engine.mu
	started   bool
	stopped   bool
	onTimeout func(reason string) // set once by Start, read by the sweeper

	fb [2]*feedbackRelay // RTCP feedback relays, set once by RelayFeedback (feedback.go)

	fired  atomic.Bool
	paused atomic.Bool
	since  atomic.Int64 // unix ns the inactivity period counts from at the earliest
}

// NewBridge prepares a bridge between a and b. Nothing is relayed until
// Start. Without SetPayloadMap every payload type passes unchanged with an
// 8000 Hz clock.
func NewBridge(a, b *Endpoint, log *slog.Logger) *Bridge {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	br := &Bridge{engine: a.engine, log: log, a: a, b: b}
	br.ab = newDirection(a, b)
	br.ba = newDirection(b, a)
	return br
}

// SetPayloadMap sets the payload type rewrite for packets arriving on from
// (one of the bridge's endpoints) before they leave through the other.
// Packets with a PT missing from m are dropped and counted in from's
// DroppedPT; only mapped PTs count towards latching. A nil map passes every
// PT unchanged. It may be called at any time, also while relaying.
func (br *Bridge) SetPayloadMap(from *Endpoint, m PayloadMap) {
	d := br.ab
	switch from {
	case br.a:
	case br.b:
		d = br.ba
	default:
		br.log.Error("SetPayloadMap: endpoint is not part of the bridge", "port", from.port)
		return
	}
	d.table.Store(newPTTable(m))
}

// Start begins relaying in both directions. onTimeout (may be nil) is called
// once, from the engine's sweeper goroutine, when neither RTP nor RTCP
// arrived from an endpoint for Config.Inactivity while the bridge was not
// paused, with the reason naming which endpoint went silent (or both);
// it must not block (post an event to the call). Start after Start or Stop does
// nothing.
func (br *Bridge) Start(onTimeout func(reason string)) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.started || br.stopped {
		return
	}
	br.started = true
	br.onTimeout = onTimeout
	br.since.Store(br.engine.cfg.Now().UnixNano())
	br.a.rx.Store(br.ab)
	br.b.rx.Store(br.ba)
	br.engine.watch(br)
}

// Pause suspends (true) or resumes (false) the inactivity timer, for calls
// on hold. Relaying continues either way. Resuming restarts the period.
func (br *Bridge) Pause(p bool) {
	if !p {
		br.since.Store(br.engine.cfg.Now().UnixNano())
	}
	br.paused.Store(p)
}

// Stop ends relaying, processing (its streams leave the playout clock)
// and the inactivity watch. The endpoints stay open.
func (br *Bridge) Stop() {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.stopped {
		return
	}
	br.stopped = true
	br.endHold()
	for _, d := range []*direction{br.ab, br.ba} {
		if p := d.proc; p != nil {
			d.proc = nil
			br.engine.playout.remove(p)
			p.close()
		}
		br.stopMonitor(d)
	}
	if br.started {
		br.a.rx.CompareAndSwap(br.ab, nil)
		br.b.rx.CompareAndSwap(br.ba, nil)
		br.engine.unwatch(br)
	}
}

// idle returns how long (ns) each endpoint has been without RTP and RTCP
// at now, or -1, -1 while paused. A peer that keeps sending RTCP (on hold
// without Pause, or DTX) is alive.
func (br *Bridge) idle(now int64) (a, b int64) {
	if br.paused.Load() {
		return -1, -1
	}
	since := br.since.Load()
	return now - max(since, br.a.lastRx.Load(), br.a.lastRTCP.Load()),
		now - max(since, br.b.lastRx.Load(), br.b.lastRTCP.Load())
}

// timeoutReason names what went silent by the idle times, or "" when
// nothing has been silent for limit.
func timeoutReason(a, b, limit int64) string {
	switch {
	case a >= limit && b >= limit:
		return ReasonRTPTimeout
	case a >= limit:
		return ReasonRTPTimeoutA
	case b >= limit:
		return ReasonRTPTimeoutB
	}
	return ""
}

// RTPHandler consumes the RTP packets that arrive on an endpoint: the
// seam between an endpoint and whatever carries its media (the bridge's
// relay or processing chain, later a conference room). HandleRTP runs on
// the endpoint's reactor goroutine and must not block; pkt (header h,
// arrival time now in unix ns) is valid only during the call and may be
// modified in place. h is passed by value: a pointer through an interface
// call would escape and cost an allocation per packet.
type RTPHandler interface {
	HandleRTP(pkt []byte, h rtp.Header, now int64)
}

type handlerBox struct{ h RTPHandler }

// direction is one way through a bridge: packets read on from, sent out of
// to.
type direction struct {
	from, to *Endpoint
	table    atomic.Pointer[ptTable]
	handler  atomic.Pointer[handlerBox]
	// out is the outgoing stream state of the relay, owned by from's
	// reactor goroutine (the only one that runs the relay). A processing
	// chain takes a copy when it starts and hands its own state back when
	// it stops (process.go, "Handover").
	out outStream
	// taps receive the direction's PCM while it is processed (copy on
	// write; nil when none).
	taps atomic.Pointer[[]Tap]
	// proc is the processing chain installed by Configure, nil while the
	// direction relays. Guarded by Bridge.mu.
	proc *processor
	// monitor decodes a copy of what a relayed direction carries for its
	// taps (BridgeConfig.Taps, monitor.go): the relay hands it each packet
	// it sends, and it decodes on the playout clock. Set under Bridge.mu;
	// nil when none.
	monitor atomic.Pointer[processor]
	// digits reads the RFC 4733 events a relayed direction carries
	// (relay_digits.go); set by Configure, nil when none.
	digits atomic.Pointer[relayDigits]
	// source is the relayed source's SSRC and sequence offset, packed
	// (feedback.go); seen is the relay's own copy, so that it stores only
	// on a change.
	source atomic.Uint64
	seen   uint64
}

func newDirection(from, to *Endpoint) *direction {
	d := &direction{from: from, to: to, out: newOutStream()}
	d.setHandler(&relay{d: d})
	return d
}

// setHandler swaps the direction's handler atomically; the next packet
// read goes to h.
func (d *direction) setHandler(h RTPHandler) { d.handler.Store(&handlerBox{h: h}) }

func (d *direction) handle(pkt []byte, h rtp.Header, now int64) {
	d.handler.Load().h.HandleRTP(pkt, h, now)
}

// known reports whether packets with payload type pt are carried.
func (d *direction) known(pt uint8) bool {
	t := d.table.Load()
	return t == nil || t[pt&0x7f].ok
}

// relay is the fast path: rewrite PT/SSRC/seq/ts in place and send, with no
// copy, no channel and no allocation.
type relay struct{ d *direction }

// HandleRTP implements RTPHandler.
func (r *relay) HandleRTP(pkt []byte, h rtp.Header, now int64) {
	d := r.d
	pt, clock := h.PT, defaultClock
	if t := d.table.Load(); t != nil {
		e := &t[h.PT&0x7f]
		if !e.ok {
			d.from.stats.droppedPT.Add(1)
			return
		}
		pt, clock = e.pt, int(e.clock)
	}
	if m := d.monitor.Load(); m != nil {
		m.copyRTP(h, pkt, now) // before the rewrite: the source's own PT and numbers
	}
	if rd := d.digits.Load(); rd != nil && h.PT == rd.pt {
		rd.observe(d.from, h, h.Payload(pkt), now)
	}
	if d.out.rewrite(pkt, &h, pt, clock, now) {
		d.from.stats.sourceChanges.Add(1)
	}
	if v := uint64(d.out.inSSRC)<<32 | uint64(d.out.seqOff); v != d.seen {
		d.seen = v
		d.source.Store(v) // for RTCP feedback toward the source (feedback.go)
	}
	d.to.write(pkt, now)
}

// ptTable is a PayloadMap compiled for lookup by array index.
type ptTable [128]ptEntry

type ptEntry struct {
	ok    bool
	pt    uint8
	clock int32
}

func newPTTable(m PayloadMap) *ptTable {
	if m == nil {
		return nil
	}
	t := new(ptTable)
	for in, c := range m {
		if in > 127 || c.PT > 127 {
			continue
		}
		clock := c.Clock
		if clock <= 0 {
			clock = defaultClock
		}
		t[in] = ptEntry{ok: true, pt: c.PT, clock: int32(clock)}
	}
	return t
}
