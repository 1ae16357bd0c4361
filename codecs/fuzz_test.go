package codecs

import (
	"testing"
)

// fuzzDecoder decodes arbitrary payloads (untrusted RTP) with a decoder that
// lives across inputs, as a stream's would, and checks that it neither
// panics nor writes more than it was given room for; decoders that conceal
// or use FEC are driven through those paths too. wantSamples, when not
// nil, gives the exact sample count a payload must decode to.
func fuzzDecoder(f *testing.F, c Codec, p Params, seeds [][]byte, wantSamples func(payload []byte) int) {
	enc, err := c.NewEncoder(p)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range sigEncodeAll(f, enc, sigTone(3*enc.FrameSamples(), enc.SampleRate(), 440, 8000)) {
		f.Add(s)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	dec, err := c.NewDecoder(p)
	if err != nil {
		f.Fatal(err)
	}
	// 120 ms at 48 kHz, the largest Opus packet; guard samples after it.
	const room, guard = 5760, 64
	buf := make([]int16, room+guard)
	f.Fuzz(func(t *testing.T, payload []byte) {
		for i := range buf[room:] {
			buf[room+i] = 0x5a5a
		}
		pcm := buf[:room]
		n, err := dec.Decode(payload, pcm)
		if n < 0 || n > room || (err != nil && n != 0) {
			t.Fatalf("Decode(% x) = %d, %v", payload, n, err)
		}
		if wantSamples != nil && err == nil && n != wantSamples(payload) {
			t.Fatalf("Decode(% x) = %d samples, want %d", payload, n, wantSamples(payload))
		}
		if cc, ok := dec.(Concealer); ok {
			if n, err := cc.Conceal(pcm[:dec.SampleRate()/50]); err != nil || n != dec.SampleRate()/50 {
				t.Fatalf("Conceal = %d, %v", n, err)
			}
		}
		if fd, ok := dec.(FECDecoder); ok {
			if n, err := fd.DecodeFEC(payload, pcm[:dec.SampleRate()/50]); n < 0 || n > dec.SampleRate()/50 || (err != nil && n != 0) {
				t.Fatalf("DecodeFEC(% x) = %d, %v", payload, n, err)
			}
		}
		for i, v := range buf[room:] {
			if v != 0x5a5a {
				t.Fatalf("Decode(% x) wrote past pcm (guard sample %d)", payload, i)
			}
		}
	})
}

func FuzzDecodePCMU(f *testing.F) {
	fuzzDecoder(f, PCMU(), Params{}, [][]byte{{}, {0xff}, make([]byte, 6000)},
		func(p []byte) int { return len(p) })
}

func FuzzDecodePCMA(f *testing.F) {
	fuzzDecoder(f, PCMA(), Params{}, [][]byte{{}, {0xd5}, make([]byte, 6000)},
		func(p []byte) int { return len(p) })
}

func FuzzDecodeG722(f *testing.F) {
	fuzzDecoder(f, G722(), Params{}, [][]byte{{}, {0x00}, {0xff, 0x80}, make([]byte, 3000)},
		func(p []byte) int { return 2 * len(p) })
}

func FuzzDecodeL16(f *testing.F) {
	fuzzDecoder(f, L16(16000, 118), Params{}, [][]byte{{}, {0x80}, {0x80, 0x00}, make([]byte, 12000)},
		func(p []byte) int { return len(p) / 2 })
}

func FuzzDecodeOpus(f *testing.F) {
	seeds := [][]byte{
		{}, {0x00}, {0xf8}, {0xfc, 0xff, 0xfe}, // TOC only; code 3 with bad count
		{0x03, 0x00}, {0x0b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // code 3 CBR/VBR
		{0x78, 0x80, 0x80, 0x80, 0x80}, // 60 ms SILK WB
	}
	fuzzDecoder(f, Opus(), Params{SampleRate: 48000, UseInbandFEC: true}, seeds, nil)
}
