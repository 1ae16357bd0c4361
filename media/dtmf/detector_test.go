package dtmf

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/zaf/g711"
)

const allKeys = "0123456789*#ABCD"

// detectAll runs pcm through d in frames of the given size and returns all
// digits.
func detectAll(d *Detector, pcm []int16, frame int) []Digit {
	var got []Digit
	for i := 0; i < len(pcm); i += frame {
		got = append(got, d.Process(pcm[i:min(i+frame, len(pcm))])...)
	}
	return got
}

// toneBurst returns pre samples of silence, the key's tones for dur, and
// post samples of silence, with the generator options given.
func toneBurst(t testing.TB, rate int, key byte, dur time.Duration, pre, post int, opts ...GeneratorOption) []int16 {
	t.Helper()
	g, err := NewGenerator(rate, opts...)
	if err != nil {
		t.Fatal(err)
	}
	n := int(durationUnits(dur, rate))
	pcm := make([]int16, pre+n+post)
	if err := g.SetKey(key); err != nil {
		t.Fatal(err)
	}
	g.Generate(pcm[pre : pre+n])
	return pcm
}

// presses returns the keys of the Press digits in got, and checks that
// presses and releases alternate.
func presses(t testing.TB, got []Digit) string {
	t.Helper()
	var keys []byte
	open := byte(0)
	for _, d := range got {
		switch d.Edge {
		case Press:
			if open != 0 {
				t.Fatalf("press %q while %q is held: %+v", d.Key, open, got)
			}
			open = d.Key
			keys = append(keys, d.Key)
		case Release:
			if d.Key != open {
				t.Fatalf("release %q while %q is held: %+v", d.Key, open, got)
			}
			open = 0
		}
	}
	return string(keys)
}

func TestDetectorRoundTrip(t *testing.T) {
	durations := []time.Duration{40 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond,
		250 * time.Millisecond, 500 * time.Millisecond}
	for _, rate := range []int{8000, 16000, 48000} {
		for _, dur := range durations {
			t.Run(fmt.Sprintf("%dHz/%v", rate, dur), func(t *testing.T) {
				d := NewDetector(rate)
				var offset int64
				for i, key := range []byte(allKeys) {
					// Vary the onset against the 5 ms analysis grid.
					pre := rate/10 + i*rate/3000
					pcm := toneBurst(t, rate, key, dur, pre, rate/5)
					got := detectAll(d, pcm, rate/50)
					if len(got) != 2 || got[0].Edge != Press || got[1].Edge != Release ||
						got[0].Key != key || got[1].Key != key {
						t.Fatalf("key %q: got %+v", key, got)
					}
					onset := offset + int64(pre)
					if e := math.Abs(float64(got[0].Start-onset)) / float64(rate); e > 0.005 {
						t.Errorf("key %q: start %d, tone began at %d", key, got[0].Start, onset)
					}
					if e := (got[1].Duration - dur).Abs(); e > 6*time.Millisecond {
						t.Errorf("key %q: duration %v, want %v", key, got[1].Duration, dur)
					}
					offset += int64(len(pcm))
				}
			})
		}
	}
}

func TestDetectorDialString(t *testing.T) {
	// Fast dialling: 50 ms tones, 50 ms pauses, at each rate, fed in odd
	// frame sizes.
	for _, rate := range []int{8000, 16000, 48000} {
		g, _ := NewGenerator(rate)
		var pcm []int16
		for _, key := range []byte(allKeys + "159D") {
			pcm = append(pcm, make([]int16, rate/20)...)
			tone := make([]int16, rate/20)
			_ = g.SetKey(key)
			g.Generate(tone)
			pcm = append(pcm, tone...)
		}
		pcm = append(pcm, make([]int16, rate/10)...)
		for _, frame := range []int{rate / 50, 37, 1000} {
			got := detectAll(NewDetector(rate), pcm, frame)
			if keys := presses(t, got); keys != allKeys+"159D" {
				t.Errorf("%d Hz, frame %d: heard %q", rate, frame, keys)
			}
		}
	}
}

func TestDetectorFraming(t *testing.T) {
	pcm := toneBurst(t, 8000, '7', 90*time.Millisecond, 333, 1000)
	addNoise(pcm, 333, 333+720, 15, 3)
	want := detectAll(NewDetector(8000), pcm, len(pcm))
	if len(want) != 2 {
		t.Fatalf("whole buffer: %+v", want)
	}
	for _, frame := range []int{1, 7, 40, 160, 441} {
		if got := detectAll(NewDetector(8000), pcm, frame); !reflect.DeepEqual(got, want) {
			t.Errorf("frame %d: %+v, want %+v", frame, got, want)
		}
	}
}

func TestDetectorFrequencyTolerance(t *testing.T) {
	// ITU-T Q.24: accept a deviation of up to 1.5% + 2 Hz, reject 3.5% and
	// more. Deviations are applied per group; "edge" means 1.5% + 2 Hz.
	const edge = 99
	tests := []struct {
		name      string
		low, high float64 // fraction, or ±edge
		accept    bool
	}{
		{"nominal", 0, 0, true},
		{"both +1.5%+2Hz", edge, edge, true},
		{"both -1.5%-2Hz", -edge, -edge, true},
		{"low +1.5%+2Hz high -1.5%-2Hz", edge, -edge, true},
		{"low -1.5%-2Hz high +1.5%+2Hz", -edge, edge, true},
		{"both +3.5%", 0.035, 0.035, false},
		{"both -3.5%", -0.035, -0.035, false},
		{"low +3.5%", 0.035, 0, false},
		{"low -3.5%", -0.035, 0, false},
		{"high +3.5%", 0, 0.035, false},
		{"high -3.5%", 0, -0.035, false},
		{"both +5%", 0.05, 0.05, false},
		{"both -7%", -0.07, -0.07, false},
	}
	for _, snr := range []float64{math.Inf(1), 20} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("snr%v/%s", snr, tt.name), func(t *testing.T) {
				for i, key := range []byte(allKeys) {
					lf, hf, _ := Frequencies(key)
					dev := func(v, f float64) float64 {
						if math.Abs(v) == edge {
							return math.Copysign(0.015+2/f, v)
						}
						return v
					}
					for _, dur := range []time.Duration{40 * time.Millisecond, 100 * time.Millisecond} {
						pcm := toneBurst(t, 8000, key, dur, 800, 1600, WithDeviation(dev(tt.low, lf), dev(tt.high, hf)))
						if !math.IsInf(snr, 1) {
							addNoise(pcm, 800, 800+int(durationUnits(dur, 8000)), snr, uint64(i))
						}
						keys := presses(t, detectAll(NewDetector(8000), pcm, 160))
						want := ""
						if tt.accept {
							want = string(key)
						}
						if keys != want {
							t.Errorf("key %q, %v: heard %q, want %q", key, dur, keys, want)
						}
					}
				}
			})
		}
	}
}

func TestDetectorTwistAndLevel(t *testing.T) {
	tests := []struct {
		name      string
		cfg       DetectorConfig
		low, high float64 // dBm0
		accept    bool
	}{
		{"equal levels", DetectorConfig{}, -10, -10, true},
		{"forward twist 7 dB", DetectorConfig{}, -12, -5, true},
		{"forward twist 9 dB", DetectorConfig{}, -12, -3, false},
		{"forward twist 9 dB, limit 10", DetectorConfig{ForwardTwist: 10}, -12, -3, true},
		{"reverse twist 3.5 dB", DetectorConfig{}, -6, -9.5, true},
		{"reverse twist 5 dB", DetectorConfig{}, -6, -11, false},
		{"reverse twist 5 dB, limit 6", DetectorConfig{ReverseTwist: 6}, -6, -11, true},
		{"loud: 0 and +2 dBm0", DetectorConfig{}, 0, 2, true},
		{"weak: -28 dBm0", DetectorConfig{}, -28, -28, true},
		{"too weak: -32 dBm0", DetectorConfig{}, -32, -32, false},
		{"-32 dBm0, limit -40", DetectorConfig{MinLevel: -40}, -32, -32, true},
		{"far too weak: -45 dBm0", DetectorConfig{}, -45, -45, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, key := range []byte(allKeys) {
				pcm := toneBurst(t, 8000, key, 60*time.Millisecond, 800, 1600, WithLevels(tt.low, tt.high))
				cfg := tt.cfg
				cfg.SampleRate = 8000
				d, err := NewDetectorConfig(cfg)
				if err != nil {
					t.Fatal(err)
				}
				keys := presses(t, detectAll(d, pcm, 160))
				want := ""
				if tt.accept {
					want = string(key)
				}
				if keys != want {
					t.Errorf("key %q: heard %q, want %q", key, keys, want)
				}
			}
		})
	}
}

func TestDetectorNoise(t *testing.T) {
	for _, snr := range []float64{20, 15, 10} {
		for _, dur := range []time.Duration{40 * time.Millisecond, 100 * time.Millisecond} {
			t.Run(fmt.Sprintf("snr%v/%v", snr, dur), func(t *testing.T) {
				for i, key := range []byte(allKeys) {
					for seed := range uint64(3) {
						pcm := toneBurst(t, 8000, key, dur, 1600, 1600)
						addNoise(pcm, 1600, 1600+int(durationUnits(dur, 8000)), snr, seed*100+uint64(i))
						if keys := presses(t, detectAll(NewDetector(8000), pcm, 160)); keys != string(key) {
							t.Errorf("key %q seed %d: heard %q", key, seed, keys)
						}
					}
				}
			})
		}
	}
}

func TestDetectorTiming(t *testing.T) {
	// Q.24: tones of 20 ms or less are not digits; interruptions of 10 ms
	// are bridged; pauses of 40 ms separate digits.
	for _, rate := range []int{8000, 48000} {
		for _, ms := range []int{10, 15, 20} {
			for shift := range 5 {
				pre := rate/10 + shift*rate/1000
				pcm := toneBurst(t, rate, '9', time.Duration(ms)*time.Millisecond, pre, rate/10)
				if keys := presses(t, detectAll(NewDetector(rate), pcm, rate/50)); keys != "" {
					t.Errorf("%d Hz: %d ms tone (shift %d ms) heard as %q", rate, ms, shift, keys)
				}
			}
		}
		for _, tt := range []struct {
			gapMs int
			want  string
		}{{5, "5"}, {10, "5"}, {40, "55"}, {60, "55"}} {
			for shift := range 5 {
				a := toneBurst(t, rate, '5', 100*time.Millisecond, rate/10+shift*rate/1000, tt.gapMs*rate/1000)
				b := toneBurst(t, rate, '5', 100*time.Millisecond, 0, rate/10)
				pcm := append(a, b...)
				if keys := presses(t, detectAll(NewDetector(rate), pcm, rate/50)); keys != tt.want {
					t.Errorf("%d Hz: %d ms gap (shift %d ms) heard as %q, want %q", rate, tt.gapMs, shift, keys, tt.want)
				}
			}
		}
	}
}

// sum mixes signals, the longest setting the length.
func sum(sigs ...[]int16) []int16 {
	n := 0
	for _, s := range sigs {
		n = max(n, len(s))
	}
	out := make([]int16, n)
	for _, s := range sigs {
		for i, v := range s {
			out[i] = clip16(float64(out[i]) + float64(v))
		}
	}
	return out
}

func chirp(rate, n int, f0, f1, dBm0 float64) []int16 {
	out := make([]int16, n)
	a := levelToAmplitude(dBm0)
	phase := 0.0
	for i := range out {
		f := f0 + (f1-f0)*float64(i)/float64(n)
		phase += 2 * math.Pi * f / float64(rate)
		out[i] = clip16(a * math.Sin(phase))
	}
	return out
}

func TestDetectorFalsePositives(t *testing.T) {
	const rate, secs = 8000, 4
	n := rate * secs
	noise := make([]int16, n)
	addNoiseLevel(noise, -20, 5)
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"697 Hz alone", sineAt(rate, n, 697, -7)},
		{"941 Hz alone", sineAt(rate, n, 941, -7)},
		{"1209 Hz alone", sineAt(rate, n, 1209, -7)},
		{"1633 Hz alone", sineAt(rate, n, 1633, -7)},
		{"1000 Hz alone", sineAt(rate, n, 1000, 0)},
		{"dial tone 350+440", sum(sineAt(rate, n, 350, -13), sineAt(rate, n, 440, -13))},
		{"ringback 440+480", sum(sineAt(rate, n, 440, -19), sineAt(rate, n, 480, -19))},
		{"busy 480+620", sum(sineAt(rate, n, 480, -24), sineAt(rate, n, 620, -24))},
		{"two rows 697+770", sum(sineAt(rate, n, 697, -10), sineAt(rate, n, 770, -10))},
		{"two columns 1209+1336", sum(sineAt(rate, n, 1209, -10), sineAt(rate, n, 1336, -10))},
		{"three tones 697+1209+1336", sum(sineAt(rate, n, 697, -10), sineAt(rate, n, 1209, -10), sineAt(rate, n, 1336, -10))},
		{"pair with a third tone in its group, 4 dB down", sum(sineAt(rate, n, 697, -10), sineAt(rate, n, 1209, -10), sineAt(rate, n, 1336, -14))},
		{"pair with an equal 500 Hz tone", sum(sineAt(rate, n, 852, -10), sineAt(rate, n, 1477, -10), sineAt(rate, n, 500, -10))},
		{"pair with second harmonics", sum(sineAt(rate, n, 941, -10), sineAt(rate, n, 1882, -14), sineAt(rate, n, 1209, -8), sineAt(rate, n, 2418, -12))},
		{"chirp 300-3400 Hz", chirp(rate, n, 300, 3400, -10)},
		{"white noise -20 dBm0", noise},
		{"speech-like, seed 1", speechLike(rate, n, -15, 1)},
		{"speech-like, seed 2", speechLike(rate, n, -15, 2)},
		{"speech-like, loud", speechLike(rate, n, -6, 3)},
		{"speech-like, quiet", speechLike(rate, n, -30, 4)},
		// Sustained vowels whose harmonics land on a row and a column:
		// 4×174.25 = 697, 7×174.25 = 1219.75; 3×232.33 = 697, 6×232.33 = 1394.
		{"vowel f0 174.25 on 697/1220", vowel(rate, n, 174.25, [3]float64{697, 1220, 2500}, -12)},
		{"vowel f0 232.33 on 697/1394", vowel(rate, n, 232.33, [3]float64{697, 1394, 2500}, -12)},
		{"vowel f0 135.3 /a/", vowel(rate, n, 135.3, vowels[0], -12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectAll(NewDetector(rate), tt.pcm, 160); len(got) != 0 {
				t.Errorf("heard %+v", got)
			}
		})
	}
	t.Run("speech-like at 16 kHz", func(t *testing.T) {
		if got := detectAll(NewDetector(16000), speechLike(16000, 16000*secs, -15, 7), 320); len(got) != 0 {
			t.Errorf("heard %+v", got)
		}
	})
}

// corpus is the project's shared test material, three levels above this
// package.
const corpus = "../../../shared/corpora/"

func TestDetectorRecordedAudio(t *testing.T) {
	// Real recordings: 120 s of music (rtpengine fixtures, CC-BY-3.0) as
	// PCMA and PCMU, and 2.9 s of speech (ITU-T STL G.711 PLC input).
	files := []struct {
		path   string
		decode func([]byte) []int16
	}{
		{"vectors/rtpengine-fixtures/pcma.1.8k.raw", func(b []byte) []int16 {
			pcm := make([]int16, len(b))
			for i, v := range b {
				pcm[i] = g711.DecodeAlawFrame(v)
			}
			return pcm
		}},
		{"vectors/rtpengine-fixtures/pcmu.1.8k.raw", func(b []byte) []int16 {
			pcm := make([]int16, len(b))
			for i, v := range b {
				pcm[i] = g711.DecodeUlawFrame(v)
			}
			return pcm
		}},
		{"vectors/g711-plc-itu-stl/f2.le", func(b []byte) []int16 {
			pcm := make([]int16, len(b)/2)
			for i := range pcm {
				pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
			}
			return pcm
		}},
	}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			b, err := os.ReadFile(corpus + f.path)
			if err != nil {
				skipOrFailInCI(t, "corpus not available: %v", err)
			}
			pcm := f.decode(b)
			if got := detectAll(NewDetector(8000), pcm, 160); len(got) != 0 {
				t.Errorf("heard %d digits in %v of audio: %+v", len(got), time.Duration(len(pcm))*time.Second/8000, got)
			}
			// The same audio with digits over it: the digits are heard.
			g, _ := NewGenerator(8000)
			mixed := append([]int16(nil), pcm...)
			want := ""
			for i, key := range []byte("0#5D") {
				at := (i + 1) * len(pcm) / 5
				tone := make([]int16, 800)
				_ = g.SetKey(key)
				g.Generate(tone)
				for j, v := range tone {
					// Music 10-20 dB under the tones, as on a call.
					mixed[at+j] = clip16(float64(mixed[at+j])/8 + float64(v))
				}
				want += string(key)
			}
			if keys := presses(t, detectAll(NewDetector(8000), mixed, 160)); keys != want {
				t.Errorf("with digits mixed in: heard %q, want %q", keys, want)
			}
		})
	}
}

func TestDetectorReset(t *testing.T) {
	d := NewDetector(8000)
	pcm := toneBurst(t, 8000, '3', 200*time.Millisecond, 400, 0)
	got := detectAll(d, pcm, 160)
	if presses(t, got) != "3" || len(got) != 1 {
		t.Fatalf("before reset: %+v", got)
	}
	d.Reset()
	got = detectAll(d, toneBurst(t, 8000, '4', 100*time.Millisecond, 400, 800), 160)
	if presses(t, got) != "4" || len(got) != 2 || got[0].Start < 400-40 || got[0].Start > 400+40 {
		t.Fatalf("after reset: %+v", got)
	}
}

func TestNewDetectorErrors(t *testing.T) {
	for _, cfg := range []DetectorConfig{
		{SampleRate: 4000}, {SampleRate: 400000},
		{SampleRate: 8000, ForwardTwist: -1}, {SampleRate: 8000, ReverseTwist: -1},
		{SampleRate: 8000, MinLevel: 5},
	} {
		if _, err := NewDetectorConfig(cfg); err == nil {
			t.Errorf("NewDetectorConfig(%+v) succeeded", cfg)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewDetector(7999) did not panic")
		}
	}()
	NewDetector(7999)
}

// FuzzDetector feeds arbitrary PCM (little-endian int16) to a Detector:
// whatever it hears must be well formed.
func FuzzDetector(f *testing.F) {
	tone := toneBurst(f, 8000, '8', 60*time.Millisecond, 80, 400)
	b := make([]byte, 2*len(tone))
	for i, v := range tone {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	f.Add(b)
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80})
	f.Add(make([]byte, 3000))
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		// Repeat the input so that short inputs still span windows.
		for len(pcm) > 0 && len(pcm) < 2000 {
			pcm = append(pcm, pcm...)
		}
		got := detectAll(NewDetector(8000), pcm, 160)
		presses(t, got)
		last := int64(-1)
		for _, d := range got {
			if _, _, ok := Frequencies(d.Key); !ok || d.Start < 0 || d.Start < last || d.Duration < 0 {
				t.Fatalf("malformed digit %+v in %+v", d, got)
			}
			last = d.Start
		}
	})
}

func TestHannGain(t *testing.T) {
	// Compare with a direct DFT of a Hann-windowed complex tone b bins off
	// the bin centre.
	const n = 160
	for _, b := range []float64{0, 0.1, 0.25, 0.5, 0.84, 1, 1.5, -0.6} {
		var on, off complex128
		for i := range n {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
			on += complex(w, 0)
			off += complex(w, 0) * cmplxExp(2*math.Pi*b*float64(i)/n)
		}
		want := cmplxAbs(off) / cmplxAbs(on)
		if got := hannGain(b); math.Abs(got-want) > 0.003 {
			t.Errorf("hannGain(%v) = %.4f, DFT gives %.4f", b, got, want)
		}
	}
	if hannGain(2.5) != 0 {
		t.Error("hannGain beyond the main lobe is not 0")
	}
}

func cmplxExp(phi float64) complex128 { return complex(math.Cos(phi), math.Sin(phi)) }

func cmplxAbs(z complex128) float64 { return math.Hypot(real(z), imag(z)) }
