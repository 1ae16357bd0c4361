package rtcpstats

import "time"

// DefaultGmin is the gap threshold RFC 3611 §4.7.2 recommends for voice:
// a run of 16 or more received packets ends a burst.
const DefaultGmin = 16

// burstTracker classifies every packet of a stream, in sequence order, as
// part of a burst or of a gap, following the definitions of RFC 3611
// §4.7.2:
//
//   - a burst is the longest run that starts and ends with a lost or
//     discarded packet and holds no run of Gmin or more consecutively
//     received packets;
//   - a gap is everything else; the session is taken to be preceded and
//     followed by at least Gmin received packets, and so is the time of a
//     report.
//
// A "loss cluster" that holds a single lost or discarded packet between two
// runs of at least Gmin received packets is a loss inside the gap, not a
// burst (RFC 3611 §4.7.2's worked example counts its isolated losses into
// the gap lengths).
//
// Hand-written rather than a transcription of the Markov-chain pseudocode
// in RFC 3611 Appendix A.2: that algorithm decides whether a new loss opens
// a burst from the size of the previous loss cluster (its `lost == 1`
// test), so it counts a stream's first isolated loss as a burst, or its
// first real burst as an isolated loss, depending on how `lost` is
// initialised. Counting clusters directly, and classifying each when it
// closes, yields §4.7.2's own quantities: densities are exact ratios and
// durations are mean lengths. No maintained Go library implements either.
//
// The tracker also counts the transitions of the two-state (Gilbert) loss
// model that ITU-T G.107 §3.4 uses for BurstR.
type burstTracker struct {
	gmin int

	pkt            uint64 // consecutive received packets since the last loss/discard
	inCluster      bool   // a loss cluster is open (not yet closed by >= gmin received)
	clusterPackets uint64 // packets from the cluster's first to its last loss, inclusive
	clusterLosses  uint64 // lost or discarded packets in the open cluster

	bursts       uint64
	burstPackets uint64
	burstLosses  uint64
	gapPackets   uint64
	gapLosses    uint64

	// Two-state model counts for BurstR (G.107 §3.4 / Annex A of G.113).
	rxEvents, lossEvents uint64
	rxToLoss, lossToRx   uint64
	any, lastWasLoss     bool
	prevWasLoss          bool // lastWasLoss before the latest receive, for unreceive
}

func newBurstTracker(gmin int) burstTracker {
	if gmin <= 0 {
		gmin = DefaultGmin
	}
	return burstTracker{gmin: gmin}
}

// received records one packet received (and kept) in sequence order.
func (b *burstTracker) received() {
	b.pkt++
	b.prevWasLoss = b.any && b.lastWasLoss
	if b.prevWasLoss {
		b.lossToRx++
	}
	b.rxEvents++
	b.any, b.lastWasLoss = true, false
}

// lost records n consecutive lost or discarded packets in sequence order.
func (b *burstTracker) lost(n uint64) {
	if n == 0 {
		return
	}
	if b.any && !b.lastWasLoss {
		b.rxToLoss++
	}
	b.lossEvents += n
	b.any, b.lastWasLoss = true, true

	if b.inCluster && b.pkt < uint64(b.gmin) {
		// Fewer than Gmin received since the last loss: the received run and
		// this loss extend the open cluster.
		b.clusterPackets += b.pkt + 1
		b.clusterLosses++
	} else {
		if b.inCluster {
			b.closeCluster()
		}
		// The received run since the last cluster (or the session start)
		// belongs to a gap.
		b.gapPackets += b.pkt
		b.inCluster = true
		b.clusterPackets, b.clusterLosses = 1, 1
	}
	b.pkt = 0
	// The remaining n-1 losses are back to back, inside the cluster.
	b.clusterPackets += n - 1
	b.clusterLosses += n - 1
}

// unreceive converts the most recently received packet into a discarded
// one (the jitter buffer dropped it after it was counted as received). It
// reports false, changing nothing, when the last event was not a receive.
func (b *burstTracker) unreceive() bool {
	if !b.any || b.lastWasLoss || b.pkt == 0 {
		return false
	}
	b.pkt--
	b.rxEvents--
	if b.prevWasLoss {
		b.lossToRx--
	}
	b.lastWasLoss = b.prevWasLoss
	b.any = b.rxEvents+b.lossEvents > 0
	b.lost(1)
	return true
}

func (b *burstTracker) closeCluster() {
	if b.clusterLosses >= 2 {
		b.bursts++
		b.burstPackets += b.clusterPackets
		b.burstLosses += b.clusterLosses
	} else {
		b.gapPackets += b.clusterPackets
		b.gapLosses += b.clusterLosses
	}
	b.inCluster = false
	b.clusterPackets, b.clusterLosses = 0, 0
}

// BurstMetrics are the burst/gap metrics of RFC 3611 §4.7.2 in plain
// units, plus the BurstR of ITU-T G.107.
type BurstMetrics struct {
	// BurstDensity is the fraction (0..1) of packets inside bursts that
	// were lost or discarded.
	BurstDensity float64
	// GapDensity is the fraction (0..1) of packets inside gaps that were
	// lost or discarded.
	GapDensity float64
	// BurstDuration is the mean length of a burst; 0 when there was none.
	BurstDuration time.Duration
	// GapDuration is the mean length of a gap.
	GapDuration time.Duration
	// Bursts is the number of bursts seen.
	Bursts uint64
	// BurstR is the burst ratio of G.107 §3.4: 1/(p+q) for the two-state
	// loss model (1 for random loss, >1 for bursty loss); 1 when no loss
	// was seen.
	BurstR float64
}

// metrics reports the burst/gap metrics as of now, without changing the
// tracker: an open cluster is closed as if Gmin received packets followed
// (RFC 3611 §4.7.2's assumption about the time of a report). packetDur is
// the nominal duration of one packet's payload (the "m" of Appendix A.2).
func (b *burstTracker) metrics(packetDur time.Duration) BurstMetrics {
	bursts, bp, bl := b.bursts, b.burstPackets, b.burstLosses
	gp, gl := b.gapPackets+b.pkt, b.gapLosses
	if b.inCluster {
		if b.clusterLosses >= 2 {
			bursts++
			bp += b.clusterPackets
			bl += b.clusterLosses
		} else {
			gp += b.clusterPackets
			gl += b.clusterLosses
		}
	}
	var m BurstMetrics
	m.Bursts = bursts
	if bp > 0 {
		m.BurstDensity = float64(bl) / float64(bp)
	}
	if gp > 0 {
		m.GapDensity = float64(gl) / float64(gp)
	}
	if bursts > 0 {
		m.BurstDuration = time.Duration(bp) * packetDur / time.Duration(bursts)
	}
	// Gaps separate bursts, and one precedes the first and follows the last.
	m.GapDuration = time.Duration(gp) * packetDur / time.Duration(bursts+1)
	m.BurstR = 1
	if b.lossEvents > 0 && b.rxEvents > 0 {
		p := float64(b.rxToLoss) / float64(b.rxEvents)   // P(loss | previous received)
		q := float64(b.lossToRx) / float64(b.lossEvents) // P(received | previous lost)
		if p+q > 0 {
			m.BurstR = 1 / (p + q)
		}
	}
	return m
}
