package rtcpstats

import (
	"math"
	"sync"
	"time"

	"github.com/pion/rtcp"

	"github.com/switchboard/switchboard/media/rtp"
)

const (
	// DefaultMinSequential is MIN_SEQUENTIAL of RFC 3550 A.1: the number of
	// packets in sequence a new source must send before it is declared
	// valid.
	DefaultMinSequential = rtp.DefaultMinSequential
	// DefaultPacketDuration is the payload duration assumed for burst and
	// gap durations until the stream's own timestamps show it.
	DefaultPacketDuration = 20 * time.Millisecond
)

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// SSRC is the source expected, if known. Receive switches to whatever
	// SSRC arrives; Update keeps this one.
	SSRC uint32
	// ClockRate is the RTP clock rate of the stream in Hz (8000 when 0).
	ClockRate uint32
	// MinSequential is the probation length of RFC 3550 A.1 (default 2;
	// 1 accepts a source on its first packet).
	MinSequential int
	// Gmin is the burst gap threshold of RFC 3611 §4.7.2 (default 16).
	Gmin int
	// PacketDuration is the nominal payload duration per packet, used for
	// burst/gap durations until measured from timestamps (default 20 ms).
	PacketDuration time.Duration
}

// Receiver keeps the reception statistics of one RTP source: RFC 3550 A.1
// and A.3 (sequence validity, extended highest sequence number, expected
// and lost packets, fraction lost per reporting interval), A.8
// (interarrival jitter), RFC 3611 §4.6 interval summaries, and the
// burst/gap metrics of RFC 3611 §4.7.2.
//
// Update and Receive are called from the goroutine that reads the socket;
// Stats, Report and the others may be called from any goroutine. All
// methods are safe for concurrent use (one mutex; no method calls out while
// holding it).
type Receiver struct {
	mu sync.Mutex

	clockRate  uint32
	nominalDur time.Duration

	// RFC 3550 A.1 source state; the A.3 state is meaningful once
	// seq.Valid().
	ssrc          uint32
	seq           rtp.SeqTracker
	expectedPrior uint64
	receivedPrior uint64

	// RFC 3550 A.8 jitter state.
	base        time.Time
	haveBase    bool
	transit     uint32
	haveTransit bool
	jitter      float64
	maxJitter   float64

	// RFC 3611 §4.6 per-interval state, reset by Report.
	ivlDups               uint64
	ivlN                  uint64
	ivlMin, ivlMax        float64
	ivlSum, ivlSumSq      float64
	lastFraction          uint8
	lastTS                uint32
	haveTS                bool
	tsPerPacket           uint32
	lastInOrder           bool
	totalReceived, octets uint64
	dups, discards        uint64
	priorExpected         uint64 // from earlier sources and restarts
	priorLost             int64
	burst                 burstTracker
	lsr                   uint32 // middle 32 bits of the last SR's NTP time
	lsrSSRC               uint32
	lsrArrival            time.Time
	haveLSR               bool
}

// NewReceiver returns a Receiver with cfg's defaults filled in.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	if cfg.MinSequential <= 0 {
		cfg.MinSequential = DefaultMinSequential
	}
	if cfg.PacketDuration <= 0 {
		cfg.PacketDuration = DefaultPacketDuration
	}
	return &Receiver{
		clockRate:  cfg.ClockRate,
		seq:        rtp.NewSeqTracker(cfg.MinSequential),
		nominalDur: cfg.PacketDuration,
		ssrc:       cfg.SSRC,
		burst:      newBurstTracker(cfg.Gmin),
	}
}

// Update records one RTP packet of the current source with sequence number
// seq and timestamp ts, arriving at arrival. It does not allocate.
func (r *Receiver) Update(seq uint16, ts uint32, arrival time.Time) {
	r.mu.Lock()
	r.update(seq, ts, 0, arrival)
	r.mu.Unlock()
}

// Receive records one RTP packet like Update, with its header h (SSRC,
// sequence number, timestamp) and payload length. A packet from a different SSRC than the current one starts a new
// source (RFC 3550 §8.2): the sequence state, probation and jitter restart,
// while the cumulative counts of Stats carry on. It does not allocate.
func (r *Receiver) Receive(h rtp.Header, payloadLen int, arrival time.Time) {
	r.mu.Lock()
	if r.seq.Started() && h.SSRC != r.ssrc {
		r.fold(r.seq.Expected(), r.seq.Received())
		r.seq.Reset()
	}
	r.ssrc = h.SSRC
	r.update(h.Seq, h.TS, payloadLen, arrival)
	r.mu.Unlock()
}

// Discard records that the packet last passed to Update or Receive was
// discarded by the jitter buffer (too late or too early to play, RFC 3611
// §4.7.1). It feeds the discard rate and, when that packet was in
// sequence, the burst/gap metrics, where it counts as a discard instead of
// a receive.
func (r *Receiver) Discard() {
	r.mu.Lock()
	r.discards++
	if r.lastInOrder {
		r.burst.unreceive()
		r.lastInOrder = false
	}
	r.mu.Unlock()
}

func (r *Receiver) update(seq uint16, ts uint32, payloadLen int, arrival time.Time) {
	if !r.seq.Started() {
		// RFC 3550 A.1: a new source starts in probation.
		r.haveTransit = false
		r.jitter = 0
		r.haveTS = false
	}
	exp, rcv := r.seq.Expected(), r.seq.Received()
	res, adv := r.seq.Update(seq)
	if r.seq.Restarted {
		// The source restarted its sequence (two sequential packets after
		// a large jump): keep the old run's counts.
		r.seq.Restarted = false
		r.fold(exp, rcv)
	}
	r.lastInOrder = false
	switch res {
	case rtp.SeqInvalid:
		return
	case rtp.SeqFirst:
		r.expectedPrior, r.receivedPrior = 0, 0
		r.resetInterval()
		r.burst.received()
		r.lastInOrder = true
		r.lastTS, r.haveTS = ts, true
	case rtp.SeqInOrder:
		if adv > 1 {
			r.burst.lost(uint64(adv - 1))
		}
		r.burst.received()
		r.lastInOrder = true
		if adv == 1 && r.haveTS {
			if d := ts - r.lastTS; d > 0 && d < r.clockRate {
				r.tsPerPacket = d
			}
		}
		r.lastTS, r.haveTS = ts, true
	case rtp.SeqDup:
		r.dups++
		r.ivlDups++
	}
	r.totalReceived++
	if payloadLen > 0 {
		r.octets += uint64(payloadLen)
	}
	if res != rtp.SeqDup {
		r.updateJitter(ts, arrival)
	}
}

// fold adds the expected and received counts of the source's run that is
// ending (a new SSRC, or a sequence restart) to the cumulative totals.
func (r *Receiver) fold(expected, received uint64) {
	r.priorExpected += expected
	r.priorLost += int64(expected) - int64(received)
}

// updateJitter is RFC 3550 A.8: the interarrival jitter J is updated with
// |D| = |(Rj - Ri) - (Sj - Si)| as J += (|D| - J)/16, in timestamp units.
func (r *Receiver) updateJitter(ts uint32, arrival time.Time) {
	if !r.haveBase {
		r.base, r.haveBase = arrival, true
	}
	transit := r.arrivalUnits(arrival) - ts // modulo 2^32, like the timestamps
	if r.haveTransit {
		d := float64(int32(transit - r.transit))
		if d < 0 {
			d = -d
		}
		r.jitter += (d - r.jitter) / 16
		if r.jitter > r.maxJitter {
			r.maxJitter = r.jitter
		}
		// RFC 3611 §4.6: min/max/mean/deviation of the relative transit
		// time between consecutive packets, over the interval.
		if r.ivlN == 0 || d < r.ivlMin {
			r.ivlMin = d
		}
		if d > r.ivlMax {
			r.ivlMax = d
		}
		r.ivlN++
		r.ivlSum += d
		r.ivlSumSq += d * d
	}
	r.transit, r.haveTransit = transit, true
}

// arrivalUnits converts an arrival time to RTP timestamp units since the
// first arrival, modulo 2^32.
func (r *Receiver) arrivalUnits(t time.Time) uint32 {
	d := t.Sub(r.base)
	secs := int64(d / time.Second)
	rem := int64(d % time.Second)
	return uint32(secs*int64(r.clockRate) + rem*int64(r.clockRate)/int64(time.Second))
}

func (r *Receiver) resetInterval() {
	r.ivlDups, r.ivlN = 0, 0
	r.ivlMin, r.ivlMax, r.ivlSum, r.ivlSumSq = 0, 0, 0, 0
}

// SenderReport records a sender report from ssrc carrying NTP time ntp,
// arriving at arrival, for the LSR and DLSR fields of the next report
// block (RFC 3550 §6.4.1). Reports from a source other than the current
// one are ignored once that source has sent RTP.
func (r *Receiver) SenderReport(ssrc uint32, ntp uint64, arrival time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seq.Started() && ssrc != r.ssrc {
		return
	}
	r.lsr = ntpMiddle(ntp)
	r.lsrSSRC = ssrc
	r.lsrArrival = arrival
	r.haveLSR = true
}

// IntervalReport is what one reporting interval yields for one source.
type IntervalReport struct {
	// Block is the reception report block of RFC 3550 §6.4.1.
	Block rtcp.ReceptionReport
	// Summary is the Statistics Summary block of RFC 3611 §4.6 for the
	// same interval (loss, duplicate and jitter flags set, no TTL).
	Summary rtcp.StatisticsSummaryReportBlock
}

// Report closes the current reporting interval at now and returns its
// reception report block, with LSR and DLSR from the last sender report of
// the source, and its statistics summary. It reports false while no source
// is valid. Call it once per RTCP report sent: the fraction lost covers the
// packets since the previous call (RFC 3550 A.3).
func (r *Receiver) Report(now time.Time) (IntervalReport, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seq.Valid() {
		return IntervalReport{}, false
	}
	extMax := r.seq.Extended()
	expected := r.seq.Expected()
	lost := int64(expected) - int64(r.seq.Received())

	// RFC 3550 A.3: cumulative lost is a signed 24-bit quantity, clamped.
	if lost > 0x7FFFFF {
		lost = 0x7FFFFF
	} else if lost < -0x800000 {
		lost = -0x800000
	}
	expectedInterval := expected - r.expectedPrior
	beginSeq := r.seq.BaseSeq() + uint32(r.expectedPrior)
	r.expectedPrior = expected
	receivedInterval := r.seq.Received() - r.receivedPrior
	r.receivedPrior = r.seq.Received()
	lostInterval := int64(expectedInterval) - int64(receivedInterval)
	var fraction uint8
	if expectedInterval != 0 && lostInterval > 0 {
		f := (lostInterval << 8) / int64(expectedInterval)
		fraction = uint8(min(f, 255))
	}
	r.lastFraction = fraction

	var out IntervalReport
	out.Block = rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(int32(lost)) & 0xFFFFFF,
		LastSequenceNumber: extMax,
		Jitter:             uint32(r.jitter),
	}
	if r.haveLSR && r.lsrSSRC == r.ssrc {
		out.Block.LastSenderReport = r.lsr
		out.Block.Delay = toNTPShort(now.Sub(r.lsrArrival))
	}

	// RFC 3611 §4.6: the interval covers begin_seq up to end_seq-1.
	ivlLost := int64(expectedInterval) - int64(receivedInterval-r.ivlDups)
	s := rtcp.StatisticsSummaryReportBlock{
		LossReports:      true,
		DuplicateReports: true,
		JitterReports:    true,
		TTLorHopLimit:    rtcp.ToHMissing,
		SSRC:             r.ssrc,
		BeginSeq:         uint16(beginSeq),
		EndSeq:           uint16(extMax + 1),
		LostPackets:      uint32(max(ivlLost, 0)),
		DupPackets:       uint32(r.ivlDups),
	}
	if r.ivlN > 0 {
		mean := r.ivlSum / float64(r.ivlN)
		variance := r.ivlSumSq/float64(r.ivlN) - mean*mean
		s.MinJitter = uint32(r.ivlMin)
		s.MaxJitter = uint32(r.ivlMax)
		s.MeanJitter = uint32(math.Round(mean))
		s.DevJitter = uint32(math.Round(math.Sqrt(max(variance, 0))))
	}
	out.Summary = s
	r.resetInterval()
	return out, true
}

// ReceiverStats is a consistent copy of a Receiver's statistics.
type ReceiverStats struct {
	// SSRC is the current source.
	SSRC uint32
	// Valid reports whether the current source passed probation.
	Valid bool
	// ExtendedHighestSeq is the extended highest sequence number received
	// (RFC 3550 A.3).
	ExtendedHighestSeq uint32
	// PacketsReceived counts valid packets, duplicates included, over all
	// sources (RFC 3550 A.3 "received").
	PacketsReceived uint64
	// OctetsReceived counts payload octets passed to Receive.
	OctetsReceived uint64
	// PacketsExpected is extended_max - base_seq + 1, summed over sources.
	PacketsExpected uint64
	// PacketsLost is expected - received (negative with duplicates).
	PacketsLost int64
	// Duplicates counts packets received more than once.
	Duplicates uint64
	// Discarded counts packets reported through Discard.
	Discarded uint64
	// FractionLost is the fraction lost (0..1) of the last interval closed
	// by Report.
	FractionLost float64
	// Jitter is the RFC 3550 A.8 interarrival jitter in timestamp units.
	Jitter float64
	// JitterDuration is Jitter converted with the clock rate.
	JitterDuration time.Duration
	// MaxJitterDuration is the largest jitter estimate seen.
	MaxJitterDuration time.Duration
	// ClockRate is the stream's RTP clock rate.
	ClockRate uint32
	// PacketDuration is the payload duration per packet (measured from
	// timestamps, else the configured nominal value).
	PacketDuration time.Duration
	// Burst holds the RFC 3611 §4.7.2 burst/gap metrics.
	Burst BurstMetrics
}

// Stats returns a consistent copy of the statistics. It does not change
// the reporting interval.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	exp := r.priorExpected + r.seq.Expected()
	lost := r.priorLost
	if r.seq.Valid() {
		lost += int64(r.seq.Expected()) - int64(r.seq.Received())
	}
	pd := r.packetDuration()
	return ReceiverStats{
		SSRC:               r.ssrc,
		Valid:              r.seq.Valid(),
		ExtendedHighestSeq: r.seq.Extended(),
		PacketsReceived:    r.totalReceived,
		OctetsReceived:     r.octets,
		PacketsExpected:    exp,
		PacketsLost:        lost,
		Duplicates:         r.dups,
		Discarded:          r.discards,
		FractionLost:       float64(r.lastFraction) / 256,
		Jitter:             r.jitter,
		JitterDuration:     r.unitsToDuration(r.jitter),
		MaxJitterDuration:  r.unitsToDuration(r.maxJitter),
		ClockRate:          r.clockRate,
		PacketDuration:     pd,
		Burst:              r.burst.metrics(pd),
	}
}

func (r *Receiver) packetDuration() time.Duration {
	if r.tsPerPacket == 0 {
		return r.nominalDur
	}
	return time.Duration(uint64(r.tsPerPacket) * uint64(time.Second) / uint64(r.clockRate))
}

func (r *Receiver) unitsToDuration(u float64) time.Duration {
	return time.Duration(u * float64(time.Second) / float64(r.clockRate))
}
