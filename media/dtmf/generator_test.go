package dtmf

import (
	"math"
	"math/cmplx"
	"testing"
)

// dftAt returns the amplitude of the component at freq Hz in pcm by a
// plain DFT: exact when pcm holds a whole number of its cycles.
func dftAt(pcm []int16, rate int, freq float64) float64 {
	var acc complex128
	step := cmplx.Exp(complex(0, -2*math.Pi*freq/float64(rate)))
	rot := complex(1, 0)
	for i, v := range pcm {
		if i%1024 == 0 { // renormalise the rotating phasor exactly
			rot = cmplx.Exp(complex(0, -2*math.Pi*freq*float64(i)/float64(rate)))
		}
		acc += complex(float64(v), 0) * rot
		rot *= step
	}
	return 2 * cmplx.Abs(acc) / float64(len(pcm))
}

func TestGeneratorLevelsAndFrequencies(t *testing.T) {
	tests := []struct {
		rate      int
		low, high float64
		devLow    float64
		devHigh   float64
	}{
		{8000, DefaultLowLevel, DefaultHighLevel, 0, 0},
		{16000, -6, -4, 0, 0},
		{48000, -20, -12, 0, 0},
		{8000, -10, -10, 0.02, -0.02},
	}
	for _, tt := range tests {
		g, err := NewGenerator(tt.rate, WithLevels(tt.low, tt.high), WithDeviation(tt.devLow, tt.devHigh))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []byte(allKeys) {
			if err := g.SetKey(key); err != nil {
				t.Fatal(err)
			}
			if g.Key() != key {
				t.Fatalf("Key() = %q", g.Key())
			}
			// One second holds a whole number of cycles of every nominal
			// frequency; deviated ones need longer for the DFT to settle.
			n := tt.rate
			if tt.devLow != 0 {
				n *= 5
			}
			pcm := make([]int16, n)
			g.Generate(pcm)
			lf, hf, _ := Frequencies(key)
			lf *= 1 + tt.devLow
			hf *= 1 + tt.devHigh
			for _, c := range []struct {
				f, level float64
			}{{lf, tt.low}, {hf, tt.high}} {
				amp := dftAt(pcm, tt.rate, c.f)
				got := 20 * math.Log10(amp/levelToAmplitude(0))
				if math.Abs(got-c.level) > 0.05 {
					t.Errorf("%d Hz key %q: %.1f Hz at %.2f dBm0, want %.2f", tt.rate, key, c.f, got, c.level)
				}
			}
			if tt.devLow != 0 {
				continue
			}
			// Nothing else: the power left after removing both tones is
			// rounding noise, 50 dB down.
			var p float64
			for _, v := range pcm {
				p += float64(v) * float64(v)
			}
			p /= float64(len(pcm))
			al, ah := levelToAmplitude(tt.low), levelToAmplitude(tt.high)
			if rest := p - al*al/2 - ah*ah/2; math.Abs(rest) > 1e-5*p {
				t.Errorf("%d Hz key %q: %.2f of %.0f power outside the tones", tt.rate, key, rest, p)
			}
		}
	}
}

func TestGeneratorPhaseContinuity(t *testing.T) {
	g1, _ := NewGenerator(8000)
	g2, _ := NewGenerator(8000)
	whole := make([]int16, 4000)
	_ = g1.SetKey('6')
	g1.Generate(whole)
	_ = g2.SetKey('6')
	pieces := make([]int16, 0, 4000)
	for _, n := range []int{1, 7, 160, 13, 1000, 819, 2000} {
		frame := make([]int16, min(n, 4000-len(pieces)))
		g2.Generate(frame)
		pieces = append(pieces, frame...)
	}
	for i := range whole {
		if whole[i] != pieces[i] {
			t.Fatalf("sample %d: %d in one piece, %d in frames", i, whole[i], pieces[i])
		}
	}
	// No jump between frames: the largest step of the sum of two tones
	// is bounded by their slopes.
	al, ah := levelToAmplitude(DefaultLowLevel), levelToAmplitude(DefaultHighLevel)
	limit := 2*math.Pi*(770*al+1477*ah)/8000 + 1
	for i := 1; i < len(pieces); i++ {
		if d := math.Abs(float64(pieces[i]) - float64(pieces[i-1])); d > limit {
			t.Fatalf("step of %.0f at sample %d, limit %.0f", d, i, limit)
		}
	}
}

func TestGeneratorSilenceAndErrors(t *testing.T) {
	g, err := NewGenerator(8000)
	if err != nil {
		t.Fatal(err)
	}
	buf := []int16{1, 2, 3}
	g.Generate(buf)
	if buf[0] != 0 || buf[1] != 0 || buf[2] != 0 {
		t.Fatalf("silent generator wrote %v", buf)
	}
	_ = g.SetKey('1')
	g.Generate(buf)
	if err := g.SetKey(0); err != nil {
		t.Fatal(err)
	}
	g.Generate(buf)
	if buf[0] != 0 || buf[2] != 0 {
		t.Fatalf("after SetKey(0): %v", buf)
	}
	for _, k := range []byte{Flash, 'E', '+'} {
		if err := g.SetKey(k); err == nil {
			t.Errorf("SetKey(%q) succeeded", k)
		}
	}
	for _, tc := range []struct {
		rate int
		opt  GeneratorOption
	}{
		{4000, nil}, {200000, nil},
		{8000, WithLevels(4, -10)}, {8000, WithLevels(-10, 3.5)},
		{8000, WithDeviation(0.6, 0)},
	} {
		var opts []GeneratorOption
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		if _, err := NewGenerator(tc.rate, opts...); err == nil {
			t.Errorf("NewGenerator(%d, ...) succeeded", tc.rate)
		}
	}
	// Full scale saturates rather than wraps.
	g, err = NewGenerator(8000, WithLevels(3.14, 3.14))
	if err != nil {
		t.Fatal(err)
	}
	_ = g.SetKey('D')
	big := make([]int16, 8000)
	g.Generate(big)
	var hi, lo int16
	for _, v := range big {
		hi, lo = max(hi, v), min(lo, v)
	}
	if hi != math.MaxInt16 || lo != math.MinInt16 {
		t.Fatalf("full-scale pair peaks %d/%d, want saturation", hi, lo)
	}
}

func TestLevelConversion(t *testing.T) {
	// 0 dBm0 is a sine of peak 22 826 (G.711 A-law: full scale +3.14 dBm0).
	if a := levelToAmplitude(0); math.Abs(a-22826) > 1 {
		t.Fatalf("0 dBm0 amplitude %.1f", a)
	}
	if a := levelToAmplitude(maxSineDBm0); math.Abs(a-32767) > 1e-9 {
		t.Fatalf("+3.14 dBm0 amplitude %.1f", a)
	}
	a := levelToAmplitude(-13)
	if l := powerToLevel(a * a / 2); math.Abs(l+13) > 1e-9 {
		t.Fatalf("round trip of -13 dBm0 gave %v", l)
	}
}
