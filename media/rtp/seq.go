package rtp

// RFC 3550 A.1 constants.
const (
	// MaxDropout is MAX_DROPOUT: the largest forward sequence jump taken
	// as loss rather than a restart.
	MaxDropout = 3000
	// MaxMisorder is MAX_MISORDER: the largest backward jump taken as a
	// late packet rather than a restart.
	MaxMisorder = 100
	// DefaultMinSequential is MIN_SEQUENTIAL: packets in sequence a new
	// source sends before it is declared valid.
	DefaultMinSequential = 2

	seqMod = 1 << 16
)

// SeqResult classifies one packet given to SeqTracker.Update.
type SeqResult uint8

const (
	// SeqInvalid: in probation, or an unexplained jump (RFC 3550 A.1).
	SeqInvalid SeqResult = iota
	// SeqFirst: the first valid packet after (re)initialisation.
	SeqFirst
	// SeqInOrder: advanced the highest sequence number.
	SeqInOrder
	// SeqLate: older than the highest, not seen before.
	SeqLate
	// SeqDup: seen before.
	SeqDup
)

// String names the result.
func (r SeqResult) String() string {
	switch r {
	case SeqInvalid:
		return "invalid"
	case SeqFirst:
		return "first"
	case SeqInOrder:
		return "in-order"
	case SeqLate:
		return "late"
	case SeqDup:
		return "duplicate"
	}
	return "unknown"
}

// SeqTracker is init_seq/update_seq of RFC 3550 A.1 for one source: source
// validation by probation, the extended highest sequence number (cycles),
// restarts after two sequential packets past a large jump, and a 128-packet
// window of received sequence numbers behind the highest that tells late
// packets from duplicates. The zero value is not ready: use NewSeqTracker
// or Init.
type SeqTracker struct {
	minSeq    int
	started   bool // a packet was seen
	valid     bool // probation passed
	maxSeq    uint16
	cycles    uint32 // shifted count of sequence number cycles
	baseSeq   uint32
	badSeq    uint32
	probation int
	received  uint64
	recent    [2]uint64 // bit i set: maxSeq-i was received

	// Restarted is set by Update when a source restart re-initialised the
	// state (SeqFirst after an earlier valid run); the caller folds its
	// counts and clears it.
	Restarted bool
}

// NewSeqTracker returns a tracker whose sources pass probation after
// minSequential packets in sequence (DefaultMinSequential when ≤ 0; 1
// accepts a source on its first packet).
func NewSeqTracker(minSequential int) SeqTracker {
	if minSequential <= 0 {
		minSequential = DefaultMinSequential
	}
	return SeqTracker{minSeq: minSequential}
}

// Reset forgets the source, as for a new SSRC; the next packet starts
// probation again.
func (t *SeqTracker) Reset() {
	*t = SeqTracker{minSeq: max(t.minSeq, 1)}
}

// Valid reports whether the source passed probation.
func (t *SeqTracker) Valid() bool { return t.valid }

// Started reports whether a packet was seen since the last Reset.
func (t *SeqTracker) Started() bool { return t.started }

// MaxSeq returns the highest sequence number received.
func (t *SeqTracker) MaxSeq() uint16 { return t.maxSeq }

// Extended returns the extended highest sequence number (RFC 3550 A.3:
// cycles + max_seq).
func (t *SeqTracker) Extended() uint32 { return t.cycles + uint32(t.maxSeq) }

// BaseSeq returns base_seq of RFC 3550 A.1.
func (t *SeqTracker) BaseSeq() uint32 { return t.baseSeq }

// Received returns the packets counted since the source became valid,
// duplicates included (RFC 3550 A.3 "received").
func (t *SeqTracker) Received() uint64 { return t.received }

// Expected is "expected" of RFC 3550 A.3: extended_max - base_seq + 1, 0
// before the source is valid.
func (t *SeqTracker) Expected() uint64 {
	if !t.valid {
		return 0
	}
	return uint64(t.cycles) + uint64(t.maxSeq) - uint64(t.baseSeq) + 1
}

// Update is update_seq of RFC 3550 A.1 for a packet with sequence number
// seq. It returns what the packet is and, for SeqInOrder, by how much it
// advanced the highest sequence number (1 when nothing was lost). It does
// not allocate.
func (t *SeqTracker) Update(seq uint16) (SeqResult, uint16) {
	if t.minSeq <= 0 {
		t.minSeq = DefaultMinSequential
	}
	if !t.started {
		// A new source starts in probation.
		t.started = true
		t.init(seq)
		t.maxSeq = seq - 1
		t.probation = t.minSeq
		t.valid = false
	}
	udelta := seq - t.maxSeq

	// The source is not valid until minSeq packets with sequential
	// sequence numbers have been received.
	if t.probation > 0 {
		if seq == t.maxSeq+1 {
			t.probation--
			t.maxSeq = seq
			if t.probation == 0 {
				t.init(seq)
				t.valid = true
				t.received++
				return SeqFirst, 0
			}
		} else {
			t.probation = t.minSeq - 1
			t.maxSeq = seq
		}
		return SeqInvalid, 0
	}

	switch {
	case udelta == 0:
		t.received++
		return SeqDup, 0
	case udelta < MaxDropout:
		// In order, with permissible gap.
		if seq < t.maxSeq {
			// Sequence number wrapped: count another 64K cycle.
			t.cycles += seqMod
		}
		t.maxSeq = seq
		t.advanceWindow(udelta)
		t.received++
		return SeqInOrder, udelta
	case int(udelta) <= seqMod-MaxMisorder:
		// The sequence number made a very large jump.
		if uint32(seq) == t.badSeq {
			// Two sequential packets: assume the other side restarted
			// without telling us, so re-sync (pretend this was the
			// first packet).
			t.Restarted = t.valid
			t.init(seq)
			t.valid = true
			t.received++
			return SeqFirst, 0
		}
		t.badSeq = (uint32(seq) + 1) & (seqMod - 1)
		return SeqInvalid, 0
	default:
		// Duplicate or reordered packet.
		back := t.maxSeq - seq // < MaxMisorder
		word, bit := back/64, back%64
		t.received++
		if t.recent[word]&(1<<bit) != 0 {
			return SeqDup, 0
		}
		t.recent[word] |= 1 << bit
		return SeqLate, 0
	}
}

// init is init_seq of RFC 3550 A.1.
func (t *SeqTracker) init(seq uint16) {
	t.baseSeq = uint32(seq)
	t.maxSeq = seq
	t.badSeq = seqMod + 1 // so seq == badSeq is false
	t.cycles = 0
	t.received = 0
	t.recent = [2]uint64{1, 0}
}

// advanceWindow shifts the received-sequence window by k and marks the
// new highest sequence number received.
func (t *SeqTracker) advanceWindow(k uint16) {
	switch {
	case k >= 128:
		t.recent = [2]uint64{0, 0}
	case k >= 64:
		t.recent[1] = t.recent[0] << (k - 64)
		t.recent[0] = 0
	default:
		t.recent[1] = t.recent[1]<<k | t.recent[0]>>(64-k)
		t.recent[0] <<= k
	}
	t.recent[0] |= 1
}

// Jumped reports whether seq is a discontinuity after the highest sequence
// number last, by RFC 3550 A.1's limits: more than MaxDropout ahead or
// more than MaxMisorder behind. It is the stateless check a relay makes to
// decide that a source restarted.
func Jumped(last, seq uint16) bool {
	d := int16(seq - last)
	return d > MaxDropout || d < -MaxMisorder
}
