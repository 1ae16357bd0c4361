package codecs

import (
	"os"
	"testing"
)

// sigFixture decodes the first seconds of one of the rtpengine raw G.711
// fixtures ("pcma" or "pcmu", 8 kHz mono) with the given codec.
func sigFixture(t testing.TB, name string, c Codec, seconds int) []int16 {
	t.Helper()
	b, err := os.ReadFile(sigCorpus(t, "vectors/rtpengine-fixtures/"+name+".1.8k.raw"))
	if err != nil {
		t.Fatal(err)
	}
	if n := seconds * 8000; n < len(b) {
		b = b[:n]
	}
	dec, err := c.NewDecoder(Params{})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b))
	if _, err := dec.Decode(b, pcm); err != nil {
		t.Fatal(err)
	}
	return pcm
}

// sigResample converts a whole signal between rates with the package
// Resampler, returning the output with the resampler's delay removed.
func sigResample(t testing.TB, x []int16, from, to int) []int16 {
	t.Helper()
	r, err := NewResampler(from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	frame := from / 50
	out := make([]int16, 0, len(x)*to/from)
	buf := make([]int16, frame*to/from+1)
	for i := 0; i+frame <= len(x); i += frame {
		n := r.Process(x[i:i+frame], buf)
		out = append(out, buf[:n]...)
	}
	return out[r.Delay():]
}

// TestFixtureG711Cross decodes each raw G.711 fixture, re-encodes it with
// the other law and checks the result against the first decode.
func TestFixtureG711Cross(t *testing.T) {
	for _, tc := range []struct {
		file     string
		from, to Codec
	}{
		{"pcma", PCMA(), PCMU()},
		{"pcmu", PCMU(), PCMA()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ref := sigFixture(t, tc.file, tc.from, 120)
			enc, dec := sigNew(t, tc.to, Params{})
			got := sigRoundTrip(t, enc, dec, ref)
			snr := sigSNR(ref, got, 0, 0, len(got))
			t.Logf("%s -> %s: SNR %.1f dB over %d s", tc.from.Name(), tc.to.Name(), snr, len(got)/8000)
			if snr < 35 { // measured 37.7 and 38.1 dB
				t.Errorf("SNR %.1f dB, want >= 35", snr)
			}
		})
	}
}

// TestFixtureG722 runs the PCMU fixture, upsampled to 16 kHz, through G.722.
func TestFixtureG722(t *testing.T) {
	ref := sigResample(t, sigFixture(t, "pcmu", PCMU(), 20), 8000, 16000)
	enc, dec := sigNew(t, G722(), Params{})
	got := sigRoundTrip(t, enc, dec, ref[:len(ref)/320*320])
	snr := sigSNR(ref, got, g722Delay, 0, len(got)-g722Delay)
	t.Logf("G722 on PCMU fixture: SNR %.1f dB", snr)
	if lag, _ := sigBestLag(ref, got, 100, 0, len(got)-100); lag != g722Delay {
		t.Errorf("delay %d samples, want %d", lag, g722Delay)
	}
	if snr < 28 { // measured 31.7 dB
		t.Errorf("SNR %.1f dB, want >= 28", snr)
	}
}

// TestFixtureOpus runs the PCMU fixture through Opus at 8 kHz and, upsampled,
// at 16 and 48 kHz. Opus does not keep the waveform, so the check is on the
// short-time magnitude spectrum (sigSpectralSNR), within the fixture's band.
func TestFixtureOpus(t *testing.T) {
	ref8 := sigFixture(t, "pcmu", PCMU(), 20)
	for _, tc := range []struct {
		rate        int
		minSpectral float64 // measured 12.3, 13.0, 10.1 dB
	}{{8000, 10}, {16000, 10}, {48000, 8}} {
		ref := ref8
		if tc.rate != 8000 {
			ref = sigResample(t, ref8, 8000, tc.rate)
		}
		frame := tc.rate / 50
		enc, dec := sigNew(t, Opus(), Params{SampleRate: tc.rate})
		got := sigRoundTrip(t, enc, dec, ref[:len(ref)/frame*frame])
		ssnr := sigSpectralSNR(ref, got, opusDelay(tc.rate), tc.rate, 100, 3800)
		t.Logf("opus %d on PCMU fixture: spectral SNR %.1f dB", tc.rate, ssnr)
		if ssnr < tc.minSpectral {
			t.Errorf("opus %d: spectral SNR %.1f dB, want >= %.0f", tc.rate, ssnr, tc.minSpectral)
		}
	}
}
