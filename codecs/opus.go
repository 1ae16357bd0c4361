package codecs

import (
	"errors"
	"fmt"
	"io"
	"time"

	"gopkg.in/hraban/opus.v2"
)

// opusCodec is Opus (RFC 6716) in RTP (RFC 7587), through libopus and
// gopkg.in/hraban/opus.v2. Encoders and decoders are mono at 8, 12, 16, 24
// or 48 kHz; the rtpmap is always opus/48000/2 (RFC 7587 7).
type opusCodec struct{}

// Opus returns the Opus codec: rtpmap opus/48000/2, default dynamic payload
// type 111.
func Opus() Codec { return opusCodec{} }

// Name implements Codec.
func (opusCodec) Name() string { return "opus" }

// PayloadType implements Codec.
func (opusCodec) PayloadType() uint8 { return 111 }

// ClockRate implements Codec (RFC 7587 4.1).
func (opusCodec) ClockRate() int { return 48000 }

// SampleRate implements Codec: the default PCM rate; Params.SampleRate
// selects 8000, 12000, 16000, 24000 or 48000.
func (opusCodec) SampleRate() int { return 48000 }

// Channels implements Codec (RFC 7587 7).
func (opusCodec) Channels() int { return 2 }

// FrameDuration implements Codec.
func (opusCodec) FrameDuration() time.Duration { return 20 * time.Millisecond }

// Opus encoder defaults.
const (
	opusDefaultComplexity = 5  // libopus' own default is 9 (10 in 1.5); 5 halves the cost
	opusDefaultLossPerc   = 10 // expected loss when in-band FEC is asked for
	opusMaxPayload        = 4000
)

// opusRate checks an Opus PCM rate (RFC 6716 2).
func opusRate(r int) (int, error) {
	switch r {
	case 0:
		return 48000, nil
	case 8000, 12000, 16000, 24000, 48000:
		return r, nil
	}
	return 0, fmt.Errorf("opus sample rate %d: %w", r, ErrUnsupported)
}

// opusDefaultBitrate returns the bitrate used without maxaveragebitrate:
// above RFC 7587 3.1.1's recommended speech range for the bandwidth;
// SetPacketLoss adds a quarter while in-band FEC is coded. libopus only codes FEC (LBRR) above a
// bandwidth-dependent rate; at 8 kHz it codes none below about 20 kbit/s at
// complexity 5 and 10% loss (measured by TestOpusFECBeatsPLC).
func opusDefaultBitrate(rate int) int {
	var b int
	switch {
	case rate <= 8000:
		b = 16000
	case rate <= 12000:
		b = 20000
	case rate <= 16000:
		b = 24000
	case rate <= 24000:
		b = 32000
	default:
		b = 40000
	}
	return b
}

// opusBandwidth maps a sample rate (a maxplaybackrate, or a source's rate)
// to the widest Opus audio bandwidth it carries (RFC 7587 3.1.1, RFC 6716 2).
func opusBandwidth(maxPlayback int) opus.Bandwidth {
	switch {
	case maxPlayback <= 8000:
		return opus.Narrowband
	case maxPlayback <= 12000:
		return opus.Mediumband
	case maxPlayback <= 16000:
		return opus.Wideband
	case maxPlayback <= 24000:
		return opus.SuperWideband
	}
	return opus.Fullband
}

// NewEncoder implements Codec. It honours p.SampleRate, Ptime (10, 20, 40
// or 60 ms; Opus has no 30 ms frame, RFC 6716 2.1.4), Complexity,
// MaxAverageBitrate (clamped to 6000..510000, RFC 7587 6.1),
// MaxPlaybackRate and SourceRate (as the encoder's maximum bandwidth), UseInbandFEC (with
// PacketLossPercent) and UseDTX. With DTX, payloads of 2 bytes or fewer are
// DTX frames the sender may leave unsent (RFC 7587 3.1.3).
func (c opusCodec) NewEncoder(p Params) (Encoder, error) {
	rate, err := opusRate(p.SampleRate)
	if err != nil {
		return nil, err
	}
	ptime, err := checkPtime(p.Ptime, c.FrameDuration())
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	if ptime == 30*time.Millisecond {
		return nil, fmt.Errorf("opus ptime 30ms (no such Opus frame size): %w", ErrUnsupported)
	}
	enc, err := opus.NewEncoder(rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	complexity := p.Complexity
	if complexity == 0 {
		complexity = opusDefaultComplexity
	}
	// The band worth coding: the peer renders no more than maxplaybackrate
	// and the source carries no more than its own rate.
	band := rate
	for _, limit := range []int{p.MaxPlaybackRate, p.SourceRate} {
		if limit > 0 {
			band = min(band, limit)
		}
	}
	e := &opusEncoder{enc: enc, rate: rate, frame: FrameSamples(rate, ptime), fec: p.UseInbandFEC, loss: -1}
	if p.MaxAverageBitrate == 0 {
		e.base = opusDefaultBitrate(band)
	}
	bitrate := min(max(p.MaxAverageBitrate, 6000), 510000)
	if e.base > 0 {
		bitrate = e.base
	}
	if err := enc.SetComplexity(complexity); err != nil {
		return nil, fmt.Errorf("opus complexity %d: %w", complexity, err)
	}
	if err := enc.SetBitrate(bitrate); err != nil {
		return nil, fmt.Errorf("opus bitrate %d: %w", bitrate, err)
	}
	if band < rate {
		if err := enc.SetMaxBandwidth(opusBandwidth(band)); err != nil {
			return nil, fmt.Errorf("opus max bandwidth: %w", err)
		}
	}
	if p.UseInbandFEC {
		if err := enc.SetInBandFEC(true); err != nil {
			return nil, fmt.Errorf("opus in-band FEC: %w", err)
		}
		loss := p.PacketLossPercent
		switch {
		case loss == 0:
			loss = opusDefaultLossPerc
		case loss < 0:
			loss = 0
		}
		if err := e.SetPacketLoss(loss); err != nil {
			return nil, err
		}
	}
	if p.UseDTX {
		if err := enc.SetDTX(true); err != nil {
			return nil, fmt.Errorf("opus DTX: %w", err)
		}
	}
	return e, nil
}

// NewDecoder implements Codec; p may set SampleRate. The decoder also
// implements Concealer (Opus PLC) and FECDecoder.
func (opusCodec) NewDecoder(p Params) (Decoder, error) {
	rate, err := opusRate(p.SampleRate)
	if err != nil {
		return nil, err
	}
	dec, err := opus.NewDecoder(rate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return &opusDecoder{dec: dec, rate: rate, quantum: rate / 400}, nil
}

type opusEncoder struct {
	enc         *opus.Encoder
	rate, frame int
	fec         bool // in-band FEC asked for (useinbandfec=1)
	loss        int  // the loss FEC is tuned for, -1 before the first setting
	base        int  // the default bitrate without FEC; 0 when the peer capped it
}

// SetPacketLoss implements LossAdapter. With in-band FEC asked for, it
// tunes the FEC to percent and, unless the peer capped the bitrate,
// gives the FEC its quarter more bitrate while loss is expected
// (opusDefaultBitrate); without FEC it does nothing.
func (e *opusEncoder) SetPacketLoss(percent int) error {
	percent = min(max(percent, 0), 100)
	if !e.fec || percent == e.loss {
		return nil
	}
	if err := e.enc.SetPacketLossPerc(percent); err != nil {
		return fmt.Errorf("opus packet loss %d%%: %w", percent, err)
	}
	if e.base > 0 && (percent > 0) != (e.loss > 0) {
		bitrate := e.base
		if percent > 0 {
			bitrate += e.base / 4
		}
		if err := e.enc.SetBitrate(bitrate); err != nil {
			return fmt.Errorf("opus bitrate %d: %w", bitrate, err)
		}
	}
	e.loss = percent
	return nil
}

// Encode implements Encoder: pcm must hold exactly FrameSamples samples.
func (e *opusEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(pcm) != e.frame {
		return 0, fmt.Errorf("opus encode %d samples, want %d: %w", len(pcm), e.frame, ErrUnsupported)
	}
	if len(dst) == 0 {
		return 0, fmt.Errorf("opus encode into 0 bytes: %w", io.ErrShortBuffer)
	}
	// hraban/opus writes up to cap(dst); bound it by len(dst).
	n, err := e.enc.Encode(pcm, dst[:len(dst):len(dst)])
	if err != nil {
		return 0, fmt.Errorf("opus encode: %w", err)
	}
	return n, nil
}

// SampleRate implements Encoder.
func (e *opusEncoder) SampleRate() int { return e.rate }

// FrameSamples implements Encoder.
func (e *opusEncoder) FrameSamples() int { return e.frame }

// MaxPayloadSize implements Encoder: libopus' recommended output bound.
func (e *opusEncoder) MaxPayloadSize() int { return opusMaxPayload }

// errEmptyOpus reports a zero-length Opus payload, which RFC 6716 3.1 does
// not allow (every packet has a TOC byte).
var errEmptyOpus = errors.New("opus decode: empty payload")

type opusDecoder struct {
	dec     *opus.Decoder
	rate    int
	quantum int // 2.5 ms of samples: PLC and FEC work in multiples of it
}

// Decode implements Decoder. A payload may hold up to 120 ms of audio
// (RFC 6716 3.2.5); an empty payload is an error.
func (d *opusDecoder) Decode(payload []byte, pcm []int16) (int, error) {
	if len(payload) == 0 {
		return 0, errEmptyOpus
	}
	if len(pcm) == 0 {
		return 0, fmt.Errorf("opus decode into 0 samples: %w", io.ErrShortBuffer)
	}
	// hraban/opus decodes up to cap(pcm); bound it by len(pcm).
	n, err := d.dec.Decode(payload, pcm[:len(pcm):len(pcm)])
	if err != nil {
		if errors.Is(err, opus.ErrBufferTooSmall) {
			return 0, fmt.Errorf("opus decode into %d samples: %w", len(pcm), io.ErrShortBuffer)
		}
		return 0, fmt.Errorf("opus decode: %w", err)
	}
	return n, nil
}

// SampleRate implements Decoder.
func (d *opusDecoder) SampleRate() int { return d.rate }

// span returns the longest prefix of pcm that is a whole number of 2.5 ms.
func (d *opusDecoder) span(pcm []int16) ([]int16, error) {
	n := len(pcm) - len(pcm)%d.quantum
	if n == 0 {
		return nil, fmt.Errorf("opus: %d samples is less than 2.5 ms: %w", len(pcm), io.ErrShortBuffer)
	}
	return pcm[:n:n], nil
}

// Conceal implements Concealer with Opus PLC. It fills the longest prefix of
// pcm that is a whole number of 2.5 ms and returns its length.
func (d *opusDecoder) Conceal(pcm []int16) (int, error) {
	out, err := d.span(pcm)
	if err != nil {
		return 0, err
	}
	if err := d.dec.DecodePLC(out); err != nil {
		return 0, fmt.Errorf("opus PLC: %w", err)
	}
	return len(out), nil
}

// DecodeFEC implements FECDecoder: it recovers the audio just before next
// from next's in-band FEC (LBRR, RFC 6716 4.2.4), filling the longest prefix
// of pcm that is a whole number of 2.5 ms. Where next carries no FEC, or pcm
// is longer than its FEC frame, libopus conceals the rest with PLC.
func (d *opusDecoder) DecodeFEC(next []byte, pcm []int16) (int, error) {
	if len(next) == 0 {
		return d.Conceal(pcm)
	}
	out, err := d.span(pcm)
	if err != nil {
		return 0, err
	}
	if err := d.dec.DecodeFEC(next, out); err != nil {
		return 0, fmt.Errorf("opus FEC decode: %w", err)
	}
	return len(out), nil
}

var (
	_ Codec      = opusCodec{}
	_ Encoder    = (*opusEncoder)(nil)
	_ Decoder    = (*opusDecoder)(nil)
	_ Concealer  = (*opusDecoder)(nil)
	_ FECDecoder = (*opusDecoder)(nil)
)
