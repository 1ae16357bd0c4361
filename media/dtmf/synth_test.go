package dtmf

import (
	"math"
	"math/rand/v2"
)

// Test signal synthesis: tones, noise and speech-like audio.

// sineAt returns n samples of a sine of freq Hz at level dBm0.
func sineAt(rate, n int, freq, dBm0 float64) []int16 {
	out := make([]int16, n)
	a := levelToAmplitude(dBm0)
	for i := range out {
		out[i] = clip16(a * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// addNoise adds white Gaussian noise whose power is snr dB below the mean
// power of the signal between from and to.
func addNoise(pcm []int16, from, to int, snr float64, seed uint64) {
	var p float64
	for _, v := range pcm[from:to] {
		p += float64(v) * float64(v)
	}
	p /= float64(to - from)
	addNoiseLevel(pcm, powerToLevel(p)-snr, seed)
}

// addNoiseLevel adds white Gaussian noise at level dBm0.
func addNoiseLevel(pcm []int16, dBm0 float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	sigma := levelToAmplitude(dBm0) / math.Sqrt2
	for i := range pcm {
		pcm[i] = clip16(float64(pcm[i]) + r.NormFloat64()*sigma)
	}
}

// resonator is a two-pole filter with a peak at a formant frequency.
type resonator struct {
	a1, a2, g float64
	y1, y2    float64
}

func (r *resonator) tune(freq, bw, rate float64) {
	rad := math.Exp(-math.Pi * bw / rate)
	r.a1 = 2 * rad * math.Cos(2*math.Pi*freq/rate)
	r.a2 = -rad * rad
	r.g = 1 - rad // rough unity gain at the peak
}

func (r *resonator) step(x float64) float64 {
	y := r.g*x + r.a1*r.y1 + r.a2*r.y2
	r.y2, r.y1 = r.y1, y
	return y
}

// vowels are the first three formants (Hz) of some English vowels
// (Peterson & Barney averages).
var vowels = [][3]float64{
	{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480},
	{570, 840, 2410}, {660, 1720, 2410}, {490, 1350, 1690}, {440, 1020, 2240},
}

// speechLike synthesises n samples of speech-like audio: syllables of 80
// to 300 ms, most voiced (a harmonic-rich glottal source whose pitch glides
// between 100 and 250 Hz, through three formant resonators that move from
// vowel to vowel), some unvoiced (filtered noise), some silent, with a
// background noise floor. level is the long-term level of the voiced parts
// in dBm0.
func speechLike(rate, n int, level float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 42))
	fs := float64(rate)
	out := make([]float64, n)
	var formants [3]resonator
	cur := vowels[0]
	target := vowels[1]
	f0, f0Target := 150.0, 200.0
	phase := 0.0
	var lp float64 // glottal low-pass state
	var env, envTarget float64
	voiced := true
	segLeft := 0
	for i := range out {
		if segLeft == 0 {
			segLeft = int(fs * (0.08 + 0.22*r.Float64()))
			switch x := r.Float64(); {
			case x < 0.7:
				voiced, envTarget = true, 1
				target = vowels[r.IntN(len(vowels))]
				f0Target = 100 + 150*r.Float64()
			case x < 0.85:
				voiced, envTarget = false, 0.3
			default:
				voiced, envTarget = true, 0
			}
		}
		segLeft--
		// Glide pitch, formants and loudness towards their targets.
		f0 += (f0Target - f0) * 20 / fs
		vib := 1 + 0.01*math.Sin(2*math.Pi*5*float64(i)/fs)
		for k := range cur {
			cur[k] += (target[k] - cur[k]) * 30 / fs
		}
		env += (envTarget - env) * 60 / fs
		if i%32 == 0 {
			bws := [3]float64{80, 110, 160}
			for k := range formants {
				formants[k].tune(cur[k], bws[k], fs)
			}
		}
		var src float64
		if voiced {
			// Sawtooth glottal flow derivative: every harmonic, falling
			// 6 dB per octave, then a further gentle low-pass.
			phase += f0 * vib / fs
			if phase >= 1 {
				phase--
			}
			saw := 2*phase - 1
			lp += (saw - lp) * 0.5
			src = lp
		} else {
			src = r.NormFloat64() * 0.5
		}
		v := 0.0
		for k := range formants {
			v += formants[k].step(src) * [3]float64{1, 0.6, 0.3}[k]
		}
		out[i] = v * env
	}
	// Scale to the requested level.
	var p float64
	for _, v := range out {
		p += v * v
	}
	p /= float64(n)
	a := levelToAmplitude(level) / math.Sqrt2
	scale := a / math.Sqrt(p)
	pcm := make([]int16, n)
	for i, v := range out {
		pcm[i] = clip16(v * scale)
	}
	addNoiseLevel(pcm, level-35, seed+1)
	return pcm
}

// vowel synthesises n samples of one sustained vowel at a constant pitch f0:
// the hardest case for talk-off, when two of its harmonics sit on a DTMF
// row and column frequency.
func vowel(rate, n int, f0 float64, formants [3]float64, level float64) []int16 {
	fs := float64(rate)
	var res [3]resonator
	bws := [3]float64{80, 110, 160}
	for k := range res {
		res[k].tune(formants[k], bws[k], fs)
	}
	out := make([]float64, n)
	phase, lp := 0.0, 0.0
	var p float64
	for i := range out {
		phase += f0 / fs
		if phase >= 1 {
			phase--
		}
		lp += (2*phase - 1 - lp) * 0.5
		v := 0.0
		for k := range res {
			v += res[k].step(lp) * [3]float64{1, 0.6, 0.3}[k]
		}
		out[i] = v
		p += v * v
	}
	scale := levelToAmplitude(level) / math.Sqrt2 / math.Sqrt(p/float64(n))
	pcm := make([]int16, n)
	for i, v := range out {
		pcm[i] = clip16(v * scale)
	}
	return pcm
}
