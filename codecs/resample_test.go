package codecs

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// sineWave returns n samples of amp*sin(2*pi*f*t) at rate.
func sineWave(rate int, f, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return x
}

// resampleFrames runs x through r in frames of frame samples.
func resampleFrames(t testing.TB, r *Resampler, x []int16, frame int) []int16 {
	t.Helper()
	out := make([]int16, 0, r.MaxOut(len(x)))
	buf := make([]int16, r.MaxOut(frame))
	for i := 0; i < len(x); i += frame {
		in := x[i:min(i+frame, len(x))]
		n := r.Process(in, buf)
		if n > r.MaxOut(len(in)) {
			t.Fatalf("Process wrote %d samples for %d input, MaxOut says %d", n, len(in), r.MaxOut(len(in)))
		}
		out = append(out, buf[:n]...)
	}
	return out
}

func mustResampler(t testing.TB, from, to int) *Resampler {
	t.Helper()
	r, err := NewResampler(from, to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// sineFit returns the amplitude of the least-squares sinusoid at f in x
// and the RMS of what remains: a delay-independent SNR measure.
func sineFit(x []int16, rate int, f float64) (amp, resid float64) {
	var ss, sc, cc, xs, xc float64
	for i, v := range x {
		s, c := math.Sincos(2 * math.Pi * f * float64(i) / float64(rate))
		ss, sc, cc = ss+s*s, sc+s*c, cc+c*c
		xs, xc = xs+float64(v)*s, xc+float64(v)*c
	}
	det := ss*cc - sc*sc
	a, b := (xs*cc-xc*sc)/det, (xc*ss-xs*sc)/det
	var e float64
	for i, v := range x {
		s, c := math.Sincos(2 * math.Pi * f * float64(i) / float64(rate))
		d := float64(v) - a*s - b*c
		e += d * d
	}
	return math.Hypot(a, b), math.Sqrt(e / float64(len(x)))
}

// goertzelPower returns the power of x at frequency f (Goertzel algorithm).
func goertzelPower(x []int16, rate int, f float64) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// dominantFreq returns the frequency, on a 20 Hz grid below Nyquist, with
// the most power in x.
func dominantFreq(x []int16, rate int) float64 {
	best, bestP := 0.0, -1.0
	for f := 20.0; f < float64(rate)/2; f += 20 {
		if p := goertzelPower(x, rate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func rmsInt16(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestResamplerRoundTrip(t *testing.T) {
	tests := []struct {
		mid    int
		f      float64
		minSNR float64
	}{
		{16000, 440, 60},
		{16000, 1000, 60},
		{16000, 3000, 60},
		{48000, 440, 60},
		{48000, 1000, 60},
		{48000, 3000, 60},
		{12000, 1000, 60},
		{24000, 1000, 60},
		{32000, 1000, 60},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("8k-%dk-8k_%gHz", tc.mid/1000, tc.f), func(t *testing.T) {
			in := sineWave(8000, tc.f, 16000, 8000) // 1 s
			up := resampleFrames(t, mustResampler(t, 8000, tc.mid), in, 160)
			if len(up) != len(in)*tc.mid/8000 {
				t.Fatalf("up: %d samples, want %d", len(up), len(in)*tc.mid/8000)
			}
			if f := dominantFreq(up[len(up)/10:], tc.mid); f != tc.f {
				t.Errorf("dominant frequency at %d Hz = %g Hz, want %g", tc.mid, f, tc.f)
			}
			down := resampleFrames(t, mustResampler(t, tc.mid, 8000), up, tc.mid/50)
			if len(down) != len(in) {
				t.Fatalf("down: %d samples, want %d", len(down), len(in))
			}
			// Skip the filters' start-up transient.
			steady := down[800:]
			if f := dominantFreq(steady, 8000); f != tc.f {
				t.Errorf("dominant frequency after round trip = %g Hz, want %g", f, tc.f)
			}
			amp, resid := sineFit(steady, 8000, tc.f)
			gain := 20 * math.Log10(amp/16000)
			snr := 20 * math.Log10(amp/math.Sqrt2/resid)
			t.Logf("gain %.3f dB, SNR %.1f dB", gain, snr)
			if snr < tc.minSNR {
				t.Errorf("SNR %.1f dB, want >= %g", snr, tc.minSNR)
			}
			if math.Abs(gain) > 0.1 {
				t.Errorf("gain %.3f dB, want within 0.1 dB", gain)
			}
		})
	}
}

func TestResamplerAliasing(t *testing.T) {
	// A tone above the output Nyquist frequency must not fold back into
	// the output band: at least 60 dB down on the input level.
	tests := []struct {
		from, to int
		f        float64
	}{
		{16000, 8000, 6000},
		{16000, 8000, 4500},
		{16000, 8000, 7900},
		{48000, 8000, 20000},
		{48000, 8000, 5000},
		{48000, 8000, 12000},
		{48000, 16000, 9000},
		{48000, 16000, 20000},
		{32000, 16000, 12000},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dk-%dk_%gHz", tc.from/1000, tc.to/1000, tc.f), func(t *testing.T) {
			in := sineWave(tc.from, tc.f, 30000, tc.from) // 1 s, near full scale
			out := resampleFrames(t, mustResampler(t, tc.from, tc.to), in, tc.from/50)
			steady := out[len(out)/10:]
			outRMS := rmsInt16(steady)
			atten := math.Inf(1)
			if outRMS > 0 {
				atten = 20 * math.Log10(rmsInt16(in)/outRMS)
			}
			t.Logf("attenuation %.1f dB (output RMS %.3f)", atten, outRMS)
			if atten < 60 {
				t.Errorf("alias attenuated by %.1f dB, want >= 60 dB", atten)
			}
		})
	}
}

func TestResamplerPassband(t *testing.T) {
	// Tones in the telephone band pass downsampling unchanged in level.
	for _, tc := range []struct {
		from, to int
		f        float64
	}{{48000, 8000, 300}, {48000, 8000, 3400}, {16000, 8000, 3400}, {48000, 16000, 7000}} {
		in := sineWave(tc.from, tc.f, 16000, tc.from)
		out := resampleFrames(t, mustResampler(t, tc.from, tc.to), in, tc.from/50)
		amp, _ := sineFit(out[len(out)/10:], tc.to, tc.f)
		if g := 20 * math.Log10(amp/16000); math.Abs(g) > 0.5 {
			t.Errorf("%d->%d at %g Hz: gain %.2f dB, want within 0.5 dB", tc.from, tc.to, tc.f, g)
		}
	}
}

func TestResamplerChunking(t *testing.T) {
	// Streaming in odd chunk sizes gives the same signal as one call.
	chunks := []int{1, 7, 13, 160, 3, 99, 2, 481, 5, 37}
	for _, rates := range [][2]int{{8000, 48000}, {48000, 8000}, {8000, 16000}, {16000, 8000}, {16000, 48000}, {48000, 16000}} {
		from, to := rates[0], rates[1]
		t.Run(fmt.Sprintf("%dk-%dk", from/1000, to/1000), func(t *testing.T) {
			in := sineWave(from, 700, 12000, from/2)
			for i := range in { // add a second tone so the signal is not periodic in the chunking
				in[i] += int16(3000 * math.Sin(float64(i)*0.0137))
			}
			whole := make([]int16, mustResampler(t, from, to).MaxOut(len(in)))
			n := mustResampler(t, from, to).Process(in, whole)
			whole = whole[:n]

			r := mustResampler(t, from, to)
			var got []int16
			buf := make([]int16, r.MaxOut(1000))
			for i, k := 0, 0; i < len(in); k++ {
				end := min(i+chunks[k%len(chunks)], len(in))
				m := r.Process(in[i:end], buf)
				got = append(got, buf[:m]...)
				i = end
			}
			if d := len(got) - len(whole); d < -1 || d > 1 {
				t.Fatalf("chunked output %d samples, one-shot %d", len(got), len(whole))
			}
			maxDiff := 0
			for i := range min(len(got), len(whole)) {
				maxDiff = max(maxDiff, absInt(int(got[i])-int(whole[i])))
			}
			if maxDiff > 1 {
				t.Errorf("chunked output differs from one-shot by up to %d", maxDiff)
			}
		})
	}
}

func TestResamplerFrameCounts(t *testing.T) {
	// Every 10 and 20 ms frame yields exactly len*to/from samples, from the
	// first frame on, so a clocked pipeline never under-runs.
	for _, from := range resampleRates {
		for _, to := range resampleRates {
			r := mustResampler(t, from, to)
			for _, ms := range []int{10, 20, 20, 10, 60} {
				in := make([]int16, from*ms/1000)
				out := make([]int16, r.MaxOut(len(in)))
				if n, want := r.Process(in, out), len(in)*to/from; n != want {
					t.Errorf("%d->%d, %d ms: wrote %d, want %d", from, to, ms, n, want)
				}
			}
		}
	}
}

func TestResamplerDelay(t *testing.T) {
	for _, rates := range [][2]int{{8000, 48000}, {48000, 8000}, {8000, 16000}, {16000, 8000}} {
		from, to := rates[0], rates[1]
		r := mustResampler(t, from, to)
		// A band-limited pulse (a 1 kHz tone burst under a Hann window)
		// centred on input sample c must peak near output sample
		// c*to/from + Delay().
		in := make([]int16, from/10)
		c := len(in) / 2
		w := from / 250 // 4 ms half-width
		for i := -w; i <= w; i++ {
			hann := 0.5 + 0.5*math.Cos(math.Pi*float64(i)/float64(w))
			in[c+i] = int16(20000 * hann * math.Cos(2*math.Pi*1000*float64(i)/float64(from)))
		}
		out := resampleFrames(t, r, in, from/100)
		peak := 0
		for i := range out {
			if out[i] > out[peak] {
				peak = i
			}
		}
		want := c*to/from + r.Delay()
		if d := absInt(peak - want); d > 1 {
			t.Errorf("%d->%d: pulse peak at output %d, want %d (Delay %d)", from, to, peak, want, r.Delay())
		}
	}
}

func TestResamplerReset(t *testing.T) {
	in := sineWave(8000, 1000, 10000, 800)
	r := mustResampler(t, 8000, 48000)
	first := resampleFrames(t, r, in, 160)
	r.Reset()
	again := resampleFrames(t, r, in, 160)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("after Reset, sample %d = %d, first pass %d", i, again[i], first[i])
		}
	}
}

func TestResamplerRates(t *testing.T) {
	for _, tc := range []struct{ from, to int }{{8000, 44100}, {0, 8000}, {8000, -1}, {11025, 8000}, {96000, 48000}} {
		if _, err := NewResampler(tc.from, tc.to); !errors.Is(err, ErrResampleRate) {
			t.Errorf("NewResampler(%d, %d) error = %v, want ErrResampleRate", tc.from, tc.to, err)
		}
	}
	// Equal rates copy; Close is idempotent and Process after Close is a no-op.
	r := mustResampler(t, 16000, 16000)
	in := []int16{1, -2, 3}
	out := make([]int16, 3)
	if n := r.Process(in, out); n != 3 || out[1] != -2 {
		t.Errorf("16k->16k Process = %d %v, want a copy", n, out)
	}
	for _, to := range []int{16000, 8000} {
		r2 := mustResampler(t, 8000, to)
		r2.Close()
		r2.Close()
		if n := r2.Process(in, out); n != 0 {
			t.Errorf("8k->%dk: Process after Close = %d, want 0", to/1000, n)
		}
	}
	if n := mustResampler(t, 8000, 16000).Process(nil, out); n != 0 {
		t.Errorf("Process(nil) = %d, want 0", n)
	}
}

func BenchmarkResample(b *testing.B) {
	for _, rates := range [][2]int{{8000, 48000}, {48000, 8000}, {8000, 16000}, {16000, 8000}} {
		from, to := rates[0], rates[1]
		b.Run(fmt.Sprintf("%dk-%dk", from/1000, to/1000), func(b *testing.B) {
			r := mustResampler(b, from, to)
			in := sineWave(from, 440, 10000, from/50) // one 20 ms frame
			out := make([]int16, r.MaxOut(len(in)))
			r.Process(in, out) // warm-up
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Process(in, out)
			}
			reportStreamsPerCore(b)
		})
	}
}

// reportStreamsPerCore reports how many real-time 20 ms streams one core
// could run at the measured time per frame.
func reportStreamsPerCore(b *testing.B) {
	if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); ns > 0 {
		b.ReportMetric(20e6/ns, "streams/core")
	}
}
