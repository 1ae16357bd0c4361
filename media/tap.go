package media

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Tap receives the PCM of one processed direction of a bridge: mono
// signed 16-bit frames at rate Hz, as they leave the decoder (after
// concealment, comfort noise and resampling to the far leg's rate), at
// the playout instant at. It is how the recorder, a conference room's
// input and meters attach without the bridge knowing them. WritePCM runs
// on the engine's playout goroutine, for every processing stream in
// turn: it must not block (queue to a bounded buffer and count drops) and
// must not keep pcm after it returns.
type Tap interface {
	WritePCM(pcm []int16, rate int, at time.Time)
}

// AddTap attaches t to the direction fed by from (one of the bridge's
// endpoints). Taps see PCM only while that direction is processed
// (BridgeConfig.Process forces it); while it relays they are kept and
// receive nothing.
func (br *Bridge) AddTap(from *Endpoint, t Tap) {
	d := br.dir(from)
	if d == nil || t == nil {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	var taps []Tap
	if cur := d.taps.Load(); cur != nil {
		taps = slices.Clone(*cur)
	}
	taps = append(taps, t)
	d.taps.Store(&taps)
}

// RemoveTap detaches t from the direction fed by from. A tick already
// running may still call it once.
func (br *Bridge) RemoveTap(from *Endpoint, t Tap) {
	d := br.dir(from)
	if d == nil {
		return
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	cur := d.taps.Load()
	if cur == nil {
		return
	}
	taps := slices.DeleteFunc(slices.Clone(*cur), func(x Tap) bool { return x == t })
	if len(taps) == 0 {
		d.taps.Store(nil)
		return
	}
	d.taps.Store(&taps)
}

// writeTaps hands pcm to d's taps.
func (d *direction) writeTaps(pcm []int16, rate int, at time.Time) {
	if taps := d.taps.Load(); taps != nil {
		for _, t := range *taps {
			t.WritePCM(pcm, rate, at)
		}
	}
}

// ToneMeter is a Tap that measures what passes: the RMS level and the
// dominant frequency of the most recent second of audio. The frequency is
// found with the Goertzel algorithm over a grid of candidate frequencies
// (written by hand: it is a dozen lines, and no Go library offers a
// Goertzel scan), refined around the best bin. It is safe for concurrent
// use: the playout goroutine writes while a test or the quality record
// reads Summary.
type ToneMeter struct {
	mu      sync.Mutex
	rate    int
	window  []int16 // the last second, a ring
	pos     int
	filled  int
	frames  int
	samples int64
	sumSq   float64 // over everything written
	gaps    int     // frames whose start was later than the previous end by more than a frame
	maxGap  time.Duration
	lastEnd time.Time
}

// ToneSummary is what a ToneMeter measured.
type ToneSummary struct {
	// Frequency is the dominant frequency (Hz) of the last second, 0
	// without audio.
	Frequency float64
	// LevelDBov is the RMS level of everything written, in dB relative
	// to a full-scale square wave (0 dBov = RMS 32768), -inf in silence.
	LevelDBov float64
	// RecentDBov is the RMS level of the last second.
	RecentDBov float64
	// Frames and Samples count what was written; Rate is its last rate.
	Frames  int
	Samples int64
	Rate    int
	// MaxGap is the longest time between the end of one frame and the
	// start of the next (0 when the frames were contiguous).
	MaxGap time.Duration
}

// NewToneMeter returns an empty meter.
func NewToneMeter() *ToneMeter { return &ToneMeter{} }

// WritePCM implements Tap.
func (m *ToneMeter) WritePCM(pcm []int16, rate int, at time.Time) {
	if rate <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rate != m.rate {
		m.rate = rate
		m.window = make([]int16, rate)
		m.pos, m.filled = 0, 0
	}
	if !m.lastEnd.IsZero() {
		if g := at.Sub(m.lastEnd); g > m.maxGap {
			m.maxGap = g
		}
	}
	m.lastEnd = at.Add(time.Duration(len(pcm)) * time.Second / time.Duration(rate))
	for _, v := range pcm {
		m.window[m.pos] = v
		m.pos = (m.pos + 1) % len(m.window)
		f := float64(v)
		m.sumSq += f * f
	}
	m.filled = min(m.filled+len(pcm), len(m.window))
	m.frames++
	m.samples += int64(len(pcm))
}

// Summary returns the measurements so far.
func (m *ToneMeter) Summary() ToneSummary {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := ToneSummary{Frames: m.frames, Samples: m.samples, Rate: m.rate, MaxGap: m.maxGap,
		LevelDBov: math.Inf(-1), RecentDBov: math.Inf(-1)}
	if m.samples == 0 {
		return s
	}
	s.LevelDBov = dBov(m.sumSq / float64(m.samples))
	x := make([]float64, m.filled)
	start := m.pos - m.filled
	if start < 0 {
		start += len(m.window)
	}
	var sq float64
	for i := range x {
		x[i] = float64(m.window[(start+i)%len(m.window)])
		sq += x[i] * x[i]
	}
	s.RecentDBov = dBov(sq / float64(len(x)))
	if sq == 0 {
		return s
	}
	best, bestP := 0.0, -1.0
	for f := 50.0; f < float64(m.rate)/2; f += 10 {
		if p := goertzel(x, f, m.rate); p > bestP {
			best, bestP = f, p
		}
	}
	for f := best - 10; f <= best+10; f++ {
		if p := goertzel(x, f, m.rate); p > bestP {
			best, bestP = f, p
		}
	}
	s.Frequency = best
	return s
}

// dBov converts a mean square to dB relative to full scale.
func dBov(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(meanSquare/(32768*32768))
}

// goertzel returns the power of x at frequency f (Hz) sampled at rate.
func goertzel(x []float64, f float64, rate int) float64 {
	c := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

var _ Tap = (*ToneMeter)(nil)

// SetTaps turns BridgeConfig.Taps on or off without reconfiguring the
// bridge: relayed directions start (or stop) decoding a copy of what they
// relay for their taps, so a recording can start in the middle of a
// relayed call. Processed directions feed their taps either way.
func (br *Bridge) SetTaps(on bool) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.stopped || br.cfg.Taps == on {
		return
	}
	br.cfg.Taps = on
	for _, x := range []struct {
		d  *direction
		in LegFormat
	}{{br.ab, br.cfg.A}, {br.ba, br.cfg.B}} {
		br.setMonitor(x.d, x.in, on && x.d.proc == nil)
	}
}
