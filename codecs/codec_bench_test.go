package codecs

import (
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/cputime"
)

// benchCPU locks the benchmark to its OS thread and returns a function to
// call after the loop, which reports the thread's CPU time per op as
// "cpu-ns/op" and returns it.
func benchCPU(b *testing.B) func() time.Duration {
	runtime.LockOSThread()
	start := cputime.Thread()
	return func() time.Duration {
		per := (cputime.Thread() - start) / time.Duration(max(b.N, 1))
		runtime.UnlockOSThread()
		b.ReportMetric(float64(per.Nanoseconds()), "cpu-ns/op")
		return per
	}
}

// benchCase is one codec and PCM rate for the per-frame benchmarks.
type benchCase struct {
	name  string
	codec Codec
	p     Params
}

func benchCases() []benchCase {
	return []benchCase{
		{"pcmu", PCMU(), Params{}},
		{"pcma", PCMA(), Params{}},
		{"g722", G722(), Params{}},
		{"l16-8k", L16(8000, 117), Params{}},
		{"l16-16k", L16(16000, 118), Params{}},
		{"l16-48k", L16(48000, 119), Params{}},
		{"opus-8k", Opus(), Params{SampleRate: 8000}},
		{"opus-16k", Opus(), Params{SampleRate: 16000}},
		{"opus-48k", Opus(), Params{SampleRate: 48000}},
		{"opus-16k-fec", Opus(), Params{SampleRate: 16000, UseInbandFEC: true}},
	}
}

// BenchmarkEncode encodes one 20 ms frame per op (default complexity 5 for
// Opus) from a second of speech-like PCM.
func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			enc, err := bc.codec.NewEncoder(bc.p)
			if err != nil {
				b.Fatal(err)
			}
			frame := enc.FrameSamples()
			x := sigSpeechLike(enc.SampleRate(), 1)
			frames := len(x) / frame
			dst := make([]byte, enc.MaxPayloadSize())
			b.ReportAllocs()
			done := benchCPU(b)
			i := 0
			for b.Loop() {
				if _, err := enc.Encode(x[i*frame:(i+1)*frame], dst); err != nil {
					b.Fatal(err)
				}
				if i++; i == frames {
					i = 0
				}
			}
			done()
		})
	}
}

// BenchmarkDecode decodes one 20 ms payload per op, cycling through a
// second of encoded speech-like PCM.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			enc, dec := sigNew(b, bc.codec, bc.p)
			payloads := sigEncodeAll(b, enc, sigSpeechLike(enc.SampleRate(), 1))
			pcm := make([]int16, enc.FrameSamples())
			b.ReportAllocs()
			done := benchCPU(b)
			i := 0
			for b.Loop() {
				if _, err := dec.Decode(payloads[i], pcm); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(payloads) {
					i = 0
				}
			}
			done()
		})
	}
}

// BenchmarkConceal conceals one 20 ms frame per op after a good frame, for
// the decoders that conceal.
func BenchmarkConceal(b *testing.B) {
	for _, bc := range benchCases() {
		if bc.name != "g722" && bc.name != "opus-16k" {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			enc, dec := sigNew(b, bc.codec, bc.p)
			payloads := sigEncodeAll(b, enc, sigSpeechLike(enc.SampleRate(), 1))
			pcm := make([]int16, enc.FrameSamples())
			b.ReportAllocs()
			done := benchCPU(b)
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					_, err := dec.Decode(payloads[i], pcm)
					if err != nil {
						b.Fatal(err)
					}
				} else if _, err := dec.(Concealer).Conceal(pcm); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(payloads) {
					i = 0
				}
			}
			done()
		})
	}
}
