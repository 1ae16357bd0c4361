package codecs

import (
	"math"
	"testing"
)

// g722Delay is the G.722 codec delay in 16 kHz samples (the two 24-tap QMF
// filters, G.722 1.2), as measured on speech.
const g722Delay = 22

// sigRoundTrip encodes x in frames of enc.FrameSamples and decodes every
// payload, returning the decoded PCM.
func sigRoundTrip(t testing.TB, enc Encoder, dec Decoder, x []int16) []int16 {
	t.Helper()
	frame := enc.FrameSamples()
	payload := make([]byte, enc.MaxPayloadSize())
	pcm := make([]int16, 6*frame)
	var out []int16
	for i := 0; i+frame <= len(x); i += frame {
		n, err := enc.Encode(x[i:i+frame], payload)
		if err != nil {
			t.Fatalf("Encode frame %d: %v", i/frame, err)
		}
		m, err := dec.Decode(payload[:n], pcm)
		if err != nil {
			t.Fatalf("Decode frame %d: %v", i/frame, err)
		}
		out = append(out, pcm[:m]...)
	}
	return out
}

func sigNew(t testing.TB, c Codec, p Params) (Encoder, Decoder) {
	t.Helper()
	enc, err := c.NewEncoder(p)
	if err != nil {
		t.Fatalf("%s NewEncoder(%+v): %v", c.Name(), p, err)
	}
	dec, err := c.NewDecoder(p)
	if err != nil {
		t.Fatalf("%s NewDecoder(%+v): %v", c.Name(), p, err)
	}
	return enc, dec
}

func TestG722ToneRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		freq   float64
		minSNR float64 // dB; measured 62, 47, 41, 27
	}{
		{300, 55}, {1000, 42}, {3000, 36}, {6000, 22},
	} {
		enc, dec := sigNew(t, G722(), Params{})
		x := sigTone(16000, 16000, tc.freq, 10000)
		y := sigRoundTrip(t, enc, dec, x)
		if len(y) != len(x) {
			t.Fatalf("%v Hz: decoded %d samples, want %d", tc.freq, len(y), len(x))
		}
		snr := sigSNR(x, y, g722Delay, 1600, len(x)-100)
		if snr < tc.minSNR {
			t.Errorf("%v Hz: SNR %.1f dB, want >= %.0f", tc.freq, snr, tc.minSNR)
		}
		if f := sigDominant(y[1600:], 16000); math.Abs(f-tc.freq) > 10 {
			t.Errorf("%v Hz: dominant frequency %v Hz", tc.freq, f)
		}
		t.Logf("%v Hz: SNR %.1f dB", tc.freq, snr)
	}
}

// g722DecodeLossy decodes payloads with a fresh decoder, concealing the
// frames listed (ascending) in lost.
func g722DecodeLossy(t testing.TB, payloads [][]byte, lost []int) []int16 {
	t.Helper()
	_, d := sigNew(t, G722(), Params{})
	out := make([]int16, 320*len(payloads))
	for k, p := range payloads {
		pcm := out[k*320 : (k+1)*320]
		if len(lost) > 0 && lost[0] == k {
			lost = lost[1:]
			if n, err := d.(Concealer).Conceal(pcm); err != nil || n != 320 {
				t.Fatalf("Conceal = %d, %v", n, err)
			}
			continue
		}
		if n, err := d.Decode(p, pcm); err != nil || n != 320 {
			t.Fatalf("Decode = %d, %v", n, err)
		}
	}
	return out
}

// TestG722Conceal drops single frames and compares the concealed frame and
// the two after it with the loss-free decode. Thresholds sit a few dB under
// the measured values (given per case); on music a repeated pitch period is
// about as far from the truth as silence (0 dB), and the ADPCM state, left
// stale over the loss, re-converges over about 40 ms. Resetting the decoder
// instead measured worse (tone: 0.3 dB the frame after), and so did
// re-encoding the concealment to advance the state (tone: 12.4 dB).
func TestG722Conceal(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		minConceal, minNext, min2 float64
	}{
		{"tone", 16, 14, 25}, // measured 21.3, 18.9, 31.3 dB
		{"music", -3, 3, 5},  // measured -0.6, 5.1, 7.2 dB
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x []int16
			if tc.name == "tone" {
				x = sigTone(16000*4, 16000, 440, 8000)
			} else {
				x = sigResample(t, sigFixture(t, "pcmu", PCMU(), 10), 8000, 16000)
			}
			enc, _ := sigNew(t, G722(), Params{})
			payloads := sigEncodeAll(t, enc, x)
			var lost []int
			for k := 20; k < len(payloads)-2; k += 10 {
				lost = append(lost, k)
			}
			clean := g722DecodeLossy(t, payloads, nil)
			y := g722DecodeLossy(t, payloads, lost)
			for i, want := range []float64{tc.minConceal, tc.minNext, tc.min2} {
				var r, g []int16
				for _, k := range lost {
					s := (k + i) * 320
					r = append(r, clean[s:s+320]...)
					g = append(g, y[s:s+320]...)
				}
				snr := sigSNR(r, g, 0, 0, len(r))
				t.Logf("loss+%d: SNR %.1f dB", i, snr)
				if snr < want {
					t.Errorf("loss+%d: SNR %.1f dB, want >= %.0f", i, snr, want)
				}
			}
		})
	}
}

// TestG722ConcealFades checks that a long loss fades to silence after 60 ms
// and that the first concealed samples continue the signal.
func TestG722ConcealFades(t *testing.T) {
	enc, dec := sigNew(t, G722(), Params{})
	x := sigTone(3200, 16000, 500, 8000)
	y := sigRoundTrip(t, enc, dec, x)
	pcm := make([]int16, 320)
	for k := range 5 {
		if n, err := dec.(Concealer).Conceal(pcm); err != nil || n != 320 {
			t.Fatalf("Conceal = %d, %v", n, err)
		}
		var peak int16
		for _, v := range pcm {
			peak = max(peak, v, -v)
		}
		switch {
		case k == 0 && peak < 6000:
			t.Errorf("first concealed frame peak %d, want the tone's level", peak)
		case k >= 3 && peak != 0:
			t.Errorf("concealed frame %d (after %d ms) peak %d, want silence", k, 20*k, peak)
		}
		if k == 0 {
			// Continuity: the step into the concealment is no larger than
			// the tone's own largest step.
			step := math.Abs(float64(pcm[0]) - float64(y[len(y)-1]))
			if step > 2*8000*2*math.Pi*500/16000 {
				t.Errorf("discontinuity of %.0f at the start of concealment", step)
			}
		}
	}
}
