package jitter

import "math"

// estimator turns packet arrivals into a target playout delay.
//
// Every accepted packet contributes d = arrival − timestamp (both in samples
// of the RTP clock). The smallest d over the last minWindow of arrivals is
// the "fastest packet" baseline; r = d − min ≥ 0 is the packet's relative
// delay, computed at arrival time against the packets seen so far (so a
// burst that arrives early does not count as late). r goes into a histogram
// with exponential forgetting; the target delay is its q-quantile.
//
// A sender clock running slow makes d creep up, so a minimum over a window
// lags behind by the drift over the window; a fast one makes it creep down.
// The estimator measures that drift (the slope of per-block minima of d,
// robustly) and compares e = d − skew·t instead of d.
// A stream discontinuity (resync) restarts the measurement, keeping the
// last estimate until there is a new one.
type estimator struct {
	// Sliding-window minimum of e: a monotonic deque in a fixed ring.
	// Entries are in arrival order and their e values strictly increase
	// from front to back, so the front holds the window minimum.
	win      [winCap]winEntry
	winHead  int
	winLen   int
	winSpan  int64 // window length in samples
	haveBase bool

	// Drift: minima of d over blocks of blockSpan, the last skewBlocks of
	// them, and the slope fitted through them.
	blockSpan  int64
	blockStart int64
	blockMin   winEntry
	blockOpen  bool
	blocks     [skewBlocks]winEntry
	nBlocks    int
	skew       float64 // d per sample of arrival time

	// Histogram of r: a Fenwick tree over buckets of width samples each;
	// bucket i holds r in ((i−1)·width, i·width], bucket 0 holds r = 0, the
	// last bucket also holds everything larger (clamped).
	tree    []float64 // 1-based Fenwick tree, len(tree) = buckets+1
	buckets int
	width   int64
	total   float64 // sum of all bucket weights
	n       float64 // samples seen (the prior counts as one)
	q       float64

	cached int64
	dirty  bool
}

type winEntry struct {
	t, d int64
	e    float64 // d − skew·t, for the current skew
}

const (
	// winCap bounds the deque; at 50 packets/s a 1 s window needs 50.
	// When more distinct increasing values are pending the oldest is
	// dropped, which only makes the minimum newer (slightly larger).
	winCap = 256

	// minWindowMillis is how far back the fastest packet is searched.
	// NetEq uses two seconds; with the target held at its peak for two
	// seconds (see Buffer.updateTarget), one second is enough to find the
	// fastest packet of any burst pattern that matters, and it follows a
	// rise in network delay sooner.
	minWindowMillis = 1000

	// Drift is the median slope between the minima of the last
	// skewBlocks blocks of blockMillis each. It is trusted from
	// minSkewBlocks blocks on and bounded by maxSkew.
	blockMillis   = 1000
	skewBlocks    = 10
	minSkewBlocks = 5
	maxSkew       = 0.1

	// forget is the per-packet forgetting factor of the histogram once it
	// has warmed up: a new jitter regime gets 5 % of the mass (and so
	// moves a 95 % quantile up) after ln(0.95)/ln(forget) ≈ 26 packets,
	// while an old one keeps the quantile up until its mass falls under
	// 5 %, ln(0.05)/ln(forget) ≈ 1500 packets (30 s at 50 packets/s):
	// the target grows quickly and shrinks slowly.
	forget = 0.998

	// rescaleAt keeps the unnormalised weights finite: the increment grows
	// by 1/forget per packet, and everything is divided down when the
	// total passes this.
	rescaleAt = 1e150
)

// init sizes the histogram so that maxDelay falls in its last bucket and
// seeds it with one prior sample at initial.
func (e *estimator) init(rate, frame, maxDelay, initial int64, q float64) {
	e.winSpan = rate * minWindowMillis / 1000
	e.blockSpan = rate * blockMillis / 1000
	e.width = frame / 8 // a frame duration is always a bucket edge
	if e.width < 1 {
		e.width = 1
	}
	e.buckets = int((maxDelay+e.width-1)/e.width) + 2
	e.tree = make([]float64, e.buckets+1)
	e.q = q
	e.add(initial)
}

// base reports the baseline d at time t: the drift-corrected window
// minimum, projected to t. ok is false before any packet.
func (e *estimator) base(t int64) (d int64, ok bool) {
	if !e.haveBase {
		return 0, false
	}
	return int64(math.Floor(e.win[e.winHead].e + e.skew*float64(t))), true
}

// observe records a packet that arrived at t (samples) with d = t − ts and
// returns its relative delay.
func (e *estimator) observe(t, d int64) int64 {
	e.trackDrift(t, d)
	ev := float64(d) - e.skew*float64(t)
	// Expire old minima but always keep the newest entry, so that the
	// baseline survives a silence longer than the window.
	for e.winLen > 1 && e.win[e.winHead].t < t-e.winSpan {
		e.winHead = (e.winHead + 1) % winCap
		e.winLen--
	}
	// Drop entries that can never be the minimum again.
	for e.winLen > 0 {
		back := (e.winHead + e.winLen - 1) % winCap
		if e.win[back].e < ev {
			break
		}
		e.winLen--
	}
	if e.winLen == winCap {
		e.winHead = (e.winHead + 1) % winCap
		e.winLen--
	}
	e.win[(e.winHead+e.winLen)%winCap] = winEntry{t: t, d: d, e: ev}
	e.winLen++
	e.haveBase = true

	r := int64(math.Ceil(ev - e.win[e.winHead].e))
	e.add(r)
	return r
}

// trackDrift keeps the per-block minima of d and refits the drift when a
// block closes.
func (e *estimator) trackDrift(t, d int64) {
	if e.blockOpen && t-e.blockStart >= e.blockSpan {
		if e.nBlocks == skewBlocks {
			copy(e.blocks[:], e.blocks[1:])
			e.nBlocks--
		}
		e.blocks[e.nBlocks] = e.blockMin
		e.nBlocks++
		e.blockOpen = false
		e.fitSkew()
	}
	if !e.blockOpen {
		e.blockOpen = true
		e.blockStart = t
		e.blockMin = winEntry{t: t, d: d}
		return
	}
	if d < e.blockMin.d {
		e.blockMin = winEntry{t: t, d: d}
	}
}

// fitSkew sets skew to the median slope between consecutive block minima
// and re-keys the window for it. A step in network delay moves one of the
// slopes and a burst pattern scatters them both ways; the median ignores
// both, while a clock drift moves them all.
func (e *estimator) fitSkew() {
	skew := 0.0
	if e.nBlocks >= minSkewBlocks {
		var slopes [skewBlocks - 1]float64
		n := 0
		for i := 1; i < e.nBlocks; i++ {
			if dt := e.blocks[i].t - e.blocks[i-1].t; dt > 0 {
				slopes[n] = float64(e.blocks[i].d-e.blocks[i-1].d) / float64(dt)
				n++
			}
		}
		if n > 0 {
			s := slopes[:n]
			for i := 1; i < n; i++ { // insertion sort of a handful
				for j := i; j > 0 && s[j] < s[j-1]; j-- {
					s[j], s[j-1] = s[j-1], s[j]
				}
			}
			skew = s[n/2]
			if n%2 == 0 {
				skew = (s[n/2-1] + s[n/2]) / 2
			}
		}
	}
	skew = min(max(skew, -maxSkew), maxSkew)
	if skew == e.skew {
		return
	}
	e.skew = skew
	// Recompute e and restore the deque's order, keeping the newest
	// entries and dropping any that a later one now undercuts.
	kept := 0
	for i := e.winLen - 1; i >= 0; i-- {
		w := &e.win[(e.winHead+i)%winCap]
		w.e = float64(w.d) - skew*float64(w.t)
		if kept > 0 && w.e >= e.win[(e.winHead+i+1)%winCap].e {
			// Dominated: shift the later entries down over it.
			for j := i; j < e.winLen-1; j++ {
				e.win[(e.winHead+j)%winCap] = e.win[(e.winHead+j+1)%winCap]
			}
			e.winLen--
			continue
		}
		kept++
	}
}

// restartDrift forgets the block minima (after a discontinuity, the old
// ones describe another timeline) but keeps the current skew.
func (e *estimator) restartDrift() {
	e.nBlocks = 0
	e.blockOpen = false
}

// add puts one relative delay into the histogram. The new sample gets the
// weight alpha = max(1/n, 1−forget) of the whole: the first samples are
// averaged evenly (fast start), later ones decay exponentially.
func (e *estimator) add(r int64) {
	i := 0
	if r > 0 {
		i = int((r + e.width - 1) / e.width)
		if i >= e.buckets || i < 0 {
			i = e.buckets - 1
		}
	}
	e.n++
	alpha := 1 / e.n
	if alpha < 1-forget {
		alpha = 1 - forget
	}
	inc := 1.0
	if e.total > 0 {
		inc = e.total * alpha / (1 - alpha)
	}
	for j := i + 1; j <= e.buckets; j += j & -j {
		e.tree[j] += inc
	}
	e.total += inc
	if e.total > rescaleAt {
		s := 1 / e.total
		for j := range e.tree {
			e.tree[j] *= s
		}
		e.total = 1
	}
	e.dirty = true
}

// quantile reports the smallest bucket edge below which at least a fraction
// q of the (weighted) relative delays fall, in samples.
func (e *estimator) quantile() int64 {
	if !e.dirty {
		return e.cached
	}
	rem := e.q * e.total
	pos := 0
	step := 1
	for step*2 <= e.buckets {
		step *= 2
	}
	for ; step > 0; step /= 2 {
		if next := pos + step; next <= e.buckets && e.tree[next] < rem {
			pos = next
			rem -= e.tree[next]
		}
	}
	// pos is the number of leading buckets whose mass stays under q;
	// bucket pos (0-based) is where the quantile falls.
	if pos >= e.buckets {
		pos = e.buckets - 1
	}
	e.cached = int64(pos) * e.width
	e.dirty = false
	return e.cached
}
