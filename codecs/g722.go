package codecs

/*
#cgo pkg-config: spandsp
#cgo noescape g722_encode
#cgo nocallback g722_encode
#cgo noescape g722_decode
#cgo nocallback g722_decode
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unsafe"
)

// g722Codec is G.722 at 64 kbit/s (ITU-T G.722 mode 1): 16 kHz PCM, one
// byte per two samples, RTP clock 8000 (RFC 3551 4.5.2). The codec is
// spandsp's (libspandsp, Debian libspandsp-dev) through cgo; doc.go gives the
// measurements behind the choice. The encoder and decoder states are plain
// C structs without pointers, allocated inside the Go structs, so nothing
// needs freeing.
type g722Codec struct{}

// G722 returns the G.722 codec: rtpmap G722/8000, static payload type 9.
func G722() Codec { return g722Codec{} }

// Name implements Codec.
func (g722Codec) Name() string { return "G722" }

// PayloadType implements Codec.
func (g722Codec) PayloadType() uint8 { return 9 }

// ClockRate implements Codec: 8000, though the audio is sampled at 16000
// (RFC 3551 4.5.2).
func (g722Codec) ClockRate() int { return 8000 }

// SampleRate implements Codec.
func (g722Codec) SampleRate() int { return 16000 }

// Channels implements Codec.
func (g722Codec) Channels() int { return 1 }

// FrameDuration implements Codec.
func (g722Codec) FrameDuration() time.Duration { return 20 * time.Millisecond }

// NewEncoder implements Codec; p may set Ptime.
func (c g722Codec) NewEncoder(p Params) (Encoder, error) {
	if p.SampleRate != 0 && p.SampleRate != 16000 {
		return nil, fmt.Errorf("G722 sample rate %d: %w", p.SampleRate, ErrUnsupported)
	}
	ptime, err := checkPtime(p.Ptime, c.FrameDuration())
	if err != nil {
		return nil, fmt.Errorf("G722: %w", err)
	}
	e := &g722Encoder{frame: FrameSamples(16000, ptime)}
	if C.g722_encode_init(&e.st, 64000, 0) == nil {
		return nil, errors.New("G722: g722_encode_init failed")
	}
	return e, nil
}

// NewDecoder implements Codec. The decoder also implements Concealer.
func (g722Codec) NewDecoder(p Params) (Decoder, error) {
	if p.SampleRate != 0 && p.SampleRate != 16000 {
		return nil, fmt.Errorf("G722 sample rate %d: %w", p.SampleRate, ErrUnsupported)
	}
	d := &g722Decoder{}
	if C.g722_decode_init(&d.st, 64000, 0) == nil {
		return nil, errors.New("G722: g722_decode_init failed")
	}
	return d, nil
}

type g722Encoder struct {
	st    C.g722_encode_state_t
	frame int
}

// errOddG722 reports PCM for G.722 that ends in half a sample pair.
var errOddG722 = errors.New("G722 encode needs an even number of samples")

// Encode implements Encoder for any even number of samples.
func (e *g722Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(pcm)%2 != 0 {
		return 0, errOddG722
	}
	if len(dst) < len(pcm)/2 {
		return 0, fmt.Errorf("G722 encode %d samples into %d bytes: %w", len(pcm), len(dst), io.ErrShortBuffer)
	}
	if len(pcm) == 0 {
		return 0, nil
	}
	n := C.g722_encode(&e.st, (*C.uint8_t)(unsafe.Pointer(&dst[0])),
		(*C.int16_t)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)))
	return int(n), nil
}

// SampleRate implements Encoder.
func (e *g722Encoder) SampleRate() int { return 16000 }

// FrameSamples implements Encoder.
func (e *g722Encoder) FrameSamples() int { return e.frame }

// MaxPayloadSize implements Encoder.
func (e *g722Encoder) MaxPayloadSize() int { return e.frame / 2 }

// G.722 concealment sizes, in 16 kHz samples.
const (
	g722Hist      = 640 // decoded history kept: 40 ms
	g722Window    = 160 // pitch-match window: 10 ms
	g722MinPeriod = 40  // 2.5 ms (400 Hz)
	g722MaxPeriod = 320 // 20 ms (50 Hz)
	g722Hold      = 160 // concealment at full level: 10 ms
	g722Fade      = 800 // then a linear fade to silence over 50 ms
	g722Overlap   = 40  // cross-fade into the next good frame: 2.5 ms
)

// g722Decoder decodes G.722 and conceals losses.
//
// Concealment is hand-written because spandsp has no G.722 PLC and the
// ITU-T G.722 Appendix III/IV reference code is not packaged for Debian or
// Go. It repeats the last pitch period of the decoded audio (found by
// normalized autocorrelation over 2.5..20 ms), holds it for 10 ms, fades it
// to silence over the next 50 ms, and cross-fades the first 2.5 ms of the
// next good frame from the continued concealment. The ADPCM state is left
// as it was after the last good payload; G.722's adaptive quantizers and
// predictors are leaky and re-converge with the sender's over the next
// 20-40 ms. Resetting the state, or re-encoding the concealment into it,
// measured worse on the frames after a loss (TestG722Conceal).
type g722Decoder struct {
	st     C.g722_decode_state_t
	hist   [g722Hist]int16 // last decoded samples, newest last
	period int             // repeat period while concealing
	pos    int             // next sample within the repeated period
	lost   int             // samples concealed since the last good payload
	tail   [g722Overlap]int16
}

// Decode implements Decoder: two samples per payload byte.
func (d *g722Decoder) Decode(payload []byte, pcm []int16) (int, error) {
	if len(pcm) < 2*len(payload) {
		return 0, fmt.Errorf("G722 decode %d bytes into %d samples: %w", len(payload), len(pcm), io.ErrShortBuffer)
	}
	if len(payload) == 0 {
		return 0, nil
	}
	n := int(C.g722_decode(&d.st, (*C.int16_t)(unsafe.Pointer(&pcm[0])),
		(*C.uint8_t)(unsafe.Pointer(&payload[0])), C.int(len(payload))))
	out := pcm[:n]
	if d.lost > 0 {
		m := min(len(out), g722Overlap)
		for i := range m {
			out[i] = int16((int32(d.tail[i])*int32(m-i) + int32(out[i])*int32(i)) / int32(m))
		}
		d.lost = 0
	}
	d.remember(out)
	return n, nil
}

// SampleRate implements Decoder.
func (d *g722Decoder) SampleRate() int { return 16000 }

// remember appends decoded audio to the history.
func (d *g722Decoder) remember(s []int16) {
	if len(s) >= g722Hist {
		copy(d.hist[:], s[len(s)-g722Hist:])
		return
	}
	copy(d.hist[:], d.hist[len(s):])
	copy(d.hist[g722Hist-len(s):], s)
}

// Conceal implements Concealer: it fills all of pcm.
func (d *g722Decoder) Conceal(pcm []int16) (int, error) {
	if d.lost == 0 {
		d.period = g722Pitch(d.hist[:], g722Window, g722MinPeriod, g722MaxPeriod)
		d.pos = 0
	}
	for i := range pcm {
		pcm[i] = d.next()
	}
	// Keep the continuation for the cross-fade into the next good frame,
	// without advancing the concealment.
	pos, lost := d.pos, d.lost
	for i := range d.tail {
		d.tail[i] = d.next()
	}
	d.pos, d.lost = pos, lost
	return len(pcm), nil
}

// next returns the next concealment sample and advances the state.
func (d *g722Decoder) next() int16 {
	s := int32(d.hist[g722Hist-d.period+d.pos])
	d.pos++
	if d.pos == d.period {
		d.pos = 0
	}
	var g int32 = 1 << 15 // gain, Q15
	switch k := d.lost - g722Hold; {
	case k >= g722Fade:
		g = 0
	case k > 0:
		g = int32((int64(g722Fade-k) << 15) / g722Fade)
	}
	if d.lost < math.MaxInt32 {
		d.lost++
	}
	return int16((s * g) >> 15)
}

// g722Pitch returns the lag in [minLag, maxLag] at which the last window
// samples of h best match the samples lag earlier (normalized
// cross-correlation), as the period to repeat. h must hold window+maxLag
// samples. The search runs on every other sample and lag first, then
// refines around the best coarse lag, a quarter of the full search's cost.
func g722Pitch(h []int16, window, minLag, maxLag int) int {
	best, _ := g722PitchScan(h, window, minLag, maxLag, 2)
	best, _ = g722PitchScan(h, window, max(minLag, best-1), min(maxLag, best+1), 1)
	return best
}

// g722PitchScan scores lags lo, lo+step, ..hi over samples step apart and
// returns the best lag and its score, xy/sqrt(yy), which keeps the sign so
// that a match in anti-phase loses. A score must beat the best by 0.01% to
// win, so the shortest of equal periods is kept.
func g722PitchScan(h []int16, window, lo, hi, step int) (int, float64) {
	end := len(h)
	x := h[end-window:]
	best, bestScore := lo, math.Inf(-1)
	for lag := lo; lag <= hi; lag += step {
		y := h[end-window-lag : end-lag]
		y = y[:len(x)]
		var xy, yy int64
		for i := 0; i < len(x); i += step {
			a, b := int64(x[i]), int64(y[i])
			xy += a * b
			yy += b * b
		}
		if yy == 0 {
			continue
		}
		if score := float64(xy) / math.Sqrt(float64(yy)); math.IsInf(bestScore, -1) || score > bestScore+math.Abs(bestScore)*1e-4 {
			best, bestScore = lag, score
		}
	}
	return best, bestScore
}

var (
	_ Codec     = g722Codec{}
	_ Encoder   = (*g722Encoder)(nil)
	_ Decoder   = (*g722Decoder)(nil)
	_ Concealer = (*g722Decoder)(nil)
)
