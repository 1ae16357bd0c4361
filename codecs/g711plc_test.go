package codecs

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// plcVectorDir holds the ITU-T STL G.711 Appendix I vectors (see
// /work/shared/corpora/README.md). They are read in place, not copied: the
// STL's AT&T notice limits redistribution.
const plcVectorDir = "../../shared/corpora/vectors/g711-plc-itu-stl"

// G.192 frame headers (ITU-T G.192): good frame and erased frame.
const (
	g192Sync = 0x6B21
	g192FER  = 0x6B20
)

func readLE16(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			skipOrFailInCI(t, "test vector %s not present", path)
		}
		t.Fatal(err)
	}
	x := make([]int16, len(b)/2)
	for i := range x {
		x[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return x
}

// readG192Mask returns, per 10 ms frame, whether the frame is erased.
func readG192Mask(t testing.TB, path string) []bool {
	t.Helper()
	words := readLE16(t, path)
	mask := make([]bool, len(words))
	for i, w := range words {
		switch uint16(w) {
		case g192Sync:
		case g192FER:
			mask[i] = true
		default:
			t.Fatalf("%s: word %d is %#04x, not a G.192 frame header", path, i, uint16(w))
		}
	}
	return mask
}

// runPLC reproduces the STL demo program g711iplc: frames of frameSamples,
// erasure flags per 10 ms taken cyclically from mask, the 30-sample delay
// removed from the start and the delay line flushed at the end, so the
// output aligns with the input. With conceal false, erased frames are
// replaced by silence (the demo's -noplc).
func runPLC(t testing.TB, in []int16, mask []bool, frameSamples int, conceal bool) (out []int16, erasedAt []bool) {
	t.Helper()
	plc, err := NewG711PLC(frameSamples)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, frameSamples)
	m := 0
	for i := 0; i < len(in); i += frameSamples {
		// The last frame may be shorter (whole 10 ms sub-frames).
		frame := frame[:min(frameSamples, len(in)-i)]
		sub := len(frame) / plcSubframe
		copy(frame, in[i:])
		// A frame is lost when its first 10 ms flag says so; the
		// vectors used with sub > 1 erase whole frames.
		lost := mask[m%len(mask)]
		for k := 0; k < sub; k++ {
			if mask[(m+k)%len(mask)] != lost {
				t.Fatalf("mask does not erase whole %d-sample frames at 10 ms frame %d", frameSamples, m+k)
			}
		}
		m += sub
		switch {
		case lost && conceal:
			plc.Conceal(frame)
		case lost:
			clear(frame)
			plc.AddToHistory(frame)
		default:
			plc.AddToHistory(frame)
		}
		start := 0
		if i == 0 {
			start = G711PLCDelay
		}
		out = append(out, frame[start:]...)
		for range len(frame) - start {
			erasedAt = append(erasedAt, lost)
		}
	}
	frame = frame[:plcSubframe]
	clear(frame)
	plc.AddToHistory(frame)
	out = append(out, frame[:G711PLCDelay]...)
	for range G711PLCDelay {
		erasedAt = append(erasedAt, false)
	}
	return out, erasedAt
}

func TestG711PLCVectors(t *testing.T) {
	in := readLE16(t, filepath.Join(plcVectorDir, "f2.le"))
	tests := []struct {
		name         string
		mask         string
		frameSamples int
		conceal      bool
		want         string
	}{
		{"10pct_10ms", "fe10.g192", 80, true, "f2_10.raw"},
		{"10pct_20ms_as_2x10ms", "fe10_2.g192", 80, true, "f2_10_2.raw"},
		{"10pct_20ms_frames", "fe10_2.g192", 160, true, "f2_10_2.raw"},
		{"silence_insertion_10ms", "fe10.g192", 80, false, "f2_10m.raw"},
		{"silence_insertion_20ms", "fe10_2.g192", 160, false, "f2_10_2m.raw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mask := readG192Mask(t, filepath.Join(plcVectorDir, tc.mask))
			want := readLE16(t, filepath.Join(plcVectorDir, tc.want))
			got, erased := runPLC(t, in, mask, tc.frameSamples, tc.conceal)
			if len(got) != len(want) {
				t.Fatalf("output has %d samples, reference %d", len(got), len(want))
			}
			diff, maxAbs := 0, 0
			for i := range got {
				if d := int(got[i]) - int(want[i]); d != 0 {
					if diff == 0 {
						t.Errorf("first difference at sample %d (10 ms frame %d): got %d, want %d", i, (i+G711PLCDelay)/plcSubframe, got[i], want[i])
					}
					diff++
					maxAbs = max(maxAbs, absInt(d))
				}
			}
			if diff != 0 {
				t.Errorf("%d of %d samples differ from the ITU-T reference (max |diff| %d); SNR over concealed frames %.1f dB",
					diff, len(got), maxAbs, snrWhere(got, want, erased))
			}
			if tc.conceal {
				t.Logf("bit-exact with %s; %d concealed samples", tc.want, countTrue(erased))
			}
		})
	}
}

func TestG711PLCBehaviour(t *testing.T) {
	// A 200 Hz tone (pitch 40 samples) with one long erasure: the
	// concealed signal continues the tone, decays by 20% per 10 ms after
	// the first 10 ms, and is silent after 60 ms.
	const f = 200.0
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(10000 * math.Sin(2*math.Pi*f*float64(i)/8000))
	}
	plc, err := NewG711PLC(80)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 80)
	var out []int16
	const lostFrom, lostTo = 20, 28 // 80 ms erasure
	for k := range 40 {
		copy(frame, tone[k*80:(k+1)*80])
		if k >= lostFrom && k < lostTo {
			plc.Conceal(frame)
			if !plc.Concealing() {
				t.Fatalf("frame %d: Concealing() = false during erasure", k)
			}
		} else {
			plc.AddToHistory(frame)
		}
		out = append(out, frame...)
	}
	// Output frame k holds input samples [80k-30, 80k+50).
	peak := func(k int) float64 {
		m := 0.0
		for _, v := range out[k*80 : (k+1)*80] {
			m = max(m, math.Abs(float64(v)))
		}
		return m
	}
	// Output frame k holds the last 30 samples of 10 ms sub-frame k-1
	// and the first 50 of sub-frame k. Sub-frame lostFrom+n is scaled by
	// a gain falling from 1-0.2(n-1) to 1-0.2n (n >= 1).
	tests := []struct {
		frame    int
		min, max float64
	}{
		{lostFrom - 1, 9900, 10000}, // last good frame, untouched
		{lostFrom + 1, 9000, 10000}, // gains 1.0 and 1.0..0.875
		{lostFrom + 2, 7500, 8800},  // gains 0.875..0.8 and 0.8..0.675
		{lostFrom + 3, 5500, 6800},  // gains 0.675..0.6 and 0.6..0.475
		{lostFrom + 7, 0, 0},        // beyond 60 ms: silence
		{lostTo + 2, 9900, 10000},   // recovered
	}
	for _, tc := range tests {
		if p := peak(tc.frame); p < tc.min || p > tc.max {
			t.Errorf("output frame %d: peak %.0f, want in [%.0f, %.0f]", tc.frame, p, tc.min, tc.max)
		}
	}
	// The first concealed 10 ms continues the tone in phase: compare the
	// synthetic part of output frame lostFrom with the true signal.
	first := out[lostFrom*80+G711PLCDelay : (lostFrom+1)*80]
	orig := tone[lostFrom*80 : lostFrom*80+len(first)]
	if s := snrDB(first, orig); s < 20 {
		t.Errorf("first concealed 10 ms vs the true tone: SNR %.1f dB, want >= 20 dB", s)
	}
}

func TestNewG711PLCFrameSize(t *testing.T) {
	for _, n := range []int{80, 160, 240, 480} {
		if _, err := NewG711PLC(n); err != nil {
			t.Errorf("NewG711PLC(%d): %v", n, err)
		}
	}
	for _, n := range []int{0, -80, 40, 100, 159} {
		if _, err := NewG711PLC(n); !errors.Is(err, ErrPLCFrameSize) {
			t.Errorf("NewG711PLC(%d) error = %v, want ErrPLCFrameSize", n, err)
		}
	}
}

func TestG711PLCReset(t *testing.T) {
	in := make([]int16, 160)
	for i := range in {
		in[i] = int16(i * 50)
	}
	a, _ := NewG711PLC(160)
	b, _ := NewG711PLC(160)
	f := append([]int16(nil), in...)
	a.AddToHistory(f)
	a.Conceal(f)
	a.Reset()
	fa := append([]int16(nil), in...)
	fb := append([]int16(nil), in...)
	a.AddToHistory(fa)
	b.AddToHistory(fb)
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatalf("after Reset, sample %d = %d, fresh concealer gives %d", i, fa[i], fb[i])
		}
	}
}

func BenchmarkG711PLCConceal(b *testing.B) {
	plc, err := NewG711PLC(160) // 20 ms
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(8000 * math.Sin(2*math.Pi*180*float64(i)/8000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One good frame then one lost one, so every Conceal runs the
		// pitch search (the most expensive path).
		plc.AddToHistory(frame)
		plc.Conceal(frame)
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// snr returns 10*log10(sum(ref^2)/sum((got-ref)^2)) in dB.
func snrDB(got, ref []int16) float64 {
	var s, e float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		s += float64(ref[i]) * float64(ref[i])
		e += d * d
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/e)
}

func snrWhere(got, ref []int16, where []bool) float64 {
	var g, r []int16
	for i, w := range where {
		if w {
			g, r = append(g, got[i]), append(r, ref[i])
		}
	}
	return snrDB(g, r)
}

// TestWithG711PLC: through the Concealer interface, a lost 20 ms frame of a
// steady tone comes back close to the tone (Appendix I repeats the pitch
// period), far closer than the silence a plain decoder leaves; the wrapper
// matches G711PLC driven by hand.
func TestWithG711PLC(t *testing.T) {
	const frame = 160
	x := sigTone(frame*20, 8000, 440, 8000)
	enc, _ := PCMA().NewEncoder(Params{})
	payloads := sigEncodeAll(t, enc, x)
	dec, _ := PCMA().NewDecoder(Params{})
	d, err := WithG711PLC(dec, frame)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WithG711PLC(&g722Decoder{}, frame); err == nil {
		t.Error("WithG711PLC accepted a 16 kHz decoder")
	}
	ref, _ := NewG711PLC(frame)
	plain, _ := PCMA().NewDecoder(Params{})
	const lost = 12
	out := make([]int16, 0, len(x))
	pcm := make([]int16, frame)
	want := make([]int16, frame)
	for i, p := range payloads {
		if i == lost {
			if n, err := d.(Concealer).Conceal(pcm); err != nil || n != frame {
				t.Fatalf("Conceal: %d, %v", n, err)
			}
			ref.Conceal(want)
		} else {
			if _, err := d.Decode(p, pcm); err != nil {
				t.Fatal(err)
			}
			_, _ = plain.Decode(p, want)
			ref.AddToHistory(want)
		}
		if !slices.Equal(pcm, want) {
			t.Fatalf("frame %d differs from G711PLC driven by hand", i)
		}
		out = append(out, pcm...)
	}
	// Output is delayed by G711PLCDelay; compare the concealed frame with
	// the tone at the same (delayed) place.
	from, to := lost*frame+G711PLCDelay, (lost+1)*frame+G711PLCDelay
	got := out[from:to]
	orig := x[from-G711PLCDelay : to-G711PLCDelay]
	if s := snrDB(got, orig); s < 6 {
		t.Errorf("concealed frame SNR %.1f dB against the tone, want ≥ 6 (silence would be 0)", s)
	}
	if _, err := d.(Concealer).Conceal(make([]int16, 10)); err == nil {
		t.Error("Conceal accepted a short buffer")
	}
}
