package codecs

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// coloredNoise returns n samples of white Gaussian noise through the
// first-order filter y[n] = x[n] + fb*y[n-1] + ff*x[n-1], scaled to RMS rms.
func coloredNoise(seed uint64, n int, fb, ff, rms float64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	y := make([]float64, n)
	var px, py float64
	for i := range y {
		x := rng.NormFloat64()
		y[i] = x + fb*py + ff*px
		px, py = x, y[i]
	}
	var s float64
	for _, v := range y {
		s += v * v
	}
	scale := rms / math.Sqrt(s/float64(n))
	out := make([]int16, n)
	for i, v := range y {
		out[i] = int16(max(-32768, min(32767, math.Round(v*scale))))
	}
	return out
}

// lag1 returns the normalised lag-1 autocorrelation, a spectral tilt
// measure: near +1 for low-pass signals, negative for high-pass ones.
func lag1(x []int16) float64 {
	var r0, r1 float64
	for i, v := range x {
		r0 += float64(v) * float64(v)
		if i > 0 {
			r1 += float64(v) * float64(x[i-1])
		}
	}
	return r1 / r0
}

func dBov(x []int16) float64 {
	return 20 * math.Log10(rmsInt16(x)/cnFullScale)
}

func TestCNEncodeDecode(t *testing.T) {
	tests := []struct {
		name   string
		fb, ff float64
		level  float64 // dBov
		order  int
		tilt   func(float64) bool
	}{
		{"white_-40dBov", 0, 0, -40, 10, func(r float64) bool { return math.Abs(r) < 0.15 }},
		{"lowpass_-30dBov", 0.9, 0, -30, 10, func(r float64) bool { return r > 0.7 }},
		{"lowpass_-55dBov", 0.7, 0, -55, 10, func(r float64) bool { return r > 0.4 }},
		{"highpass_-35dBov", 0, -0.9, -35, 10, func(r float64) bool { return r < -0.3 }},
		{"highpass_order4", -0.5, 0, -25, 4, func(r float64) bool { return r < -0.3 }},
		{"level_only", 0.9, 0, -30, 0, func(r float64) bool { return math.Abs(r) < 0.15 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rms := cnFullScale * math.Pow(10, tc.level/20)
			in := coloredNoise(7, 8000, tc.fb, tc.ff, rms)
			enc, err := NewCNEncoder(tc.order)
			if err != nil {
				t.Fatal(err)
			}
			dec := NewCNDecoder()
			sid := make([]byte, CNMaxOrder+1)
			out := make([]int16, 0, len(in))
			frame := make([]int16, 160)
			for i := 0; i+160 <= len(in); i += 160 {
				n, err := enc.Encode(in[i:i+160], sid)
				if err != nil {
					t.Fatal(err)
				}
				if n != tc.order+1 {
					t.Fatalf("Encode wrote %d bytes, want %d", n, tc.order+1)
				}
				if err := dec.Update(sid[:n]); err != nil {
					t.Fatalf("Update(% x): %v", sid[:n], err)
				}
				dec.Generate(frame)
				out = append(out, frame...)
			}
			gotLevel, wantLevel := dBov(out[800:]), dBov(in)
			t.Logf("input %.2f dBov tilt %.3f; CN %.2f dBov tilt %.3f; last SID % x",
				wantLevel, lag1(in), gotLevel, lag1(out[800:]), sid[:tc.order+1])
			if math.Abs(gotLevel-wantLevel) > 2 {
				t.Errorf("CN level %.2f dBov, input %.2f dBov: want within 2 dB", gotLevel, wantLevel)
			}
			if r := lag1(out[800:]); !tc.tilt(r) {
				t.Errorf("CN lag-1 autocorrelation %.3f (input %.3f) has the wrong spectral tilt", r, lag1(in))
			}
			// The last frame's level byte is near the overall level (a 20 ms
			// frame of noise fluctuates by a dB or two).
			if s, _ := dec.SID(); math.Abs(float64(s.Level)+wantLevel) > 3 {
				t.Errorf("SID level byte %d, input level %.2f dBov", s.Level, wantLevel)
			}
		})
	}
}

func TestCNDecoderLevels(t *testing.T) {
	// The generated level follows the SID's level byte for a flat model
	// and for strongly shaped ones.
	for _, sid := range [][]byte{
		{20}, {40}, {60}, {40, 127, 127}, {30, 10, 200, 127, 60}, {35, 3}, {35, 251},
	} {
		d := NewCNDecoder()
		if err := d.Update(sid); err != nil {
			t.Fatal(err)
		}
		out := make([]int16, 16000)
		d.Generate(out)
		want := -float64(sid[0])
		if got := dBov(out[1000:]); math.Abs(got-want) > 1 {
			t.Errorf("SID % x: level %.2f dBov, want %.0f +- 1", sid, got, want)
		}
	}
}

func TestCNDecoderSilenceAndRamp(t *testing.T) {
	d := NewCNDecoder()
	out := make([]int16, 160)
	for i := range out {
		out[i] = 99
	}
	d.Generate(out)
	for i, v := range out {
		if v != 0 {
			t.Fatalf("before any SID, sample %d = %d, want silence", i, v)
		}
	}
	if _, ok := d.SID(); ok {
		t.Error("SID() reports a payload before Update")
	}
	// A bad payload is rejected and the previous description kept.
	if err := d.Update([]byte{30}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update([]byte{0x85}); err == nil {
		t.Error("Update accepted a level byte with the reserved bit set")
	}
	if s, _ := d.SID(); s.Level != 30 {
		t.Errorf("after a rejected Update, level %d, want 30", s.Level)
	}
	// A 30 dB step down is ramped over the next Generate call (no click),
	// then holds.
	d.Generate(out)
	if err := d.Update([]byte{60}); err != nil {
		t.Fatal(err)
	}
	ramp := make([]int16, 160)
	d.Generate(ramp)
	hold := make([]int16, 1600)
	d.Generate(hold)
	if first := dBov(ramp[:20]); first < -34 {
		t.Errorf("first 20 samples after the step: %.1f dBov, want a ramp starting near -30", first)
	}
	if l := dBov(hold); math.Abs(l+60) > 1 {
		t.Errorf("after the ramp: %.1f dBov, want -60 +- 1", l)
	}
	d.Reset()
	d.Generate(out)
	if rmsInt16(out) != 0 {
		t.Error("after Reset the decoder is not silent")
	}
}

func TestParseSID(t *testing.T) {
	long := make([]byte, CNMaxOrder+5)
	long[0] = 10
	for i := 1; i < len(long); i++ {
		long[i] = byte(i)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		level   uint8
		order   int
		refl    []float64
	}{
		{name: "empty", in: nil, wantErr: true},
		{name: "empty_slice", in: []byte{}, wantErr: true},
		{name: "reserved_bit", in: []byte{0x80}, wantErr: true},
		{name: "reserved_bit_with_coefs", in: []byte{0xff, 127, 127}, wantErr: true},
		{name: "level_only", in: []byte{64}, level: 64},
		{name: "loudest", in: []byte{0}, level: 0},
		{name: "quietest", in: []byte{127}, level: 127},
		{name: "coefs", in: []byte{30, 127, 0, 254, 255, 191}, level: 30, order: 5,
			refl: []float64{0, -127.0 / 128, 127.0 / 128, 127.0 / 128, 0.5}},
		{name: "order_truncated", in: long, level: 10, order: CNMaxOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSID(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrSID) {
					t.Fatalf("ParseSID(% x) error = %v, want ErrSID", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSID(% x): %v", tc.in, err)
			}
			if s.Level != tc.level || s.Order != tc.order {
				t.Errorf("level %d order %d, want %d %d", s.Level, s.Order, tc.level, tc.order)
			}
			for i, want := range tc.refl {
				if got := s.Reflection(i); got != want {
					t.Errorf("k%d = %v, want %v", i+1, got, want)
				}
			}
			b, err := s.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := min(len(tc.in), CNMaxOrder+1); !bytes.Equal(b, tc.in[:n]) {
				t.Errorf("AppendBinary = % x, want % x", b, tc.in[:n])
			}
		})
	}
	if _, err := (&SID{Level: 128}).AppendBinary(nil); err == nil {
		t.Error("AppendBinary accepted level 128")
	}
	if _, err := (&SID{Order: CNMaxOrder + 1}).AppendBinary(nil); err == nil {
		t.Error("AppendBinary accepted an order above CNMaxOrder")
	}
}

func TestCNQuantization(t *testing.T) {
	// RFC 3389 3.2: k = (N-127)/128; the quantizer picks the nearest N.
	for n := 0; n <= 254; n++ {
		k := dequantRefl(uint8(n))
		if q := quantRefl(k); int(q) != n {
			t.Errorf("quantRefl(dequantRefl(%d)) = %d", n, q)
		}
	}
	for _, tc := range []struct {
		k float64
		n uint8
	}{{-1, 0}, {-2, 0}, {1, 254}, {0.999, 254}, {0.004, 128}, {-0.0039, 127}} {
		if q := quantRefl(tc.k); q != tc.n {
			t.Errorf("quantRefl(%v) = %d, want %d", tc.k, q, tc.n)
		}
	}
	for _, tc := range []struct {
		ms    float64
		level uint8
	}{{0, 127}, {cnFullScale * cnFullScale, 0}, {4 * cnFullScale * cnFullScale, 0}, {cnFullScale * cnFullScale / 1000, 30}, {1e-20, 127}} {
		if l := levelDBov(tc.ms); l != tc.level {
			t.Errorf("levelDBov(%g) = %d, want %d", tc.ms, l, tc.level)
		}
	}
}

func TestCNEncoderErrors(t *testing.T) {
	if _, err := NewCNEncoder(-1); err == nil {
		t.Error("NewCNEncoder(-1) succeeded")
	}
	if _, err := NewCNEncoder(CNMaxOrder + 1); err == nil {
		t.Error("NewCNEncoder(CNMaxOrder+1) succeeded")
	}
	e, err := NewCNEncoder(CNDefaultOrder)
	if err != nil {
		t.Fatal(err)
	}
	if e.Order() != CNDefaultOrder {
		t.Errorf("Order() = %d", e.Order())
	}
	pcm := make([]int16, 160)
	if _, err := e.Encode(pcm, make([]byte, CNDefaultOrder)); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("Encode into a short buffer: %v, want io.ErrShortBuffer", err)
	}
	if _, err := e.Encode(nil, make([]byte, 16)); err == nil {
		t.Error("Encode of an empty frame succeeded")
	}
	// Digital silence: quietest level, flat model.
	dst := make([]byte, 16)
	n, err := e.Encode(pcm, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{127}, bytes.Repeat([]byte{127}, CNDefaultOrder)...)
	if !bytes.Equal(dst[:n], want) {
		t.Errorf("silence encodes as % x, want % x", dst[:n], want)
	}
	// A pure tone makes the autocorrelation nearly singular; the result
	// must still be a valid payload.
	tone := sineWave(8000, 1000, 20000, 160)
	if n, err = e.Encode(tone, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSID(dst[:n]); err != nil {
		t.Errorf("tone SID % x does not parse: %v", dst[:n], err)
	}
}

func FuzzParseSID(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0}, {127}, {0x80}, {40, 127, 127}, {30, 0, 254, 255, 1},
		{20, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
		bytes.Repeat([]byte{200}, 60),
		// Poles crowded near the unit circle: unstable in direct form.
		[]byte("0\xff\xff\xff\xff\xff\f \f\f\f\f\f\f\f\f\f\f\f\f\f "),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSID(b)
		d := NewCNDecoder()
		uerr := d.Update(b)
		if (err == nil) != (uerr == nil) {
			t.Fatalf("ParseSID error %v but Update error %v", err, uerr)
		}
		if err != nil {
			if !errors.Is(err, ErrSID) {
				t.Fatalf("error %v does not wrap ErrSID", err)
			}
			return
		}
		if s.Order > CNMaxOrder || s.Order != min(len(b)-1, CNMaxOrder) {
			t.Fatalf("order %d for %d bytes", s.Order, len(b))
		}
		for i := range s.Order {
			if k := s.Reflection(i); !(k > -1 && k < 1) {
				t.Fatalf("k%d = %v out of (-1, 1)", i+1, k)
			}
		}
		out, err := s.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b[:len(out)]) {
			t.Fatalf("AppendBinary = % x, %v; input % x", out, err, b)
		}
		// The synthesis filter must stay stable: bounded output level.
		pcm := make([]int16, 4000)
		d.Generate(pcm)
		d.Generate(pcm)
		if got, want := rmsInt16(pcm), s.RMS(); got > 3*want+2 {
			t.Fatalf("SID % x: CN RMS %.1f, level says %.1f", b, got, want)
		}
	})
}

func BenchmarkCNGenerate(b *testing.B) {
	d := NewCNDecoder()
	if err := d.Update([]byte{40, 40, 150, 120, 130, 127, 125, 129, 127, 126, 128}); err != nil {
		b.Fatal(err)
	}
	pcm := make([]int16, 160) // 20 ms at 8 kHz
	d.Generate(pcm)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Generate(pcm)
	}
	reportStreamsPerCore(b)
}

func BenchmarkCNEncode(b *testing.B) {
	e, err := NewCNEncoder(CNDefaultOrder)
	if err != nil {
		b.Fatal(err)
	}
	pcm := coloredNoise(3, 160, 0.5, 0, 300)
	dst := make([]byte, CNDefaultOrder+1)
	if _, err := e.Encode(pcm, dst); err != nil { // warm-up sizes the window
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Encode(pcm, dst); err != nil {
			b.Fatal(err)
		}
	}
	reportStreamsPerCore(b)
}
