package codecs

import (
	"errors"
	"fmt"
	"time"
)

// Codec describes one RTP audio payload format (one SDP rtpmap) and builds
// encoders and decoders for it. A Codec is immutable and safe for concurrent
// use; the encoders and decoders it builds are not (one per stream).
//
// All PCM in this package is mono, signed 16-bit, native endianness, at the
// rate reported by the Encoder's or Decoder's SampleRate.
type Codec interface {
	// Name returns the rtpmap encoding name, e.g. "PCMU" or "opus".
	Name() string
	// PayloadType returns the static RTP payload type (RFC 3551 Table 4),
	// or the default dynamic one this package offers when there is none.
	PayloadType() uint8
	// ClockRate returns the RTP timestamp clock rate written in the
	// rtpmap (8000 for G.722, RFC 3551 4.5.2; 48000 for Opus, RFC 7587 4.1).
	ClockRate() int
	// SampleRate returns the default PCM rate of encoders and decoders.
	SampleRate() int
	// Channels returns the channel count written in the rtpmap (2 for
	// Opus, RFC 7587 7); PCM handed to encoders and decoders is mono.
	Channels() int
	// FrameDuration returns the default packet duration (ptime).
	FrameDuration() time.Duration
	// NewEncoder returns a new encoder configured by p.
	NewEncoder(p Params) (Encoder, error)
	// NewDecoder returns a new decoder configured by p.
	NewDecoder(p Params) (Decoder, error)
}

// Encoder turns PCM into RTP payloads. It keeps per-stream state.
type Encoder interface {
	// Encode encodes one packet of audio, FrameSamples samples of pcm,
	// into dst and returns the payload length. Sample-based codecs
	// (G.711, G.722, L16) also accept other lengths; G.722 needs an even
	// length. A dst shorter than MaxPayloadSize may fail with an error
	// wrapping io.ErrShortBuffer.
	Encode(pcm []int16, dst []byte) (int, error)
	// SampleRate returns the PCM rate Encode expects.
	SampleRate() int
	// FrameSamples returns the PCM samples in one packet (ptime at SampleRate).
	FrameSamples() int
	// MaxPayloadSize returns the largest payload one Encode call of
	// FrameSamples samples can produce.
	MaxPayloadSize() int
}

// Decoder turns RTP payloads into PCM. It keeps per-stream state.
type Decoder interface {
	// Decode decodes one payload into pcm and returns the number of
	// samples written. When pcm is too small for the payload it returns
	// an error wrapping io.ErrShortBuffer and writes nothing useful.
	Decode(payload []byte, pcm []int16) (int, error)
	// SampleRate returns the rate of the PCM Decode writes.
	SampleRate() int
}

// Concealer is implemented by decoders that can synthesize audio for a lost
// packet. Conceal fills (a prefix of) pcm with len(pcm) samples or fewer of
// concealment and returns the count; the caller sizes pcm to the missing
// duration.
type Concealer interface {
	Conceal(pcm []int16) (int, error)
}

// FECDecoder is implemented by decoders whose payloads carry in-band forward
// error correction (Opus LBRR, RFC 6716 2.1.7). When a packet is lost and the
// next one has arrived, DecodeFEC(next, pcm) recovers the missing audio from
// next, filling pcm sized to the missing duration; then the caller decodes
// next as usual with Decode.
type FECDecoder interface {
	DecodeFEC(next []byte, pcm []int16) (int, error)
}

// LossAdapter is implemented by encoders that tune their in-band FEC to
// the loss the receiver reports in RTCP (Opus: RFC 7587 3.3 and 6.1, a
// sender that knows the loss adapts its FEC to it; RFC 6716 2.1.7).
type LossAdapter interface {
	// SetPacketLoss sets the loss, in percent (0..100), the encoder
	// protects against; 0 codes no FEC until loss is reported again.
	SetPacketLoss(percent int) error
}

// ErrUnsupported is wrapped by errors for parameters a codec cannot honour
// (a sample rate, a ptime, a channel count).
var ErrUnsupported = errors.New("codecs: unsupported parameter")

// Ptimes lists the packet durations this package packetizes, in order.
// Opus accepts all but 30 ms (Opus has no 30 ms frame, RFC 6716 2.1.4).
func Ptimes() []time.Duration {
	return []time.Duration{10 * time.Millisecond, 20 * time.Millisecond,
		30 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond}
}

// FrameSamples returns the number of samples in ptime at rate (PCM samples
// at a PCM rate, or the RTP timestamp increment at a clock rate).
func FrameSamples(rate int, ptime time.Duration) int {
	return int(int64(rate) * int64(ptime) / int64(time.Second))
}

// checkPtime returns ptime, or def when ptime is zero, after checking it is
// one of Ptimes.
func checkPtime(ptime, def time.Duration) (time.Duration, error) {
	if ptime == 0 {
		return def, nil
	}
	for _, p := range Ptimes() {
		if ptime == p {
			return ptime, nil
		}
	}
	return 0, fmt.Errorf("ptime %v: %w", ptime, ErrUnsupported)
}
