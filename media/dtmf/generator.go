package dtmf

import (
	"fmt"
	"math"
)

// maxSineDBm0 is the level of a full-scale 16-bit sine wave: the A-law
// overload point of ITU-T G.711 is +3.14 dBm0, so a sine of peak 32767
// carries +3.14 dBm0 and 0 dBm0 is a sine of peak 22 826.
const maxSineDBm0 = 3.14

// Default tone levels (ITU-T Q.23 leaves levels to administrations; these
// sit in the usual -6 to -12 dBm0 range with the high group 2 dB above the
// low group, the customary pre-emphasis).
const (
	// DefaultLowLevel is the default low-group (row) tone level in dBm0.
	DefaultLowLevel = -10.0
	// DefaultHighLevel is the default high-group (column) tone level in dBm0.
	DefaultHighLevel = -8.0
)

// levelToAmplitude returns the peak amplitude of a sine wave of the given
// level in dBm0, in 16-bit linear PCM units.
func levelToAmplitude(dBm0 float64) float64 {
	return 32767 * math.Pow(10, (dBm0-maxSineDBm0)/20)
}

// powerToLevel returns the level in dBm0 of a signal whose mean power (mean
// square of 16-bit samples) is p.
func powerToLevel(p float64) float64 {
	a := levelToAmplitude(0)
	return 10 * math.Log10(p/(a*a/2))
}

// GeneratorOption configures a Generator.
type GeneratorOption func(*Generator) error

// WithLevels sets the level of the low-group and high-group tones in dBm0.
// Their difference high-low is the twist (positive: high group louder).
func WithLevels(lowDBm0, highDBm0 float64) GeneratorOption {
	return func(g *Generator) error {
		if lowDBm0 > maxSineDBm0 || highDBm0 > maxSineDBm0 {
			return fmt.Errorf("dtmf: tone levels %.1f/%.1f dBm0 above +%.2f dBm0", lowDBm0, highDBm0, maxSineDBm0)
		}
		g.lowAmp = levelToAmplitude(lowDBm0)
		g.highAmp = levelToAmplitude(highDBm0)
		return nil
	}
}

// WithDeviation shifts the low-group and high-group frequencies by the
// given fractions (0.015 sends 697 Hz as 707.5 Hz), to test receivers
// against the ITU-T Q.24 frequency tolerances.
func WithDeviation(low, high float64) GeneratorOption {
	return func(g *Generator) error {
		if math.Abs(low) > 0.5 || math.Abs(high) > 0.5 {
			return fmt.Errorf("dtmf: deviation %.3f/%.3f out of range", low, high)
		}
		g.lowDev, g.highDev = low, high
		return nil
	}
}

// Generator writes in-band DTMF tones: the sum of the key's row and column
// sine waves (ITU-T Q.23) as 16-bit linear PCM. The phase of each tone runs
// on across calls to Generate, so a tone cut into frames has no
// discontinuity. Generate does not allocate. A Generator is not safe for
// concurrent use.
type Generator struct {
	rate            float64
	lowAmp, highAmp float64
	lowDev, highDev float64

	key byte
	// Each tone is a unit phasor (cos, sin) turned by its step every
	// sample: a recursive oscillator, exact to rounding, without a call to
	// math.Sin per sample.
	lowC, lowS, highC, highS float64
	lowStepC, lowStepS       float64
	highStepC, highStepS     float64
}

// NewGenerator returns a silent Generator for the given sample rate
// (8000-192000 Hz); the default levels are DefaultLowLevel and
// DefaultHighLevel.
func NewGenerator(sampleRate int, opts ...GeneratorOption) (*Generator, error) {
	if sampleRate < 8000 || sampleRate > 192000 {
		return nil, fmt.Errorf("dtmf: generator sample rate %d Hz out of range", sampleRate)
	}
	g := &Generator{
		rate:    float64(sampleRate),
		lowAmp:  levelToAmplitude(DefaultLowLevel),
		highAmp: levelToAmplitude(DefaultHighLevel),
		lowC:    1,
		highC:   1,
	}
	for _, o := range opts {
		if err := o(g); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// SetKey selects the key whose tones Generate writes; key 0 selects
// silence. The phases carry on from the previous tone.
func (g *Generator) SetKey(key byte) error {
	if key == 0 {
		g.key = 0
		return nil
	}
	low, high, ok := Frequencies(key)
	if !ok {
		return fmt.Errorf("dtmf: no tone pair for key %q", key)
	}
	g.key = key
	g.lowStepS, g.lowStepC = math.Sincos(2 * math.Pi * low * (1 + g.lowDev) / g.rate)
	g.highStepS, g.highStepC = math.Sincos(2 * math.Pi * high * (1 + g.highDev) / g.rate)
	return nil
}

// Key returns the selected key, 0 for silence.
func (g *Generator) Key() byte { return g.key }

// Generate fills dst with the next len(dst) samples.
func (g *Generator) Generate(dst []int16) {
	if g.key == 0 {
		clear(dst)
		return
	}
	lc, ls, hc, hs := g.lowC, g.lowS, g.highC, g.highS
	for i := range dst {
		dst[i] = clip16(g.lowAmp*ls + g.highAmp*hs)
		lc, ls = lc*g.lowStepC-ls*g.lowStepS, ls*g.lowStepC+lc*g.lowStepS
		hc, hs = hc*g.highStepC-hs*g.highStepS, hs*g.highStepC+hc*g.highStepS
	}
	// Put the phasors back on the unit circle; rounding drifts them by
	// about 1e-16 per sample.
	lr := 1 / math.Sqrt(lc*lc+ls*ls)
	hr := 1 / math.Sqrt(hc*hc+hs*hs)
	g.lowC, g.lowS, g.highC, g.highS = lc*lr, ls*lr, hc*hr, hs*hr
}

// clip16 rounds v to the nearest int16, saturating.
func clip16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
