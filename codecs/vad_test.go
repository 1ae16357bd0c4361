package codecs

import (
	"math"
	"testing"
	"time"
)

func mustVAD(t testing.TB, rate int) *VAD {
	t.Helper()
	v, err := NewVAD(VADConfig{SampleRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// vadRun returns the decision for each 20 ms frame of x.
func vadRun(v *VAD, x []int16, rate int) []bool {
	n := rate / 50
	var out []bool
	for i := 0; i+n <= len(x); i += n {
		out = append(out, v.Process(x[i:i+n]))
	}
	return out
}

func fracTrue(b []bool) float64 {
	return float64(countTrue(b)) / float64(len(b))
}

func levelRMS(dBov float64) float64 { return cnFullScale * math.Pow(10, dBov/20) }

func TestVADSignals(t *testing.T) {
	const rate = 8000
	sec := func(s float64) int { return int(s * rate) }
	tests := []struct {
		name     string
		signal   []int16
		from, to int // frames of the decision to check
		wantMin  float64
		wantMax  float64
	}{
		// 1 s of a -20 dBov 1 kHz tone from the start: speech throughout.
		{"tone", sineWave(rate, 1000, levelRMS(-20)*math.Sqrt2, sec(1)), 0, 50, 1, 1},
		// A quieter, low tone (voiced-like zero-crossing rate).
		{"tone_low_-40dBov", sineWave(rate, 200, levelRMS(-40)*math.Sqrt2, sec(1)), 0, 50, 1, 1},
		{"digital_silence", make([]int16, sec(2)), 0, 100, 0, 0},
		{"low_noise_-60dBov", coloredNoise(1, sec(2), 0, 0, levelRMS(-60)), 0, 100, 0, 0},
		{"noise_-50dBov", coloredNoise(2, sec(2), 0, 0, levelRMS(-50)), 0, 100, 0, 0},
		// Louder steady background: learnt within the floor window
		// (1.6 s), then silent.
		{"noise_-35dBov_after_adaptation", coloredNoise(3, sec(4), 0, 0, levelRMS(-35)), 100, 200, 0, 0},
		{"lowpass_noise_-35dBov_after_adaptation", coloredNoise(4, sec(4), 0.9, 0, levelRMS(-35)), 100, 200, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVAD(t, rate)
			d := vadRun(v, tc.signal, rate)
			if f := fracTrue(d[tc.from:tc.to]); f < tc.wantMin || f > tc.wantMax {
				t.Errorf("speech in %.0f%% of frames %d..%d, want %.0f..%.0f%% (level %.1f dBov, floor %.1f dBov)",
					100*f, tc.from, tc.to, 100*tc.wantMin, 100*tc.wantMax, v.Level(), v.NoiseFloor())
			}
		})
	}
}

func TestVADBurstsOverNoise(t *testing.T) {
	// Background noise at -40 dBov with 400 ms tone bursts at -20 dBov
	// every second, at 16 kHz: after adaptation the bursts (plus the
	// hangover) are speech and the gaps are not.
	const rate = 16000
	x := coloredNoise(5, 6*rate, 0.3, 0, levelRMS(-40))
	tone := sineWave(rate, 440, levelRMS(-20)*math.Sqrt2, rate)
	burst := func(sec int) (int, int) { return sec*rate + rate/4, sec*rate + rate/4 + rate*2/5 }
	for s := 2; s < 6; s++ {
		a, b := burst(s)
		for i := a; i < b; i++ {
			x[i] += tone[i-a]
		}
	}
	v := mustVAD(t, rate)
	d := vadRun(v, x, rate)
	frame := func(sample int) int { return sample / (rate / 50) }
	for s := 2; s < 6; s++ {
		a, b := burst(s)
		on := d[frame(a)+1 : frame(b)]
		if f := fracTrue(on); f != 1 {
			t.Errorf("burst %d: speech in %.0f%% of its frames, want 100%%", s, 100*f)
		}
		// Hangover: 200 ms = 10 frames after the burst stay true.
		hang := d[frame(b)+1 : frame(b)+10]
		if f := fracTrue(hang); f != 1 {
			t.Errorf("burst %d: hangover true in %.0f%% of the next 180 ms, want 100%%", s, 100*f)
		}
		// Then the gap before the next burst is background.
		gap := d[frame(b)+15 : frame(a)+50-2]
		if f := fracTrue(gap); f != 0 {
			t.Errorf("gap after burst %d: speech in %.0f%% of frames, want 0", s, 100*f)
		}
	}
	if fl := v.NoiseFloor(); fl < -45 || fl > -38 {
		t.Errorf("noise floor %.1f dBov, background is -40 dBov", fl)
	}
}

func TestVADConfig(t *testing.T) {
	if _, err := NewVAD(VADConfig{}); err == nil {
		t.Error("NewVAD without a sample rate succeeded")
	}
	if _, err := NewVAD(VADConfig{SampleRate: 8000, Hangover: -time.Second}); err == nil {
		t.Error("NewVAD with a negative hangover succeeded")
	}
	// Hangover is configurable and counted in samples, whatever the frame size.
	v, err := NewVAD(VADConfig{SampleRate: 8000, Hangover: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tone := sineWave(8000, 500, 10000, 160)
	if !v.Process(tone) {
		t.Fatal("tone frame not speech")
	}
	silence := make([]int16, 80) // 10 ms frames
	var hang int
	for range 20 {
		if v.Process(silence) {
			hang++
		}
	}
	if hang != 5 {
		t.Errorf("hangover lasted %d frames of 10 ms, want 5", hang)
	}
	if v.Level() != vadSilenceDBov {
		t.Errorf("Level() of silence = %v", v.Level())
	}
	v.Reset()
	if v.Process(silence) {
		t.Error("after Reset, silence is speech")
	}
	if v.Process(nil) {
		t.Error("empty frame is speech with no hangover pending")
	}
}

func BenchmarkVAD(b *testing.B) {
	v := mustVAD(b, 8000)
	pcm := coloredNoise(9, 160, 0.5, 0, 1000) // 20 ms at 8 kHz
	v.Process(pcm)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.Process(pcm)
	}
	reportStreamsPerCore(b)
}
