package jitter

import (
	"sync"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// Kind says what a Pop produced for the current playout tick.
type Kind uint8

const (
	// Empty means there is nothing to play and nothing was lost: before
	// the first packet, while prefetching, or in silence (DTX, or after
	// comfort noise). The caller plays comfort noise or silence.
	Empty Kind = iota
	// Frame means Result.Header and Result.Payload hold the next frame.
	Frame
	// Missing means the frame due now was lost or has not arrived in
	// time; it will not be played later. The caller conceals (PLC).
	Missing
	// Expand means the buffer is waiting one more frame for a packet that
	// may still arrive, lengthening its delay by one frame. Nothing is
	// skipped; the caller conceals exactly as for Missing.
	Expand
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Empty:
		return "empty"
	case Frame:
		return "frame"
	case Missing:
		return "missing"
	case Expand:
		return "expand"
	}
	return "unknown"
}

// Result is what one Pop produced.
type Result struct {
	// Kind says what to play.
	Kind Kind
	// Header is the RTP header of the frame (Kind == Frame).
	Header rtp.Header
	// Payload is the frame's payload (Kind == Frame). It stays valid
	// until the next Pop.
	Payload []byte
	// Next is set on a Missing result when the packet right after the
	// missing frame is already buffered: its payload, for decoders whose
	// packets carry the previous frame as in-band FEC (Opus LBRR, RFC 6716
	// §2.1.7). It stays valid until the next Pop; the packet is still
	// played on its own tick.
	Next []byte
	// Accelerate is set on a frame when the buffer holds at least one
	// frame more than its target. A caller that finds the frame silent
	// or quiet may drop it and call Pop again with the same time; each
	// extra Pop shortens the delay by one frame.
	Accelerate bool
}

// Verdict says what Push did with a packet.
type Verdict uint8

const (
	// Queued means the packet is buffered for playout.
	Queued Verdict = iota
	// Duplicate means a packet with this sequence number was already
	// received; it is discarded.
	Duplicate
	// Late means the packet's playout time has passed (or it is too old
	// to place); it is discarded.
	Late
	// Held means the packet does not fit the current stream (new SSRC,
	// sequence or timestamp jump). It is held until a second packet
	// confirms the new stream, or the current stream runs dry, and is
	// then played; otherwise it is discarded as a stray.
	Held
	// Rejected means the payload is longer than Config.MaxPayload.
	Rejected
	// Overflowed means the buffer is full and the packet is older than
	// everything in it; it is discarded.
	Overflowed
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Queued:
		return "queued"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	case Held:
		return "held"
	case Rejected:
		return "rejected"
	case Overflowed:
		return "overflowed"
	}
	return "unknown"
}

const (
	// probationGap is how far (in sequence numbers) the packet confirming
	// a held one may be from it, allowing a few losses in between.
	probationGap = 4
	// seenBits is the duplicate-detection window, in sequence numbers.
	seenBits = 1024
	// shrinkTicks sets the pace of forced frame drops: with an excess of
	// e whole frames over the target, one frame is dropped at most every
	// shrinkTicks/e Pops (every second at e = 2 with 20 ms frames).
	shrinkTicks = 100
	// targetHoldMillis is how long the target stays at a peak.
	targetHoldMillis = 2000

	// Extended sequence numbers and timestamps start here, far from zero,
	// so that unwrapping backwards never goes negative.
	seqOrigin = int64(1) << 32
	tsOrigin  = int64(1) << 40
)

// Buffer is an adaptive jitter and reorder buffer for one received RTP
// stream: Push packets as they arrive, Pop one frame per playout tick.
// It is safe for concurrent use: typically the socket reader pushes while
// the playout ticker pops.
type Buffer struct {
	mu sync.Mutex

	// Configuration, in RTP clock units (samples).
	rate       int64
	frame      int64
	minDelay   int64
	maxDelay   int64
	jump       int64 // timing error that marks a discontinuity
	targetHold int64 // how long a target peak is held
	candTTL    int64 // how long a held packet waits
	maxPackets int
	maxPayload int
	maxConceal int
	cnPT       uint8

	// Packet store: a ring indexed by extended sequence number. Every
	// stored packet has a sequence number in [nextSeq, nextSeq+len(slots)).
	slots   []slot
	mask    int64
	count   int
	nextSeq int64 // sequence number after the last one played or dropped

	// Stream mapping: extended = highest + signed 16/32-bit difference.
	started    bool
	ssrc       uint32
	highSeq    int64
	highSeqRaw uint16
	highTS     int64
	highTSRaw  uint32
	firstSeq   int64
	unique     uint64
	seen       [seenBits / 64]uint64
	prev       prevSource

	cand     candidate
	haveCand bool

	// Playout state.
	primed     bool
	playTS     int64 // timestamp of the frame the next Pop plays
	gapMissing int   // Missing results since the last frame
	gapSilent  bool  // the current gap has been declared silence
	lastCN     bool  // the last frame was comfort noise
	pops       uint64
	lastDrop   uint64
	delay      int64
	target     int64 // current target: the quantile, held at its peak
	targetAt   int64 // when the held peak was last reached

	est       estimator
	epoch     time.Time
	haveEpoch bool
	out       []byte
	next      []byte // Result.Next's copy

	st Stats
}

// slot holds one buffered packet.
type slot struct {
	used bool
	seq  int64
	ts   int64
	hdr  rtp.Header
	buf  []byte
}

// candidate is a packet held while a discontinuity is confirmed.
type candidate struct {
	hdr     rtp.Header
	arrival int64
	buf     []byte
}

// prevSource remembers the mapping of the source replaced by the last SSRC
// change, so its stragglers can still be placed.
type prevSource struct {
	valid  bool
	ssrc   uint32
	seqRaw uint16
	seqExt int64
	tsRaw  uint32
	tsExt  int64
}

// New returns an empty buffer configured by cfg (see Config for defaults).
// All memory for packets is allocated here, except that a slot grows once
// for a payload larger than it has seen.
func New(cfg Config) *Buffer {
	c := cfg.withDefaults()
	b := &Buffer{
		rate:       int64(c.ClockRate),
		frame:      int64(c.FrameSamples),
		maxPackets: c.MaxPackets,
		maxPayload: c.MaxPayload,
		maxConceal: c.MaxConceal,
		cnPT:       c.ComfortNoisePT,
	}
	b.minDelay = b.durSamples(c.MinDelay)
	b.maxDelay = b.durSamples(c.MaxDelay)
	b.jump = b.maxDelay + b.frame
	b.candTTL = b.maxDelay + 2*b.frame
	b.targetHold = b.rate * targetHoldMillis / 1000

	n := 1
	for n < c.MaxPackets {
		n <<= 1
	}
	b.slots = make([]slot, n)
	b.mask = int64(n - 1)
	prealloc := min(slotPrealloc, c.MaxPayload)
	for i := range b.slots {
		b.slots[i].buf = make([]byte, 0, prealloc)
	}
	b.out = make([]byte, 0, prealloc)
	b.cand.buf = make([]byte, 0, prealloc)

	b.est.init(b.rate, b.frame, b.maxDelay, b.durSamples(c.InitialDelay), c.Quantile)
	b.target = b.clampTarget(b.est.quantile())
	return b
}

// durSamples converts a duration to RTP clock units.
func (b *Buffer) durSamples(d time.Duration) int64 {
	ns := int64(d)
	return ns/1e9*b.rate + ns%1e9*b.rate/1e9
}

// samplesDur converts RTP clock units to a duration.
func (b *Buffer) samplesDur(s int64) time.Duration {
	return time.Duration(s/b.rate*1e9 + s%b.rate*1e9/b.rate)
}

// samplesAt converts a time to RTP clock units since the first time seen.
func (b *Buffer) samplesAt(t time.Time) int64 {
	if !b.haveEpoch {
		b.epoch = t
		b.haveEpoch = true
	}
	return b.durSamples(t.Sub(b.epoch))
}

func (b *Buffer) clampTarget(t int64) int64 {
	return min(max(t, b.minDelay), b.maxDelay)
}

// updateTarget returns the target delay at time t: the current quantile,
// or its highest value within the last targetHold if that is higher. A
// rise takes effect at once; a fall only after targetHold without a new
// peak, so that a burst pattern recurring within that time stays covered
// even while its weight in the histogram hovers around the quantile.
func (b *Buffer) updateTarget(t int64) int64 {
	q := b.clampTarget(b.est.quantile())
	if q >= b.target || t-b.targetAt > b.targetHold {
		if q >= b.target {
			b.targetAt = t
		}
		b.target = q
	}
	return b.target
}

func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}

// Push offers one received packet. The payload is copied; the caller may
// reuse it at once. arrival is when the packet was received, on the same
// clock as the times given to Pop.
func (b *Buffer) Push(h rtp.Header, payload []byte, arrival time.Time) Verdict {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.Received++
	if len(payload) > b.maxPayload {
		b.st.Rejected++
		return Rejected
	}
	a := b.samplesAt(arrival)
	if !b.started {
		b.start(h)
		seq, ts := b.extend(h)
		return b.accept(h, payload, a, seq, ts)
	}
	if h.SSRC != b.ssrc {
		if p := &b.prev; p.valid && h.SSRC == p.ssrc {
			// A straggler of the source we switched away from: place it
			// with that source's mapping if it is not newer than what
			// we had from it.
			if ds := int16(h.Seq - p.seqRaw); ds <= 0 && ds >= -rtp.MaxMisorder {
				seq := p.seqExt + int64(ds)
				ts := p.tsExt + int64(int32(h.TS-p.tsRaw))
				return b.accept(h, payload, a, seq, ts)
			}
		}
		return b.hold(h, payload, a)
	}
	seq, ts := b.extend(h)
	if b.discontinuous(seq, ts, a) {
		return b.hold(h, payload, a)
	}
	return b.accept(h, payload, a, seq, ts)
}

// start adopts h as the first packet of the stream.
func (b *Buffer) start(h rtp.Header) {
	b.started = true
	b.ssrc = h.SSRC
	b.highSeq = seqOrigin - 1
	b.highSeqRaw = h.Seq - 1
	b.highTS = tsOrigin
	b.highTSRaw = h.TS
	b.firstSeq = seqOrigin
	b.nextSeq = seqOrigin
}

// extend unwraps h's sequence number and timestamp relative to the highest
// packet so far (RFC 3550 A.1 counts wraps the same way).
func (b *Buffer) extend(h rtp.Header) (seq, ts int64) {
	seq = b.highSeq + int64(int16(h.Seq-b.highSeqRaw))
	ts = b.highTS + int64(int32(h.TS-b.highTSRaw))
	return seq, ts
}

// discontinuous reports whether a packet of the current SSRC does not fit
// the stream: a sequence jump beyond RFC 3550 A.1's limits, sequence and
// timestamp moving in opposite directions, or a timestamp that disagrees
// with the arrival time by more than the largest playable delay.
func (b *Buffer) discontinuous(seq, ts, a int64) bool {
	ds, dt := seq-b.highSeq, ts-b.highTS
	if ds > rtp.MaxDropout || ds < -rtp.MaxMisorder {
		return true
	}
	if (ds > 0 && dt < 0) || (ds < 0 && dt > 0) {
		return true
	}
	base, ok := b.est.base(a)
	if !ok {
		return false
	}
	d := a - ts
	if d < base-b.jump && dt-ds*b.frame > b.jump {
		// Far ahead of real time, and the timestamp moved further than
		// the sequence number: the timestamp jumped.
		return true
	}
	// A new packet far behind real time: the timestamps stood still
	// while time passed (or a long stall is being flushed). Old sequence
	// numbers that are late are ordinary late packets.
	return ds > 0 && d > base+b.jump
}

// accept files a packet of the current mapping.
func (b *Buffer) accept(h rtp.Header, p []byte, a, seq, ts int64) Verdict {
	if b.highSeq-seq >= seenBits {
		b.st.Late++
		return Late
	}
	if seq <= b.highSeq && b.isSeen(seq) {
		b.st.Duplicates++
		return Duplicate
	}
	b.markSeen(seq)
	b.unique++
	if seq < b.firstSeq {
		b.firstSeq = seq
	}
	if seq > b.highSeq {
		b.highSeq, b.highSeqRaw = seq, h.Seq
		b.highTS, b.highTSRaw = ts, h.TS
	} else {
		b.st.Reordered++
	}
	b.est.observe(a, a-ts)

	if b.primed {
		if ts < b.playTS || seq < b.nextSeq {
			b.st.Late++
			return Late
		}
	} else if seq < b.nextSeq {
		if b.highSeq-seq >= int64(len(b.slots)) {
			b.st.Late++
			return Late
		}
		b.nextSeq = seq // reordered before playout began
	}
	return b.store(h, p, seq, ts)
}

func (b *Buffer) isSeen(seq int64) bool {
	i := uint64(seq) % seenBits
	return b.seen[i/64]&(1<<(i%64)) != 0
}

// markSeen records seq, first clearing the bits that the window slides over.
func (b *Buffer) markSeen(seq int64) {
	if seq > b.highSeq {
		n := min(seq-b.highSeq, seenBits)
		for s := seq - n + 1; s <= seq; s++ {
			i := uint64(s) % seenBits
			b.seen[i/64] &^= 1 << (i % 64)
		}
	}
	i := uint64(seq) % seenBits
	b.seen[i/64] |= 1 << (i % 64)
}

// store copies the packet into its ring slot, making room if needed.
func (b *Buffer) store(h rtp.Header, p []byte, seq, ts int64) Verdict {
	n := int64(len(b.slots))
	if seq >= b.nextSeq+n {
		// Too far ahead for the ring: drop the oldest packets until it
		// fits (an empty ring just moves).
		for b.count > 0 && seq >= b.nextSeq+n {
			if s := &b.slots[b.nextSeq&b.mask]; s.used {
				b.free(s)
				b.st.Overflow++
			}
			b.nextSeq++
		}
		if seq >= b.nextSeq+n {
			b.nextSeq = seq
		}
	}
	if b.count >= b.maxPackets {
		old := b.headSlot()
		if seq < old.seq {
			b.st.Overflow++
			return Overflowed
		}
		b.nextSeq = old.seq + 1
		b.free(old)
		b.st.Overflow++
	}
	s := &b.slots[seq&b.mask]
	if s.used { // cannot happen while the ring invariant holds
		b.free(s)
		b.st.Overflow++
	}
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	s.buf = s.buf[:len(p)]
	copy(s.buf, p)
	s.used, s.seq, s.ts, s.hdr = true, seq, ts, h
	b.count++
	return Queued
}

func (b *Buffer) free(s *slot) {
	s.used = false
	b.count--
}

// headSlot returns the buffered packet with the lowest sequence number.
func (b *Buffer) headSlot() *slot {
	if b.count == 0 {
		return nil
	}
	end := b.nextSeq + int64(len(b.slots))
	for seq := b.nextSeq; seq < end; seq++ {
		if s := &b.slots[seq&b.mask]; s.used {
			return s
		}
	}
	return nil
}

// slotAt returns the buffered packet with sequence number seq, if any.
func (b *Buffer) slotAt(seq int64) *slot {
	if seq < b.nextSeq || seq >= b.nextSeq+int64(len(b.slots)) {
		return nil
	}
	if s := &b.slots[seq&b.mask]; s.used && s.seq == seq {
		return s
	}
	return nil
}

// dropBefore discards buffered packets whose slot starts before ts,
// counting them in *counter.
func (b *Buffer) dropBefore(ts int64, counter *uint64) {
	for {
		h := b.headSlot()
		if h == nil || h.ts >= ts {
			return
		}
		*counter++
		b.nextSeq = h.seq + 1
		b.free(h)
	}
}

// hold keeps a packet that does not fit the stream, or confirms the one
// already held and resynchronises to it (RFC 3550 A.1 probation, with two
// packets).
func (b *Buffer) hold(h rtp.Header, p []byte, a int64) Verdict {
	if b.haveCand && b.follows(h, a) {
		b.adopt()
		seq, ts := b.extend(h)
		return b.accept(h, p, a, seq, ts)
	}
	if b.haveCand {
		b.dropCandidate()
	}
	c := &b.cand
	c.hdr, c.arrival = h, a
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	c.buf = c.buf[:len(p)]
	copy(c.buf, p)
	b.haveCand = true
	return Held
}

// dropCandidate gives up on the held packet. If it belongs to the current
// stream after all (it was only very late), it is filed as such, which
// normally means counted received and late; otherwise it is a stray.
func (b *Buffer) dropCandidate() {
	c := &b.cand
	b.haveCand = false
	if c.hdr.SSRC == b.ssrc {
		if seq, ts := b.extend(c.hdr); !b.discontinuous(seq, ts, c.arrival) {
			b.accept(c.hdr, c.buf, c.arrival, seq, ts)
			return
		}
	}
	b.st.Strays++
}

// follows reports whether h continues the held packet: same SSRC, a
// sequence number a little ahead, a timestamp not behind, and arrival
// spacing that matches the timestamp spacing.
func (b *Buffer) follows(h rtp.Header, a int64) bool {
	c := &b.cand
	if h.SSRC != c.hdr.SSRC {
		return false
	}
	ds := int16(h.Seq - c.hdr.Seq)
	if ds < 1 || ds > probationGap {
		return false
	}
	dt := int64(int32(h.TS - c.hdr.TS))
	if dt < 0 {
		return false
	}
	skew := a - c.arrival - dt
	return skew <= b.jump && skew >= -b.jump
}

// adopt makes the held packet the continuation of the stream, unless the
// stream has meanwhile caught up with it (same SSRC, and it now fits), in
// which case it is filed like any other packet.
func (b *Buffer) adopt() {
	c := &b.cand
	b.haveCand = false
	if c.hdr.SSRC == b.ssrc {
		if seq, ts := b.extend(c.hdr); !b.discontinuous(seq, ts, c.arrival) {
			b.accept(c.hdr, c.buf, c.arrival, seq, ts)
			return
		}
	}
	b.rebase(c.hdr, c.arrival)
	seq, ts := b.extend(c.hdr)
	b.accept(c.hdr, c.buf, c.arrival, seq, ts)
}

// rebase maps h, which starts a new stream (new SSRC, or a sequence or
// timestamp jump), onto the buffer's extended timeline: its sequence number
// right after the highest one so far (so the switch is not counted as
// loss), its timestamp no earlier than the end of what is buffered and no
// earlier than its arrival implies. Frames of the old stream still buffered
// are played first; the fastest-packet baseline and the jitter histogram
// carry over, since the network path is the same.
func (b *Buffer) rebase(h rtp.Header, a int64) {
	if h.SSRC != b.ssrc {
		b.prev = prevSource{
			valid: true, ssrc: b.ssrc,
			seqRaw: b.highSeqRaw, seqExt: b.highSeq,
			tsRaw: b.highTSRaw, tsExt: b.highTS,
		}
		b.ssrc = h.SSRC
		b.st.SSRCResets++
	} else {
		b.st.Resyncs++
	}
	b.est.restartDrift()
	anchor := b.highTS + b.frame
	if base, ok := b.est.base(a); ok && a-base > anchor {
		anchor = a - base
	}
	if b.primed {
		anchor = max(anchor, b.playTS)
		anchor = b.playTS + ceilDiv(anchor-b.playTS, b.frame)*b.frame
	}
	if anchor-b.highTS > 1<<30 {
		anchor = b.highTS + 1<<30
	}
	b.highSeqRaw = h.Seq - 1
	b.highTSRaw = h.TS - uint32(anchor-b.highTS)
}

// Pop produces the frame for the playout tick at now, or says why there is
// none. Call it once per frame duration; see Result for the meaning of
// each Kind.
func (b *Buffer) Pop(now time.Time) Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pops++
	t := b.samplesAt(now)
	if b.haveCand && t-b.cand.arrival > b.candTTL {
		b.dropCandidate()
	}
	if !b.started {
		b.delay = 0
		return b.emit(Empty)
	}
	target := b.updateTarget(t)

	if b.primed {
		b.dropBefore(b.playTS, &b.st.Late)
	}
	if b.count == 0 && b.haveCand {
		// The current stream has run dry and a new one is waiting.
		b.adopt()
	}
	base, _ := b.est.base(t)
	if !b.primed {
		h := b.headSlot()
		if h == nil {
			return b.emit(Empty)
		}
		// Start so that the delay is the target, without skipping what
		// is already buffered; the excess is shed below and later.
		start := t - base - target
		b.playTS = h.ts
		if start < h.ts {
			b.playTS = h.ts - ceilDiv(h.ts-start, b.frame)*b.frame
		}
		b.primed = true
		b.gapMissing, b.gapSilent = 0, false
	}

	delay := t - base - b.playTS
	if delay > b.maxDelay {
		// Never play later than MaxDelay: skip ahead at once.
		k := ceilDiv(delay-b.maxDelay, b.frame)
		b.playTS += k * b.frame
		delay -= k * b.frame
		b.dropBefore(b.playTS, &b.st.Accelerated)
	}
	b.delay = delay

	h := b.headSlot()
	switch {
	case h == nil:
		return b.underrun(delay, target)
	case h.ts < b.playTS+b.frame:
		return b.play(h, delay, target)
	default:
		return b.gap(h, delay, target)
	}
}

// underrun handles a tick with nothing buffered: the packet is late, lost,
// or the sender has gone silent; which one is not known yet.
func (b *Buffer) underrun(delay, target int64) Result {
	silent := b.gapSilent || b.lastCN
	if delay < target {
		// Wait: the delay grows by one frame.
		if silent {
			return b.emit(Empty)
		}
		return b.emit(Expand)
	}
	b.playTS += b.frame
	if !silent && b.gapMissing < b.maxConceal {
		b.gapMissing++
		return b.emit(Missing)
	}
	// Long enough to call it silence; shed excess delay for free.
	b.gapSilent = true
	if k := (delay - target) / b.frame; k > 0 {
		b.playTS += k * b.frame
		b.delay -= k * b.frame
	}
	return b.emit(Empty)
}

// gap handles a tick whose frame is absent while a later one is buffered.
// Sequence numbers tell loss (concealed, right after the last frame) from
// silence (a timestamp gap without a sequence gap: DTX).
func (b *Buffer) gap(h *slot, delay, target int64) Result {
	m := h.seq - b.nextSeq
	if m > 0 && !b.gapSilent && !b.lastCN && int64(b.gapMissing) < m {
		if delay < target {
			return b.emit(Expand) // it may be late rather than lost
		}
		b.playTS += b.frame
		b.gapMissing++
		res := b.emit(Missing)
		if int64(b.gapMissing) == m {
			b.next = append(b.next[:0], h.buf...)
			res.Next = b.next
		}
		return res
	}
	b.gapSilent = true
	if delay < target {
		return b.emit(Empty) // grow during silence
	}
	b.playTS += b.frame
	if k := (delay - target) / b.frame; k > 0 {
		// Shrink during silence, but not past the next frame.
		k = min(k, (h.ts-b.playTS)/b.frame)
		if k > 0 {
			b.playTS += k * b.frame
			b.delay -= k * b.frame
		}
	}
	return b.emit(Empty)
}

// play emits h, first adjusting the delay where that is cheap: silence is
// inserted before a talkspurt (marker bit) when the delay is short, and a
// frame is dropped before a talkspurt, or at a limited pace anywhere, when
// it is long.
func (b *Buffer) play(h *slot, delay, target int64) Result {
	excess := delay - target
	if h.hdr.Marker && excess < 0 && !b.lastCN && b.gapMissing == 0 {
		// Start of a talkspurt: a safe point to grow. Hold one tick.
		b.gapSilent = true
		return b.emit(Empty)
	}
	if excess >= b.frame {
		nx := b.slotAt(h.seq + 1)
		contiguous := nx != nil && nx.ts >= h.ts+b.frame && nx.ts < h.ts+2*b.frame
		atSpurt := contiguous && nx.hdr.Marker
		paced := excess >= 2*b.frame && b.pops-b.lastDrop >= shrinkTicks/uint64(excess/b.frame)
		if contiguous && (atSpurt || paced) {
			b.st.Accelerated++
			b.nextSeq = h.seq + 1
			b.free(h)
			b.lastDrop = b.pops
			step := h.ts + b.frame - b.playTS
			b.playTS += step
			delay -= step
			excess -= step
			h = nx
		}
	}
	b.delay = delay
	b.out, h.buf = h.buf, b.out[:0]
	res := Result{Kind: Frame, Header: h.hdr, Payload: b.out, Accelerate: excess >= b.frame}
	b.nextSeq = h.seq + 1
	b.playTS = h.ts + b.frame
	b.lastCN = b.cnPT != 0 && h.hdr.PT == b.cnPT
	b.gapMissing, b.gapSilent = 0, false
	b.free(h)
	b.st.Frames++
	return res
}

// emit counts and returns a frameless result.
func (b *Buffer) emit(k Kind) Result {
	switch k {
	case Empty:
		b.st.Empty++
	case Missing:
		b.st.Concealed++
	case Expand:
		b.st.Expanded++
	}
	return Result{Kind: k}
}
