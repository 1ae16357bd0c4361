package codecs

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Test helpers for signals, prefixed sig to stay clear of other files in
// the package.

// sigCorpus returns the path of a file in the shared test corpora, skipping
// the test when the corpora are not checked out beside the project.
func sigCorpus(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "corpora", rel)
	if _, err := os.Stat(p); err != nil {
		skipOrFailInCI(t, "corpus file %s not available: %v", p, err)
	}
	return p
}

// sigReadLE reads a file of little-endian int16.
func sigReadLE(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// sigTone returns n samples of a sine of freq Hz at rate and peak amplitude amp.
func sigTone(n, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// sigSNR returns the SNR in dB of got against ref over ref[from:to], with got
// delayed by lag samples.
func sigSNR(ref, got []int16, lag, from, to int) float64 {
	var s, e float64
	for i := from; i < to && i+lag < len(got); i++ {
		r := float64(ref[i])
		d := float64(got[i+lag]) - r
		s += r * r
		e += d * d
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/e)
}

// sigBestLag returns the delay in [0, maxLag] that maximises the SNR of got
// against ref over ref[from:to], and that SNR.
func sigBestLag(ref, got []int16, maxLag, from, to int) (int, float64) {
	best, bestSNR := 0, math.Inf(-1)
	for lag := 0; lag <= maxLag; lag++ {
		if s := sigSNR(ref, got, lag, from, to); s > bestSNR {
			best, bestSNR = lag, s
		}
	}
	return best, bestSNR
}

// sigGoertzel returns the power of x at freq Hz (Goertzel algorithm).
func sigGoertzel(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// sigDominant returns the frequency, on a 10 Hz grid from 100 Hz to just
// below Nyquist, with the most power in x.
func sigDominant(x []int16, rate int) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f < float64(rate)/2-50; f += 10 {
		if p := sigGoertzel(x, rate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// sigFFT is an in-place radix-2 complex FFT; len(re) must be a power of 2.
// Hand-written to keep the tests free of a DSP dependency.
func sigFFT(re, im []float64) {
	n := len(re)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := -2 * math.Pi / float64(size)
		for start := 0; start < n; start += size {
			for k := 0; k < size/2; k++ {
				c, s := math.Cos(w*float64(k)), math.Sin(w*float64(k))
				a, b := start+k, start+k+size/2
				tr := re[b]*c - im[b]*s
				ti := re[b]*s + im[b]*c
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a] += tr
				im[a] += ti
			}
		}
	}
}

// sigSpectralSNR compares the short-time magnitude spectra of got (delayed
// by lag) and ref between loHz and hiHz, in Hann-windowed 512-point frames:
// 10·log10(Σ|R|² / Σ(|R|-|G|)²). Unlike the waveform SNR it ignores phase,
// which perceptual codecs such as Opus do not keep.
func sigSpectralSNR(ref, got []int16, lag, rate int, loHz, hiHz float64) float64 {
	const n = 512
	lo, hi := int(loHz*n/float64(rate)), int(hiHz*n/float64(rate))
	r, ri := make([]float64, n), make([]float64, n)
	g, gi := make([]float64, n), make([]float64, n)
	var s, e float64
	for start := 0; start+n <= len(ref) && start+lag+n <= len(got); start += n {
		for i := range n {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
			r[i], ri[i] = w*float64(ref[start+i]), 0
			g[i], gi[i] = w*float64(got[start+lag+i]), 0
		}
		sigFFT(r, ri)
		sigFFT(g, gi)
		for k := lo; k <= hi && k < n/2; k++ {
			mr, mg := math.Hypot(r[k], ri[k]), math.Hypot(g[k], gi[k])
			s += mr * mr
			e += (mr - mg) * (mr - mg)
		}
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/e)
}

// sigEncodeAll encodes x frame by frame, returning the payloads.
func sigEncodeAll(t testing.TB, enc Encoder, x []int16) [][]byte {
	t.Helper()
	frame := enc.FrameSamples()
	var out [][]byte
	buf := make([]byte, enc.MaxPayloadSize())
	for i := 0; i+frame <= len(x); i += frame {
		n, err := enc.Encode(x[i:i+frame], buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
	return out
}

// sigSpeechLike returns seconds of a deterministic speech-like signal at
// rate: a harmonic series on a gliding 110-230 Hz pitch under a 4 Hz
// syllable envelope, plus a little noise. Benchmarks use it so that they
// need no corpus and the codecs see voiced, varying input.
func sigSpeechLike(rate, seconds int) []int16 {
	out := make([]int16, rate*seconds)
	var phase float64
	seed := uint32(1)
	for i := range out {
		t := float64(i) / float64(rate)
		f0 := 170 + 60*math.Sin(2*math.Pi*0.7*t)
		phase += 2 * math.Pi * f0 / float64(rate)
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		var v float64
		for h := 1; h <= 12 && float64(h)*f0 < float64(rate)/2; h++ {
			v += math.Sin(float64(h)*phase) / float64(h)
		}
		seed = seed*1664525 + 1013904223 // LCG noise
		noise := float64(int32(seed)>>16) / 32768
		out[i] = int16(6000*env*v + 300*noise)
	}
	return out
}

// skipOrFailInCI skips a test whose input (shared corpus, a peer's data
// files) is missing on a developer machine; under CI a missing input is a
// failure, never a silent skip.
func skipOrFailInCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("required under CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
