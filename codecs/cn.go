package codecs

// Comfort noise, RFC 3389: the SID payload, a decoder that turns it into
// noise of the described level and spectrum, and an encoder that describes
// a frame of background noise.
//
// Hand-written: RFC 3389 leaves analysis and synthesis to the
// implementation and there is no Go library for it. The payload is
//
//	byte 0      noise level, 0..127 = 0..-127 dBov (bit 7 reserved, zero)
//	byte 1..M   reflection coefficients k1..kM of an all-pole model,
//	            each quantized as N = round(k*128) + 127, k = (N-127)/128
//
// 0 dBov is the level of a full-scale square wave (RFC 3389 3.1), here
// RMS 32767 in 16-bit PCM. The model is the one Levinson-Durbin yields:
// A(z) = 1 + a1 z^-1 + ... + aM z^-M built from k1..kM by the step-up
// recursion (a_m = k_m), synthesised as y[n] = e[n] - sum a_i y[n-i]. With
// this sign convention, the one of libavcodec's and WebRTC's CN coders,
// low-pass noise has k1 < 0. The decoder runs the equivalent lattice filter.

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// CNMaxOrder is the highest model order this package uses. Coefficients of
// higher order in a SID are ignored, as RFC 3389 3 allows a decoder to do.
const CNMaxOrder = 32

// CNDefaultOrder is the model order CNEncoder uses unless told otherwise;
// 10 is the order of G.711 Appendix II and of common CN encoders at 8 kHz.
const CNDefaultOrder = 10

// cnFullScale is the RMS of 0 dBov in 16-bit PCM (RFC 3389 3.1).
const cnFullScale = 32767.0

// cnMaxLevel is the quietest level a SID can carry, in -dBov.
const cnMaxLevel = 127

// ErrSID is wrapped by the errors that report a malformed CN payload.
var ErrSID = errors.New("codecs: malformed comfort noise payload")

// SID is a comfort noise payload (RFC 3389 3) with its fields as sent.
type SID struct {
	// Level is the noise level in -dBov: 0 is full scale, 127 the quietest.
	Level uint8
	// Order is the number of reflection coefficients, at most CNMaxOrder.
	Order int
	// Coef holds the quantized reflection coefficients N1..NOrder.
	Coef [CNMaxOrder]uint8
}

// ParseSID decodes a CN payload (RFC 3389 3). It fails on an empty payload
// and on a noise-level byte with the reserved bit set. A payload with more
// than CNMaxOrder coefficients is accepted and the excess ignored.
func ParseSID(b []byte) (SID, error) {
	var s SID
	if len(b) == 0 {
		return s, fmt.Errorf("%w: empty", ErrSID)
	}
	if b[0]&0x80 != 0 {
		return s, fmt.Errorf("%w: noise level byte %#02x has the reserved bit set", ErrSID, b[0])
	}
	s.Level = b[0]
	s.Order = copy(s.Coef[:], b[1:])
	return s, nil
}

// AppendBinary appends the payload form of s to b (RFC 3389 3).
func (s *SID) AppendBinary(b []byte) ([]byte, error) {
	if s.Level > cnMaxLevel {
		return b, fmt.Errorf("%w: level %d exceeds 127", ErrSID, s.Level)
	}
	if s.Order < 0 || s.Order > CNMaxOrder {
		return b, fmt.Errorf("%w: order %d out of range 0..%d", ErrSID, s.Order, CNMaxOrder)
	}
	b = append(b, s.Level)
	return append(b, s.Coef[:s.Order]...), nil
}

// RMS returns the noise level as an RMS value in 16-bit PCM units.
func (s *SID) RMS() float64 {
	return cnFullScale * math.Pow(10, -float64(s.Level)/20)
}

// Reflection returns reflection coefficient k(i+1), 0 <= i < Order, in
// [-127/128, 127/128]. The unused code 255 (which would be k = 1, an
// unstable filter) is read as 127/128.
func (s *SID) Reflection(i int) float64 {
	return dequantRefl(s.Coef[i])
}

func dequantRefl(n uint8) float64 {
	return (float64(min(n, 254)) - 127) / 128
}

// quantRefl is the RFC 3389 3.2 quantizer: the nearest of (N-127)/128.
func quantRefl(k float64) uint8 {
	n := math.Round(k*128) + 127
	return uint8(max(0, min(254, n)))
}

// levelDBov returns the -dBov level byte for a mean square power, rounded
// and limited to 0..127.
func levelDBov(meanSquare float64) uint8 {
	if meanSquare <= 0 {
		return cnMaxLevel
	}
	l := math.Round(-10 * math.Log10(meanSquare/(cnFullScale*cnFullScale)))
	return uint8(max(0, min(cnMaxLevel, l)))
}

// CNDecoder generates comfort noise from the SID payloads it is given
// (RFC 3389 4): white noise shaped by the all-pole model and scaled to the
// noise level. Between payloads it keeps generating with the last one; a
// level change is ramped over one Generate call. Before the first payload
// it generates silence. It works at any sample rate (the model has none).
// A CNDecoder is not safe for concurrent use; it does not allocate.
type CNDecoder struct {
	have    bool
	order   int
	k       [CNMaxOrder]float64 // reflection coefficients of the lattice
	b       [CNMaxOrder]float64 // lattice state: backward errors b_m[n-1], m = 0..order-1
	gain    float64             // excitation scale now
	target  float64             // excitation scale of the last SID
	rng     uint64
	lastSID SID
}

// NewCNDecoder returns a decoder that generates silence until its first
// Update.
func NewCNDecoder() *CNDecoder {
	d := &CNDecoder{}
	d.Reset()
	return d
}

// Reset forgets the last payload and the filter state.
func (d *CNDecoder) Reset() {
	*d = CNDecoder{rng: 0x9E3779B97F4A7C15} // fixed seed: output is reproducible
}

// SID returns the last payload accepted by Update, and false if there has
// been none.
func (d *CNDecoder) SID() (SID, bool) { return d.lastSID, d.have }

// Update takes a CN payload (RFC 3389 3). On error the previous noise
// description stays in effect.
func (d *CNDecoder) Update(sid []byte) error {
	s, err := ParseSID(sid)
	if err != nil {
		return err
	}
	d.apply(&s)
	return nil
}

// UpdateSID is Update for an already parsed payload.
func (d *CNDecoder) UpdateSID(s SID) {
	s.Order = max(0, min(CNMaxOrder, s.Order))
	s.Level = min(s.Level, cnMaxLevel)
	d.apply(&s)
}

func (d *CNDecoder) apply(s *SID) {
	// White input of variance v through the all-pole model gives output of
	// variance v/prod(1-k^2) (the prediction gain).
	pred := 1.0
	for m := range s.Order {
		k := s.Reflection(m)
		d.k[m] = k
		pred *= 1 - k*k
	}
	if s.Order < d.order {
		clear(d.b[s.Order:d.order])
	}
	d.order = s.Order
	// Uniform excitation in [-1, 1) has variance 1/3.
	rms := s.RMS()
	d.target = math.Sqrt(3 * rms * rms * pred)
	if !d.have {
		d.gain = d.target
	}
	d.have = true
	d.lastSID = *s
}

// Generate fills pcm with comfort noise, continuing the previous call.
//
// The synthesis filter is the all-pole lattice on the reflection
// coefficients rather than the direct form 1/A(z): the lattice is stable
// for any |k| < 1, while the direct form of a high-order model with poles
// near the unit circle (which a hostile or odd SID can describe) loses
// stability to rounding.
func (d *CNDecoder) Generate(pcm []int16) {
	if !d.have || len(pcm) == 0 {
		clear(pcm)
		return
	}
	g := d.gain
	step := (d.target - d.gain) / float64(len(pcm))
	k := d.k[:d.order]
	b := d.b[:d.order]
	for n := range pcm {
		g += step
		f := g * d.uniform() // f_M[n]
		for m := len(k) - 1; m >= 0; m-- {
			f -= k[m] * b[m] // f_m[n] = f_(m+1)[n] - k_(m+1) b_m[n-1]
			if m+1 < len(b) {
				b[m+1] = b[m] + k[m]*f // b_(m+1)[n] = b_m[n-1] + k_(m+1) f_m[n]
			}
		}
		if len(b) > 0 {
			b[0] = f // b_0[n] = f_0[n] = y[n]
		}
		pcm[n] = int16(max(-32768, min(32767, math.Round(f))))
	}
	d.gain = d.target
}

// uniform returns a pseudo-random number in [-1, 1) (xorshift64*).
func (d *CNDecoder) uniform() float64 {
	x := d.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	d.rng = x
	return float64(int64(x*2685821657736338717)>>11) / (1 << 52)
}

// CNEncoder describes frames of background noise as CN payloads (RFC 3389
// 3): the frame's level, and reflection coefficients from Levinson-Durbin
// on its Hann-windowed autocorrelation. A CNEncoder is not safe for
// concurrent use; it allocates only when the frame length changes.
type CNEncoder struct {
	order int
	win   []float64 // Hann window for the current frame length
	x     []float64
}

// NewCNEncoder returns an encoder with the given model order, 0 (level
// only) to CNMaxOrder.
func NewCNEncoder(order int) (*CNEncoder, error) {
	if order < 0 || order > CNMaxOrder {
		return nil, fmt.Errorf("codecs: CN model order %d out of range 0..%d", order, CNMaxOrder)
	}
	return &CNEncoder{order: order}, nil
}

// Order returns the model order: Encode writes Order()+1 bytes.
func (e *CNEncoder) Order() int { return e.order }

// Encode writes the CN payload describing pcm to dst and returns its
// length, Order()+1. It fails if pcm is empty or dst too short (an error
// wrapping io.ErrShortBuffer).
func (e *CNEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(pcm) == 0 {
		return 0, errors.New("codecs: CN encode of an empty frame")
	}
	if len(dst) < e.order+1 {
		return 0, fmt.Errorf("codecs: CN payload needs %d bytes, dst has %d: %w", e.order+1, len(dst), io.ErrShortBuffer)
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	dst[0] = levelDBov(sum / float64(len(pcm)))
	if e.order == 0 {
		return 1, nil
	}

	if len(e.win) != len(pcm) {
		e.win = make([]float64, len(pcm))
		e.x = make([]float64, len(pcm))
		for i := range e.win {
			e.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(len(pcm)))
		}
	}
	for i, v := range pcm {
		e.x[i] = float64(v) * e.win[i]
	}
	var r [CNMaxOrder + 1]float64
	for lag := 0; lag <= e.order && lag < len(pcm); lag++ {
		var s float64
		for i := lag; i < len(pcm); i++ {
			s += e.x[i] * e.x[i-lag]
		}
		r[lag] = s
	}
	// White-noise correction (-40 dB) keeps the recursion well
	// conditioned for tonal or near-silent frames.
	r[0] *= 1.0001

	var k [CNMaxOrder]float64
	levinson(r[:e.order+1], k[:e.order])
	for i := range e.order {
		dst[1+i] = quantRefl(k[i])
	}
	return e.order + 1, nil
}

// levinson solves the normal equations for autocorrelation r by the
// Levinson-Durbin recursion and stores the reflection coefficients in k
// (len(r)-1 of them), with the sign convention a_m = k_m of A(z) =
// 1 + sum a_i z^-i. If r[0] is zero, or the recursion loses positive
// definiteness, the remaining coefficients are zero.
func levinson(r []float64, k []float64) {
	clear(k)
	var a, prev [CNMaxOrder]float64
	err := r[0]
	for m := range k {
		if err <= 0 {
			return
		}
		acc := r[m+1]
		for i := range m {
			acc += a[i] * r[m-i]
		}
		km := -acc / err
		if km >= 1 || km <= -1 {
			return
		}
		k[m] = km
		copy(prev[:m], a[:m])
		for i := range m {
			a[i] = prev[i] + km*prev[m-1-i]
		}
		a[m] = km
		err *= 1 - km*km
	}
}
