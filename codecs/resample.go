package codecs

// Sample-rate conversion between the rates the media engine uses (8, 16 and
// 48 kHz, and the other Opus rates 12, 24 and 32 kHz).
//
// The work is done by the speexdsp resampler (libspeexdsp, BSD licence,
// Debian package libspeexdsp-dev) through cgo: a polyphase FIR filter built
// from a Kaiser-windowed sinc, computed once per rate pair, whose cut-off
// is placed below the lower of the two Nyquist frequencies so that it is
// also the anti-aliasing filter when decimating. It was chosen over the
// alternatives by measurement (tones through 20 ms frames, int16 in and
// out, this machine; see the Resampler benchmarks):
//
//	                 alias 6k@16->8  alias 20k@48->8  3.4 kHz 8->48->8  8->48    48->8   latency
//	speexdsp q4      > 90 dB         > 90 dB          -0.02 dB          ~9 us    ~11 us  4 ms
//	speexdsp q5      > 90 dB         > 90 dB          -0.00 dB          ~12 us   ~15 us  5 ms
//	soxr MQ/HQ       > 90 dB         > 90 dB           0.00 dB          ~3.5 us  ~2.7 us 60-140 ms, bursty
//	go-audio-resampler (pure Go), High: > 90 dB, ~17 us / ~20 us, allocates per call
//
// ("> 90 dB": the aliased tone rounds to zero in int16.) libsoxr is faster
// but works in FFT blocks: for 20 ms frames it returns nothing for the
// first 3 to 7 frames and then bursts of 1024 samples, which a clocked
// frame pipeline cannot use. speexdsp returns exactly len(in)*to/from
// samples per frame with a fixed delay. Quality 4 (speexdsp's default) is
// used: its pass band is flat to 3.4 kHz within 0.02 dB after a round trip,
// and it is ~25% cheaper than quality 5.

/*
#cgo pkg-config: speexdsp
#cgo noescape sb_resample
#cgo nocallback sb_resample
#include <speex/speex_resampler.h>

// sb_resample runs one block through the resampler and returns the number
// of samples written. Lengths are passed by value so that no Go pointer to
// a length escapes.
static int sb_resample(SpeexResamplerState *st, const spx_int16_t *in, spx_uint32_t in_len,
                       spx_int16_t *out, spx_uint32_t out_len) {
	speex_resampler_process_int(st, 0, in, &in_len, out, &out_len);
	return (int)out_len;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// resampleQuality is the speexdsp quality level (0..10); see the table above.
const resampleQuality = 4

// ErrResampleRate is returned by NewResampler for an unsupported rate.
var ErrResampleRate = errors.New("codecs: unsupported resampling rate")

// resampleRates are the rates NewResampler accepts: telephony and the Opus
// internal rates (RFC 6716 2), all of which divide a 20 ms frame evenly.
var resampleRates = [...]int{8000, 12000, 16000, 24000, 32000, 48000}

// Resampler converts mono 16-bit PCM from one sample rate to another. It is
// streaming: filter state carries over from one Process call to the next,
// so a stream can be fed in frames of any size. Output is delayed by
// Delay() samples. A Resampler holds C memory: call Close when done. It is
// not safe for concurrent use.
type Resampler struct {
	st       *C.SpeexResamplerState // nil when from == to, or after Close
	from, to int
	closed   bool
	cleanup  runtime.Cleanup
}

// NewResampler returns a resampler from fromRate to toRate (Hz). Both must
// be one of 8000, 12000, 16000, 24000, 32000 or 48000. Equal rates give a
// Resampler that copies.
func NewResampler(fromRate, toRate int) (*Resampler, error) {
	if !validResampleRate(fromRate) || !validResampleRate(toRate) {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz", ErrResampleRate, fromRate, toRate)
	}
	r := &Resampler{from: fromRate, to: toRate}
	if fromRate == toRate {
		return r, nil
	}
	var cerr C.int
	st := C.speex_resampler_init(1, C.spx_uint32_t(fromRate), C.spx_uint32_t(toRate), resampleQuality, &cerr)
	if st == nil {
		return nil, fmt.Errorf("codecs: speex_resampler_init(%d, %d): error %d", fromRate, toRate, int(cerr))
	}
	r.st = st
	// Safety net for a Resampler dropped without Close.
	r.cleanup = runtime.AddCleanup(r, func(st *C.SpeexResamplerState) { C.speex_resampler_destroy(st) }, st)
	return r, nil
}

func validResampleRate(rate int) bool {
	for _, r := range resampleRates {
		if rate == r {
			return true
		}
	}
	return false
}

// FromRate returns the input sample rate.
func (r *Resampler) FromRate() int { return r.from }

// ToRate returns the output sample rate.
func (r *Resampler) ToRate() int { return r.to }

// MaxOut returns the most samples Process can write for inLen input
// samples: ceil(inLen*to/from). It is exactly inLen*to/from when inLen is a
// multiple of from/gcd(from, to), as every 10 ms frame is.
func (r *Resampler) MaxOut(inLen int) int {
	return (inLen*r.to + r.from - 1) / r.from
}

// Delay returns the resampler's delay in output samples: an input sample
// at time t comes out at t plus Delay()/ToRate() seconds.
func (r *Resampler) Delay() int {
	if r.st == nil {
		return 0
	}
	return int(C.speex_resampler_get_output_latency(r.st))
}

// Process converts in and writes the result to out, returning the number
// of samples written. out must hold at least MaxOut(len(in)) samples, which
// is len(in)*to/from for whole 10 ms frames; if it is shorter, the output
// is cut to len(out) and the input that would have produced the rest is
// dropped. Process does not allocate. It returns 0 after Close.
func (r *Resampler) Process(in []int16, out []int16) int {
	if len(in) == 0 || len(out) == 0 || r.closed {
		return 0
	}
	if r.st == nil { // equal rates
		return copy(out, in)
	}
	n := C.sb_resample(r.st,
		(*C.spx_int16_t)(unsafe.Pointer(unsafe.SliceData(in))), C.spx_uint32_t(len(in)),
		(*C.spx_int16_t)(unsafe.Pointer(unsafe.SliceData(out))), C.spx_uint32_t(len(out)))
	return int(n)
}

// Reset clears the filter state, as at the start of a new stream.
func (r *Resampler) Reset() {
	if r.st != nil {
		C.speex_resampler_reset_mem(r.st)
	}
}

// Close frees the C state. The Resampler must not be used afterwards
// (Process then returns 0). Close is idempotent and always returns nil.
func (r *Resampler) Close() error {
	r.closed = true
	if r.st != nil {
		r.cleanup.Stop()
		C.speex_resampler_destroy(r.st)
		r.st = nil
	}
	return nil
}
