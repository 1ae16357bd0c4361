package codecs

import (
	"fmt"
	"io"
	"time"

	"github.com/zaf/g711"
)

// g711Codec is G.711 µ-law (PCMU) or A-law (PCMA), RFC 3551 4.5.14. The
// companding itself is github.com/zaf/g711's per-sample functions, which are
// bit-exact with the ITU-T G.191 reference (see g711_test.go).
type g711Codec struct {
	alaw bool
}

// PCMU returns the G.711 µ-law codec: rtpmap PCMU/8000, static payload type 0.
func PCMU() Codec { return g711Codec{} }

// PCMA returns the G.711 A-law codec: rtpmap PCMA/8000, static payload type 8.
func PCMA() Codec { return g711Codec{alaw: true} }

// Name implements Codec.
func (c g711Codec) Name() string {
	if c.alaw {
		return "PCMA"
	}
	return "PCMU"
}

// PayloadType implements Codec.
func (c g711Codec) PayloadType() uint8 {
	if c.alaw {
		return 8
	}
	return 0
}

// ClockRate implements Codec.
func (g711Codec) ClockRate() int { return 8000 }

// SampleRate implements Codec.
func (g711Codec) SampleRate() int { return 8000 }

// Channels implements Codec.
func (g711Codec) Channels() int { return 1 }

// FrameDuration implements Codec.
func (g711Codec) FrameDuration() time.Duration { return 20 * time.Millisecond }

// NewEncoder implements Codec; p may set Ptime.
func (c g711Codec) NewEncoder(p Params) (Encoder, error) {
	if p.SampleRate != 0 && p.SampleRate != 8000 {
		return nil, fmt.Errorf("%s sample rate %d: %w", c.Name(), p.SampleRate, ErrUnsupported)
	}
	ptime, err := checkPtime(p.Ptime, c.FrameDuration())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return &g711Encoder{alaw: c.alaw, frame: FrameSamples(8000, ptime)}, nil
}

// NewDecoder implements Codec.
func (c g711Codec) NewDecoder(p Params) (Decoder, error) {
	if p.SampleRate != 0 && p.SampleRate != 8000 {
		return nil, fmt.Errorf("%s sample rate %d: %w", c.Name(), p.SampleRate, ErrUnsupported)
	}
	return &g711Decoder{alaw: c.alaw}, nil
}

// g711Encoder writes one code byte per sample.
type g711Encoder struct {
	alaw  bool
	frame int
}

// Encode implements Encoder for any number of samples.
func (e *g711Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(dst) < len(pcm) {
		return 0, fmt.Errorf("g711 encode %d samples into %d bytes: %w", len(pcm), len(dst), io.ErrShortBuffer)
	}
	dst = dst[:len(pcm)]
	if e.alaw {
		for i, s := range pcm {
			dst[i] = g711.EncodeAlawFrame(s)
		}
	} else {
		for i, s := range pcm {
			dst[i] = g711.EncodeUlawFrame(s)
		}
	}
	return len(pcm), nil
}

// SampleRate implements Encoder.
func (e *g711Encoder) SampleRate() int { return 8000 }

// FrameSamples implements Encoder.
func (e *g711Encoder) FrameSamples() int { return e.frame }

// MaxPayloadSize implements Encoder.
func (e *g711Encoder) MaxPayloadSize() int { return e.frame }

// g711Decoder writes one sample per code byte. It has no concealment of its
// own; G.711 Appendix I PLC lives in g711plc.go.
type g711Decoder struct {
	alaw bool
}

// Decode implements Decoder: one sample per byte.
func (d *g711Decoder) Decode(payload []byte, pcm []int16) (int, error) {
	if len(pcm) < len(payload) {
		return 0, fmt.Errorf("g711 decode %d bytes into %d samples: %w", len(payload), len(pcm), io.ErrShortBuffer)
	}
	pcm = pcm[:len(payload)]
	if d.alaw {
		for i, b := range payload {
			pcm[i] = g711.DecodeAlawFrame(b)
		}
	} else {
		for i, b := range payload {
			pcm[i] = g711.DecodeUlawFrame(b)
		}
	}
	return len(payload), nil
}

// SampleRate implements Decoder.
func (d *g711Decoder) SampleRate() int { return 8000 }

var (
	_ Codec   = g711Codec{}
	_ Encoder = (*g711Encoder)(nil)
	_ Decoder = (*g711Decoder)(nil)
)
