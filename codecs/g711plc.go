package codecs

// G.711 packet loss concealment, ITU-T G.711 Appendix I (09/1999).
//
// Hand-written: no Go library implements Appendix I. The algorithm follows the
// Recommendation's description, and its arithmetic is arranged so that the
// output is bit-exact with the ITU-T STL reference (G.191 "g711iplc" built
// with USEDOUBLES, which is how the STL's test vectors were made): the same
// double-precision operations in the same order, with every product rounded
// before it is summed (an explicit float64 conversion stops the Go compiler
// from fusing it into an FMA on arm64/ppc64/s390x), so the output does not
// depend on the CPU. A single-precision build differs from the vectors by
// +-1 in about 0.5% of the samples.
//
// Summary of Appendix I as implemented here, per 10 ms (80-sample) sub-frame:
//
//   - Every frame, good or concealed, goes through a 390-sample history
//     buffer; the output is delayed by 30 samples (3.75 ms) so that the first
//     concealed frame can be cross-faded into the real signal that preceded
//     it.
//   - At the start of an erasure the pitch period (40..120 samples, i.e.
//     66..200 Hz) is found by normalised cross-correlation of the last 20 ms
//     of history (coarse search on 2:1 decimated signal, then a fine search
//     of +-1 sample). One period is repeated, joined to the history by a
//     1/4-wavelength overlap-add (OLA).
//   - At the start of the 2nd and 3rd erased sub-frames one more period is
//     taken from the history (up to three), joined by a 1/4-wavelength OLA.
//   - From the 2nd erased sub-frame the output is attenuated linearly by 20%
//     per 10 ms; after 60 ms of erasure the output is silence.
//   - The first good frame after an erasure is cross-faded with the
//     continuation of the synthetic signal over 1/4 wavelength plus 4 ms per
//     additional erased sub-frame (at most 10 ms).

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Appendix I constants (G.711 Appendix I; the STL reference names them in lowcfe.h).
const (
	plcSubframe     = 80                            // 10 ms at 8 kHz
	plcPitchMin     = 40                            // 200 Hz
	plcPitchMax     = 120                           // 66.7 Hz
	plcPitchDiff    = plcPitchMax - plcPitchMin     // search range
	plcOverlapMax   = plcPitchMax >> 2              // 30 samples: longest 1/4 wavelength, also the output delay
	plcHistoryLen   = plcPitchMax*3 + plcOverlapMax // 390 samples
	plcDecimation   = 2                             // coarse pitch search step
	plcCorrLen      = 160                           // 20 ms correlation window
	plcCorrBufLen   = plcCorrLen + plcPitchMax      // samples the pitch search reads
	plcEndOLAIncr   = 32                            // end-of-erasure OLA grows 4 ms per erased sub-frame
	plcMaxErased    = 6                             // after 60 ms: silence
	plcCorrMinPower = 250.0                         // floor of the normalising energy
	plcAttenPerSub  = 0.2                           // 20% per 10 ms
)

// G711PLCDelay is the delay, in samples at 8 kHz, that the concealer adds
// to the signal (3.75 ms): output frame n carries input samples
// [n*len - 30, (n+1)*len - 30).
const G711PLCDelay = plcOverlapMax

// ErrPLCFrameSize is returned by NewG711PLC for a frame size that is not a
// positive multiple of 80 samples (10 ms at 8 kHz).
var ErrPLCFrameSize = errors.New("codecs: G.711 PLC frame size must be a positive multiple of 80 samples")

// G711PLC conceals lost frames of 8 kHz speech with the algorithm of ITU-T
// G.711 Appendix I. Feed every frame through it in order: AddToHistory for
// a frame that arrived, Conceal for one that did not. Both rewrite the frame
// in place with the output, which is the signal delayed by G711PLCDelay
// samples. A G711PLC is not safe for concurrent use; it does not allocate
// after construction.
type G711PLC struct {
	frame int // samples per frame, a multiple of plcSubframe

	erased    int // consecutive erased sub-frames so far
	pitch     int // pitch period found at the start of the erasure
	overlap   int // pitch/4: OLA length
	offset    int // read position within the repeated pitch buffer
	pitchLen  int // current length of the repeated pitch buffer
	attenStep float64

	history  [plcHistoryLen]int16   // last 390 output samples (pre-delay)
	pitchBuf [plcHistoryLen]float64 // history as float; its tail is the repeated pitch buffer
	lastQ    [plcOverlapMax]float64 // last quarter wavelength before the erasure
	tmp      [plcOverlapMax]int16
	olaBuf   [plcSubframe]int16
}

// NewG711PLC returns a concealer for frames of frameSamples samples at
// 8 kHz. frameSamples must be a positive multiple of 80 (10 ms); longer
// frames are handled as consecutive 10 ms sub-frames, as G.711 Appendix I
// prescribes for other packet sizes.
func NewG711PLC(frameSamples int) (*G711PLC, error) {
	if frameSamples <= 0 || frameSamples%plcSubframe != 0 {
		return nil, fmt.Errorf("%w: got %d", ErrPLCFrameSize, frameSamples)
	}
	p := &G711PLC{frame: frameSamples}
	// Computed at run time, as the reference's ATTENFAC/FRAMESZ.
	step := plcAttenPerSub
	p.attenStep = step / float64(plcSubframe)
	return p, nil
}

// FrameSamples returns the frame size the concealer was created for.
func (p *G711PLC) FrameSamples() int { return p.frame }

// Reset forgets the history, as at the start of a new stream.
func (p *G711PLC) Reset() {
	frame, step := p.frame, p.attenStep
	*p = G711PLC{frame: frame, attenStep: step}
}

// AddToHistory takes a frame that was received and decoded. If it follows
// an erasure, its start is cross-faded with the synthetic signal (G.711
// Appendix I). pcm is replaced with the output frame, delayed by
// G711PLCDelay samples. pcm should hold FrameSamples samples; it is
// processed in 10 ms sub-frames and a trailing partial sub-frame is set to
// zero.
func (p *G711PLC) AddToHistory(pcm []int16) {
	n := len(pcm) - len(pcm)%plcSubframe
	for i := 0; i < n; i += plcSubframe {
		p.addSubframe(pcm[i : i+plcSubframe])
	}
	clear(pcm[n:])
}

// Conceal synthesises a lost frame into pcm (G.711 Appendix I). pcm
// receives the output frame, delayed by G711PLCDelay samples like the
// output of AddToHistory. pcm should hold FrameSamples samples; a trailing
// partial 10 ms sub-frame is set to zero.
func (p *G711PLC) Conceal(pcm []int16) {
	n := len(pcm) - len(pcm)%plcSubframe
	for i := 0; i < n; i += plcSubframe {
		p.concealSubframe(pcm[i : i+plcSubframe])
	}
	clear(pcm[n:])
}

// Concealing reports whether the last frame was concealed.
func (p *G711PLC) Concealing() bool { return p.erased > 0 }

func (p *G711PLC) addSubframe(s []int16) {
	if p.erased > 0 {
		// Appendix I: the OLA at the end of the erasure grows with its length.
		olen := p.overlap + (p.erased-1)*plcEndOLAIncr
		if olen > plcSubframe {
			olen = plcSubframe
		}
		p.readPitchBuf(p.olaBuf[:olen])
		p.fadeIn(s[:olen], p.olaBuf[:olen])
		p.erased = 0
	}
	p.pushHistory(s)
}

func (p *G711PLC) concealSubframe(out []int16) {
	end := plcHistoryLen // index one past the end of pitchBuf
	switch {
	case p.erased == 0:
		// Appendix I, first erased 10 ms: estimate the pitch on the history
		// and start repeating its last period.
		for i, v := range p.history {
			p.pitchBuf[i] = float64(v)
		}
		p.pitch = p.findPitch()
		p.overlap = p.pitch >> 2
		copy(p.lastQ[:p.overlap], p.pitchBuf[end-p.overlap:end])
		p.offset = 0
		p.pitchLen = p.pitch
		start := end - p.pitchLen
		// Smooth the joint between the end of the history and the start
		// of the repeated period.
		olaFloat(p.pitchBuf[end-p.overlap:end], p.lastQ[:p.overlap], p.pitchBuf[start-p.overlap:start])
		for i := end - p.overlap; i < end; i++ {
			p.history[i] = int16(p.pitchBuf[i])
		}
		p.readPitchBuf(out)
	case p.erased == 1 || p.erased == 2:
		// Appendix I, 2nd and 3rd erased 10 ms: add one more pitch period
		// and cross-fade from the old repetition to the new one.
		tail := p.tmp[:p.overlap]
		saved := p.offset
		p.readPitchBuf(tail)
		p.offset = saved
		for p.offset > p.pitch {
			p.offset -= p.pitch
		}
		p.pitchLen += p.pitch
		start := end - p.pitchLen
		olaFloat(p.pitchBuf[end-p.overlap:end], p.lastQ[:p.overlap], p.pitchBuf[start-p.overlap:start])
		p.readPitchBuf(out)
		olaInt16(out[:p.overlap], tail, out[:p.overlap])
		p.attenuate(out)
	case p.erased >= plcMaxErased:
		// Appendix I: after 60 ms the output is muted.
		clear(out)
	default:
		p.readPitchBuf(out)
		p.attenuate(out)
	}
	p.erased++
	p.pushHistory(out)
}

// readPitchBuf copies samples from the circular repeated pitch buffer,
// continuing where the previous read stopped.
func (p *G711PLC) readPitchBuf(out []int16) {
	start := plcHistoryLen - p.pitchLen
	for len(out) > 0 {
		n := min(p.pitchLen-p.offset, len(out))
		for i, v := range p.pitchBuf[start+p.offset : start+p.offset+n] {
			out[i] = int16(v)
		}
		p.offset += n
		if p.offset == p.pitchLen {
			p.offset = 0
		}
		out = out[n:]
	}
}

// attenuate applies the linear 20%-per-10-ms ramp of Appendix I, starting at
// the gain reached at the end of the previous erased sub-frame.
func (p *G711PLC) attenuate(out []int16) {
	g := 1 - float64(float64(p.erased-1)*plcAttenPerSub)
	for i, v := range out {
		out[i] = int16(float64(v) * g)
		g -= p.attenStep
	}
}

// fadeIn cross-fades the first good samples s with the synthetic
// continuation f, scaled by the gain reached at the end of the erasure.
func (p *G711PLC) fadeIn(s, f []int16) {
	incr := 1 / float64(len(s))
	gain := 1 - float64(float64(p.erased-1)*plcAttenPerSub)
	if gain < 0 {
		gain = 0
	}
	incrG := incr * gain
	lw := (1 - incr) * gain
	rw := incr
	for i := range s {
		t := float64(lw*float64(f[i])) + float64(rw*float64(s[i]))
		s[i] = int16(clampF64(t))
		lw -= incrG
		rw += incr
	}
}

// pushHistory appends a sub-frame to the history and replaces it with the
// sub-frame that leaves the delay line (the output, 30 samples late).
func (p *G711PLC) pushHistory(s []int16) {
	h := p.history[:]
	copy(h, h[plcSubframe:])
	copy(h[plcHistoryLen-plcSubframe:], s)
	copy(s, h[plcHistoryLen-plcSubframe-plcOverlapMax:plcHistoryLen-plcOverlapMax])
}

// findPitch returns the pitch period in samples (G.711 Appendix I pitch
// detection): the lag in [40, 120] whose segment best matches the last
// 20 ms by normalised cross-correlation, searched first every 2 samples,
// then +-1 around the best coarse lag.
func (p *G711PLC) findPitch() int {
	buf := p.pitchBuf[:]
	l := buf[plcHistoryLen-plcCorrLen:]                                          // last 20 ms
	r := buf[plcHistoryLen-plcCorrBufLen : plcHistoryLen-plcCorrLen+plcPitchMax] // candidates, lag 120 first

	// Coarse search on every second sample.
	energy, corr := float64(0), float64(0)
	for i := 0; i < plcCorrLen; i += plcDecimation {
		energy += float64(r[i] * r[i])
		corr += float64(r[i] * l[i])
	}
	best := corr / normScale(energy)
	bestJ := 0
	for j := plcDecimation; j <= plcPitchDiff; j += plcDecimation {
		energy -= float64(r[j-plcDecimation] * r[j-plcDecimation])
		energy += float64(r[j-plcDecimation+plcCorrLen] * r[j-plcDecimation+plcCorrLen])
		corr = 0
		for i := 0; i < plcCorrLen; i += plcDecimation {
			corr += float64(r[j+i] * l[i])
		}
		if c := corr / normScale(energy); c >= best {
			best, bestJ = c, j
		}
	}

	// Fine search around the coarse optimum.
	lo := max(bestJ-(plcDecimation-1), 0)
	hi := min(bestJ+(plcDecimation-1), plcPitchDiff)
	energy, corr = 0, 0
	for i := 0; i < plcCorrLen; i++ {
		energy += float64(r[lo+i] * r[lo+i])
		corr += float64(r[lo+i] * l[i])
	}
	best = corr / normScale(energy)
	bestJ = lo
	for j := lo + 1; j <= hi; j++ {
		energy -= float64(r[j-1] * r[j-1])
		energy += float64(r[j-1+plcCorrLen] * r[j-1+plcCorrLen])
		corr = 0
		for i := 0; i < plcCorrLen; i++ {
			corr += float64(r[j+i] * l[i])
		}
		if c := corr / normScale(energy); c > best {
			best, bestJ = c, j
		}
	}
	return plcPitchMax - bestJ
}

// normScale is the square root of the segment energy, floored so that
// near-silence does not produce a spurious match.
func normScale(energy float64) float64 {
	if energy < plcCorrMinPower {
		energy = plcCorrMinPower
	}
	return math.Sqrt(energy)
}

// olaFloat overlap-adds l (fading out) with r (fading in) into o with
// triangular windows.
func olaFloat(o, l, r []float64) {
	if len(o) == 0 {
		return
	}
	incr := 1 / float64(len(o))
	lw, rw := 1-incr, incr
	for i := range o {
		o[i] = clampF64(float64(lw*l[i]) + float64(rw*r[i]))
		lw -= incr
		rw += incr
	}
}

// olaInt16 is olaFloat on 16-bit samples.
func olaInt16(o, l, r []int16) {
	if len(o) == 0 {
		return
	}
	incr := 1 / float64(len(o))
	lw, rw := 1-incr, incr
	for i := range o {
		o[i] = int16(clampF64(float64(lw*float64(l[i])) + float64(rw*float64(r[i]))))
		lw -= incr
		rw += incr
	}
}

func clampF64(t float64) float64 {
	if t > 32767 {
		return 32767
	}
	if t < -32768 {
		return -32768
	}
	return t
}

// plcDecoder gives a G.711 decoder ITU-T G.711 Appendix I concealment
// through the Concealer interface: every decoded frame feeds the history,
// and a lost frame is synthesised from it. Its output is delayed by
// G711PLCDelay samples (the overlap-add the Appendix needs).
type plcDecoder struct {
	Decoder
	plc *G711PLC
}

var _ Concealer = (*plcDecoder)(nil)

// WithG711PLC wraps an 8 kHz decoder (PCMU or PCMA) with Appendix I
// concealment for frames of frameSamples samples (a multiple of 80, e.g.
// 160 for 20 ms). Plain decoding stays bit-exact without it; the processing
// path uses the wrapper.
func WithG711PLC(d Decoder, frameSamples int) (Decoder, error) {
	if d.SampleRate() != 8000 {
		return nil, fmt.Errorf("g711 plc: decoder at %d Hz, want 8000: %w", d.SampleRate(), ErrUnsupported)
	}
	plc, err := NewG711PLC(frameSamples)
	if err != nil {
		return nil, err
	}
	return &plcDecoder{Decoder: d, plc: plc}, nil
}

// Decode implements Decoder and records the frame for concealment.
func (d *plcDecoder) Decode(payload []byte, pcm []int16) (int, error) {
	n, err := d.Decoder.Decode(payload, pcm)
	if err != nil {
		return n, err
	}
	d.plc.AddToHistory(pcm[:n])
	return n, nil
}

// Conceal implements Concealer: one frame of Appendix I concealment.
func (d *plcDecoder) Conceal(pcm []int16) (int, error) {
	n := d.plc.FrameSamples()
	if len(pcm) < n {
		return 0, fmt.Errorf("g711 plc: %d samples for a %d-sample frame: %w", len(pcm), n, io.ErrShortBuffer)
	}
	d.plc.Conceal(pcm[:n])
	return n, nil
}
