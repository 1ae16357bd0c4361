package dtmf

import (
	"fmt"
	"math"
	"time"
)

// Detector defaults. ITU-T Q.24 tabulates, per administration, the levels,
// twists and tolerances a DTMF receiver must accept; the twists here are
// those of Asterisk's and spandsp's detectors (8 dB normal, 4 dB reverse).
const (
	// DefaultMinLevel is the weakest tone accepted, in dBm0 per frequency.
	// Telephones send about -4 to -10 dBm0 per tone; -30 dBm0 allows 20 dB
	// and more of loss on the way.
	DefaultMinLevel = -30.0
	// DefaultForwardTwist is how much louder, in dB, the high-group tone may
	// be than the low-group tone ("normal" twist, the usual pre-emphasis).
	DefaultForwardTwist = 8.0
	// DefaultReverseTwist is how much louder, in dB, the low-group tone may
	// be than the high-group tone.
	DefaultReverseTwist = 4.0
)

// Detector tuning. The analysis is a Hann-windowed DFT of 20 ms (50 Hz bins)
// evaluated every 5 ms at the eight DTMF frequencies (8 Goertzel filters per
// window, four windows overlapping); second harmonics are computed only for
// windows that pass every other check.
const (
	windowTime    = 20 * time.Millisecond
	hopsPerWindow = 4
	numTones      = 8

	// minPurity is the share of the window's power the two tones must
	// carry: speech, music and noise spread theirs (other-tone check).
	minPurity = 0.7
	// neighbourMargin is how far in dB the strongest tone of a group must
	// be above the others of its group. A tone at the edge of the
	// frequency tolerance leaks about 9 dB below itself into the
	// neighbouring bin; two tones of one group fail.
	neighbourMargin = 6.0
	// harmonicMargin is how far in dB a tone's second harmonic must be
	// below it: Q.23 senders keep distortion 20 dB down; voiced speech
	// has strong harmonics.
	harmonicMargin = 12.0
	// pressHits is how many consecutive 5 ms windows must hold the same
	// tone pair before a Press: with the 20 ms window this rejects tones
	// of 20 ms or less and accepts tones from 26 ms, so the 40 ms that
	// Q.24 asks to be recognised has margin.
	pressHits = 4
	// releaseMisses is how many consecutive windows without the tone end
	// a press: breaks of up to 12 ms are bridged (Q.24: 10 ms), pauses of
	// 20 ms or more separate digits (Q.24: 40 ms must).
	releaseMisses = 5
)

// DetectorConfig configures a Detector. Zero fields take the defaults.
type DetectorConfig struct {
	// SampleRate of the PCM, 8000-192000 Hz.
	SampleRate int
	// MinLevel is the weakest accepted tone level, dBm0 per frequency.
	MinLevel float64
	// ForwardTwist is the largest accepted excess, in dB, of the high-group
	// tone over the low-group tone.
	ForwardTwist float64
	// ReverseTwist is the largest accepted excess, in dB, of the low-group
	// tone over the high-group tone.
	ReverseTwist float64
}

// Digit is a key press or release the Detector heard.
type Digit struct {
	// Key is '0'-'9', '*', '#' or 'A'-'D'.
	Key byte
	// Edge is Press or Release.
	Edge Edge
	// Start is the index, counting from the first sample the Detector was
	// given, of the sample where the tone is estimated to have begun.
	Start int64
	// Duration is how long the tone lasted; set on Release only.
	Duration time.Duration
}

// Detector finds DTMF digits in 16-bit linear PCM by Goertzel analysis,
// following the ITU-T Q.24 receiver tolerances:
//
//   - frequency: each tone within 1.5% + 2 Hz of nominal is accepted, at
//     3.5% or more it is rejected; the decision threshold is 2.5% + 1 Hz.
//     The offset is measured from the phase advance of the tone's DFT bin
//     between windows 5 ms apart, which is exact to a fraction of a hertz,
//     rather than from bin magnitudes, which cannot tell 1.5% from 3.5% on
//     a 20 ms window;
//   - level: each tone at least MinLevel dBm0, after correcting the window's
//     scalloping loss for the measured offset;
//   - twist: high group at most ForwardTwist dB above the low group, low
//     group at most ReverseTwist dB above the high group;
//   - purity: the two tones carry 70% of the window's power, each is 6 dB
//     above the other tones of its group and 12 dB above its second
//     harmonic, so speech, music, noise and single tones are rejected;
//   - timing: a tone pair held for four consecutive 5 ms windows (tones of
//     26 ms and more pass, of 20 ms fail) is a Press; five windows without
//     it end it with a Release, so pauses of 20 ms separate digits and
//     breaks of 12 ms do not.
//
// The 20 ms Hann window and 5 ms hop scale with the sample rate, so the
// same detector serves 8, 16 and 48 kHz without resampling (its cost grows
// with the rate).
//
// Process does not allocate once its result slice has grown to the largest
// number of digits one call returns. A Detector is not safe for concurrent
// use.
type Detector struct {
	rate  float64
	n     int // window length in samples
	hop   int // samples between window starts
	win   []float64
	sumW  float64
	sumW2 float64
	binHz float64

	coef       [numTones]float64 // 2 cos ω
	cosw, sinw [numTones]float64
	harmCoef   [numTones]float64 // 2 cos 2ω
	rotRe      [numTones]float64 // e^{-jω·hop}
	rotIm      [numTones]float64
	tolHz      [numTones]float64
	// rowHarm[r][c] says whether row r's second harmonic bin lies clear of
	// column c's main lobe, so that its check means something.
	rowHarm [4][4]bool

	minPower, fwdRatio, revRatio, neighRatio, harmRatio float64

	slots   [hopsPerWindow]slot
	pos     int   // samples into the current hop
	hops    int64 // hop boundaries passed
	x, xw   []float64
	ring    []float64 // the last n samples, oldest at ringPos
	ringPos int

	prevRe, prevIm [numTones]float64
	prevOK         bool
	samples        int64

	cur        byte
	curStart   int64
	lastHitEnd int64
	misses     int
	cand       byte
	candCount  int
	candStart  int64

	out []Digit
}

// slot is the Goertzel state of one of the overlapping windows.
type slot struct {
	running bool
	idx     int
	energy  float64
	s1, s2  [numTones]float64
}

// NewDetector returns a Detector for PCM at sampleRate with the default
// limits. It panics if sampleRate is outside 8000-192000 Hz, a programming
// error; NewDetectorConfig returns an error instead.
func NewDetector(sampleRate int) *Detector {
	d, err := NewDetectorConfig(DetectorConfig{SampleRate: sampleRate})
	if err != nil {
		panic(err)
	}
	return d
}

// NewDetectorConfig returns a Detector for cfg.
func NewDetectorConfig(cfg DetectorConfig) (*Detector, error) {
	if cfg.SampleRate < 8000 || cfg.SampleRate > 192000 {
		return nil, fmt.Errorf("dtmf: detector sample rate %d Hz out of range", cfg.SampleRate)
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = DefaultMinLevel
	}
	if cfg.ForwardTwist == 0 {
		cfg.ForwardTwist = DefaultForwardTwist
	}
	if cfg.ReverseTwist == 0 {
		cfg.ReverseTwist = DefaultReverseTwist
	}
	if cfg.ForwardTwist < 0 || cfg.ReverseTwist < 0 || cfg.MinLevel > maxSineDBm0 {
		return nil, fmt.Errorf("dtmf: detector limits out of range: %+v", cfg)
	}
	hop := int(math.Round(float64(cfg.SampleRate) * windowTime.Seconds() / hopsPerWindow))
	n := hop * hopsPerWindow
	d := &Detector{
		rate: float64(cfg.SampleRate),
		n:    n,
		hop:  hop,
		win:  make([]float64, n),
		ring: make([]float64, n),
		x:    make([]float64, hop),
		xw:   make([]float64, hop),
		out:  make([]Digit, 0, 4),
	}
	d.binHz = d.rate / float64(n)
	for i := range d.win {
		// Periodic Hann window: its sidelobes keep the other group's tone
		// (at least 268 Hz, 5 bins away) 50 dB down.
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		d.win[i] = w
		d.sumW += w
		d.sumW2 += w * w
	}
	for i := range numTones {
		f := rowFreqs[i%4]
		if i >= 4 {
			f = colFreqs[i-4]
		}
		// Q.24: accept within 1.5% + 2 Hz, reject from 3.5%; decide halfway.
		d.tolHz[i] = 0.025*f + 1
		w := 2 * math.Pi * f / d.rate
		d.rotRe[i] = math.Cos(w * float64(hop))
		d.rotIm[i] = -math.Sin(w * float64(hop))
		d.coef[i] = 2 * math.Cos(w)
		d.cosw[i] = math.Cos(w)
		d.sinw[i] = math.Sin(w)
		d.harmCoef[i] = 2 * math.Cos(2*w)
	}
	for r := range 4 {
		for c := range 4 {
			// The Hann main lobe spans ±2 bins; the column tone may sit
			// tolHz off nominal.
			gap := math.Abs(2*rowFreqs[r] - colFreqs[c])
			d.rowHarm[r][c] = gap > 2*d.binHz+d.tolHz[4+c]
		}
	}
	a0 := levelToAmplitude(cfg.MinLevel)
	d.minPower = a0 * a0 / 2
	d.fwdRatio = math.Pow(10, cfg.ForwardTwist/10)
	d.revRatio = math.Pow(10, cfg.ReverseTwist/10)
	d.neighRatio = math.Pow(10, neighbourMargin/10)
	d.harmRatio = math.Pow(10, -harmonicMargin/10)
	d.slots[0].running = true
	return d, nil
}

// Reset forgets all audio and any digit in progress (no Release is
// reported for it); sample counting restarts at zero.
func (d *Detector) Reset() {
	d.slots = [hopsPerWindow]slot{}
	d.slots[0].running = true
	d.pos, d.hops, d.samples, d.ringPos = 0, 0, 0, 0
	clear(d.ring)
	d.prevOK = false
	d.cur, d.misses, d.cand, d.candCount = 0, 0, 0, 0
	d.out = d.out[:0]
}

// Process analyses the next samples of the stream and returns the digits
// whose Press or Release was decided within them. The returned slice is
// reused by the next call.
func (d *Detector) Process(pcm []int16) []Digit {
	d.out = d.out[:0]
	for len(pcm) > 0 {
		k := min(len(pcm), d.hop-d.pos)
		x := d.x[:k]
		for i, v := range pcm[:k] {
			x[i] = float64(v)
		}
		pcm = pcm[k:]
		c := copy(d.ring[d.ringPos:], x)
		copy(d.ring, x[c:])
		d.ringPos = (d.ringPos + k) % d.n
		for i := range d.slots {
			if d.slots[i].running {
				d.feed(&d.slots[i], x)
			}
		}
		d.pos += k
		d.samples += int64(k)
		if d.pos < d.hop {
			continue
		}
		d.pos = 0
		d.hops++
		s := &d.slots[d.hops%hopsPerWindow]
		if s.running {
			d.evaluate(s)
		}
		*s = slot{running: true}
	}
	return d.out
}

// feed runs the window's Goertzel filters over x, the next samples of the
// window.
func (d *Detector) feed(s *slot, x []float64) {
	w := d.win[s.idx : s.idx+len(x)]
	xw := d.xw[:len(x)]
	e := 0.0
	for i, v := range x {
		t := v * w[i]
		xw[i] = t
		e += t * t
	}
	s.energy += e
	s.idx += len(x)
	// Four filters at a time keep four independent recurrences in flight.
	for f := 0; f < numTones; f += 4 {
		c0, c1, c2, c3 := d.coef[f], d.coef[f+1], d.coef[f+2], d.coef[f+3]
		a1, b1, g1, h1 := s.s1[f], s.s1[f+1], s.s1[f+2], s.s1[f+3]
		a2, b2, g2, h2 := s.s2[f], s.s2[f+1], s.s2[f+2], s.s2[f+3]
		for _, v := range xw {
			a0 := v + c0*a1 - a2
			b0 := v + c1*b1 - b2
			g0 := v + c2*g1 - g2
			h0 := v + c3*h1 - h2
			a2, a1 = a1, a0
			b2, b1 = b1, b0
			g2, g1 = g1, g0
			h2, h1 = h1, h0
		}
		s.s1[f], s.s1[f+1], s.s1[f+2], s.s1[f+3] = a1, b1, g1, h1
		s.s2[f], s.s2[f+1], s.s2[f+2], s.s2[f+3] = a2, b2, g2, h2
	}
}

// evaluate classifies a completed window and advances the digit state.
func (d *Detector) evaluate(s *slot) {
	var pw [numTones]float64
	var re, im [numTones]float64
	for f := range numTones {
		// Goertzel output y = s1 - e^{-jω}·s2 = e^{jω(N-1)}·X(ω).
		yr := s.s1[f] - d.cosw[f]*s.s2[f]
		yi := d.sinw[f] * s.s2[f]
		pw[f] = yr*yr + yi*yi
		re[f], im[f] = yr, yi
	}
	key := byte(0)
	if d.prevOK {
		key = d.classify(&pw, &re, &im, s.energy)
	}
	d.prevRe, d.prevIm, d.prevOK = re, im, true
	d.step(key, d.samples)
}

// classify returns the key whose tone pair the window holds, or 0.
func (d *Detector) classify(pw *[numTones]float64, re, im *[numTones]float64, energy float64) byte {
	row, col := 0, 4
	for i := 1; i < 4; i++ {
		if pw[i] > pw[row] {
			row = i
		}
		if pw[4+i] > pw[col] {
			col = 4 + i
		}
	}
	// Other tones of each group must be well below the chosen one.
	for i := range 4 {
		if i != row && pw[i]*d.neighRatio > pw[row] {
			return 0
		}
		if 4+i != col && pw[4+i]*d.neighRatio > pw[col] {
			return 0
		}
	}
	// Frequency offsets from the phase advance since the previous window.
	offRow := d.offsetHz(row, re, im)
	offCol := d.offsetHz(col, re, im)
	if math.Abs(offRow) > d.tolHz[row] || math.Abs(offCol) > d.tolHz[col] {
		return 0
	}
	// Tone powers (mean square), corrected for the scalloping loss at the
	// measured offset.
	norm := 2 / (d.sumW * d.sumW)
	gr := hannGain(offRow / d.binHz)
	gc := hannGain(offCol / d.binHz)
	pr := pw[row] * norm / (gr * gr)
	pc := pw[col] * norm / (gc * gc)
	if pr < d.minPower || pc < d.minPower {
		return 0
	}
	if pc > pr*d.fwdRatio || pr > pc*d.revRatio {
		return 0
	}
	total := energy / d.sumW2
	if pr+pc < minPurity*total {
		return 0
	}
	// Second harmonics must be weak. The harmonics of 697, 770 and 852 Hz
	// fall near some column tones (2×697 = 1394 Hz, 58 Hz from 1336 Hz):
	// there the column tone's leakage would fail the check, so it is skipped.
	if d.harmonic(col) > pw[col]*d.harmRatio ||
		(d.rowHarm[row][col-4] && d.harmonic(row) > pw[row]*d.harmRatio) {
		return 0
	}
	return keypad[row][col-4]
}

// harmonic returns the power, on the scale of the Goertzel outputs, of the
// second harmonic of tone f in the window that just ended. Only windows that
// pass every other check get here, so it runs over the stored samples
// rather than keeping 8 more filters running.
func (d *Detector) harmonic(f int) float64 {
	c := d.harmCoef[f]
	var s1, s2 float64
	k := 0
	for _, part := range [2][]float64{d.ring[d.ringPos:], d.ring[:d.ringPos]} {
		for _, v := range part {
			s1, s2 = v*d.win[k]+c*s1-s2, s1
			k++
		}
	}
	// |y|² for y = s1 - e^{-j2ω}·s2.
	return s1*s1 + s2*s2 - c*s1*s2
}

// offsetHz returns the measured frequency offset of tone f from nominal:
// the phase of X_t·conj(X_{t-1}) with both DFTs referred to one time origin
// is 2π·offset·hop/rate, unambiguous within ±rate/(2·hop) = ±100 Hz, which
// is the edge of the Hann main lobe.
func (d *Detector) offsetHz(f int, re, im *[numTones]float64) float64 {
	// y_t·conj(y_{t-1})·e^{-jω·hop}
	pr := re[f]*d.prevRe[f] + im[f]*d.prevIm[f]
	pi := im[f]*d.prevRe[f] - re[f]*d.prevIm[f]
	zr := pr*d.rotRe[f] - pi*d.rotIm[f]
	zi := pr*d.rotIm[f] + pi*d.rotRe[f]
	return math.Atan2(zi, zr) * d.rate / (2 * math.Pi * float64(d.hop))
}

// hannGain is the amplitude response of a Hann-windowed DFT bin to a tone
// b bins away from its centre, relative to a tone at the centre.
func hannGain(b float64) float64 {
	b = math.Abs(b)
	switch {
	case b < 1e-9:
		return 1
	case math.Abs(b-1) < 1e-9:
		return 0.5
	case b >= 2:
		return 0
	}
	return math.Sin(math.Pi*b) / (math.Pi * b) / (1 - b*b)
}

// Timing calibration: a tone's onset is estimated this many windows (in
// fractions of a window) after the start of the window before its first hit,
// and its end this far before the end of its last hit window.
const (
	onsetLag = 0.48
	endLead  = 0.23
)

// step advances the press/release state with the key of the window ending
// at sample end.
func (d *Detector) step(key byte, end int64) {
	if d.cur != 0 {
		if key == d.cur {
			d.misses = 0
			d.lastHitEnd = end
		} else if d.misses++; d.misses >= releaseMisses {
			lead := int64(endLead * float64(d.n))
			dur := max(d.lastHitEnd-lead-d.curStart, 0)
			d.out = append(d.out, Digit{
				Key: d.cur, Edge: Release, Start: d.curStart,
				Duration: time.Duration(float64(dur) / d.rate * float64(time.Second)),
			})
			d.cur = 0
		}
	}
	switch {
	case key == 0 || key == d.cur:
		d.cand, d.candCount = 0, 0
	case key == d.cand:
		d.candCount++
	default:
		d.cand, d.candCount = key, 1
		// The first hit needs this window and the one before it.
		d.candStart = end - int64(d.n) - int64(d.hop) + int64(onsetLag*float64(d.n))
	}
	if d.cur == 0 && d.cand != 0 && d.candCount >= pressHits {
		d.cur, d.curStart, d.lastHitEnd, d.misses = d.cand, max(d.candStart, 0), end, 0
		d.cand, d.candCount = 0, 0
		d.out = append(d.out, Digit{Key: d.cur, Edge: Press, Start: d.curStart})
	}
}
