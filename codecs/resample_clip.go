package codecs

/*
#cgo pkg-config: speexdsp
#include <speex/speex_resampler.h>
*/
import "C"

import (
	"fmt"
	"slices"
)

// ResampleClip converts a whole clip (a sound file loaded for playback or
// music on hold) from any rate to any other between 8000 and 192000 Hz,
// such as 44100 Hz music to a leg's 8000 Hz, in one pass with the same
// speexdsp filter as Resampler; the filter's delay is flushed so the
// clip keeps its length. It allocates its result; it is for loading, not
// for the frame path.
func ResampleClip(pcm []int16, from, to int) ([]int16, error) {
	if from < 8000 || from > 192000 || to < 8000 || to > 192000 {
		return nil, fmt.Errorf("%w: clip %d Hz to %d Hz", ErrResampleRate, from, to)
	}
	if from == to || len(pcm) == 0 {
		return slices.Clone(pcm), nil
	}
	var cerr C.int
	st := C.speex_resampler_init(1, C.spx_uint32_t(from), C.spx_uint32_t(to), resampleQuality, &cerr)
	if st == nil {
		return nil, fmt.Errorf("codecs: speex_resampler_init(%d, %d): error %d", from, to, int(cerr))
	}
	r := &Resampler{st: st, from: from, to: to}
	defer func() { C.speex_resampler_destroy(st) }()
	delay := int(C.speex_resampler_get_input_latency(st))
	in := append(slices.Clone(pcm), make([]int16, delay)...) // flush the filter
	out := make([]int16, r.MaxOut(len(in)))
	n := r.Process(in, out)
	skip := min(int(C.speex_resampler_get_output_latency(st)), n)
	want := min(len(pcm)*to/from, n-skip)
	return out[skip : skip+want], nil
}
