package codecs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// l16Codec is linear 16-bit PCM in network byte order, RFC 3551 4.5.11.
type l16Codec struct {
	clock int
	pt    uint8
}

// L16 returns mono L16 at clockRate (the PCM rate too) offered with payload
// type pt: 11 is the static L16/44100/1 of RFC 3551 Table 4; other rates
// use a dynamic payload type.
func L16(clockRate int, pt uint8) Codec { return l16Codec{clock: clockRate, pt: pt} }

// Name implements Codec.
func (l16Codec) Name() string { return "L16" }

// PayloadType implements Codec.
func (c l16Codec) PayloadType() uint8 { return c.pt }

// ClockRate implements Codec.
func (c l16Codec) ClockRate() int { return c.clock }

// SampleRate implements Codec.
func (c l16Codec) SampleRate() int { return c.clock }

// Channels implements Codec.
func (l16Codec) Channels() int { return 1 }

// FrameDuration implements Codec.
func (l16Codec) FrameDuration() time.Duration { return 20 * time.Millisecond }

// NewEncoder implements Codec; p may set Ptime.
func (c l16Codec) NewEncoder(p Params) (Encoder, error) {
	if p.SampleRate != 0 && p.SampleRate != c.clock {
		return nil, fmt.Errorf("L16/%d sample rate %d: %w", c.clock, p.SampleRate, ErrUnsupported)
	}
	ptime, err := checkPtime(p.Ptime, c.FrameDuration())
	if err != nil {
		return nil, fmt.Errorf("L16: %w", err)
	}
	return &l16Encoder{rate: c.clock, frame: FrameSamples(c.clock, ptime)}, nil
}

// NewDecoder implements Codec.
func (c l16Codec) NewDecoder(p Params) (Decoder, error) {
	if p.SampleRate != 0 && p.SampleRate != c.clock {
		return nil, fmt.Errorf("L16/%d sample rate %d: %w", c.clock, p.SampleRate, ErrUnsupported)
	}
	return &l16Decoder{rate: c.clock}, nil
}

type l16Encoder struct {
	rate, frame int
}

// Encode implements Encoder for any number of samples: two bytes each, big-endian.
func (e *l16Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(dst) < 2*len(pcm) {
		return 0, fmt.Errorf("L16 encode %d samples into %d bytes: %w", len(pcm), len(dst), io.ErrShortBuffer)
	}
	for i, s := range pcm {
		binary.BigEndian.PutUint16(dst[2*i:], uint16(s))
	}
	return 2 * len(pcm), nil
}

// SampleRate implements Encoder.
func (e *l16Encoder) SampleRate() int { return e.rate }

// FrameSamples implements Encoder.
func (e *l16Encoder) FrameSamples() int { return e.frame }

// MaxPayloadSize implements Encoder.
func (e *l16Encoder) MaxPayloadSize() int { return 2 * e.frame }

type l16Decoder struct {
	rate int
}

// errOddL16 reports an L16 payload that ends in half a sample.
var errOddL16 = errors.New("L16 payload has an odd length")

// Decode implements Decoder.
func (d *l16Decoder) Decode(payload []byte, pcm []int16) (int, error) {
	if len(payload)%2 != 0 {
		return 0, errOddL16
	}
	n := len(payload) / 2
	if len(pcm) < n {
		return 0, fmt.Errorf("L16 decode %d bytes into %d samples: %w", len(payload), len(pcm), io.ErrShortBuffer)
	}
	for i := range pcm[:n] {
		pcm[i] = int16(binary.BigEndian.Uint16(payload[2*i:]))
	}
	return n, nil
}

// SampleRate implements Decoder.
func (d *l16Decoder) SampleRate() int { return d.rate }

var (
	_ Codec   = l16Codec{}
	_ Encoder = (*l16Encoder)(nil)
	_ Decoder = (*l16Decoder)(nil)
)
