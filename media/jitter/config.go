package jitter

import "time"

// Config sizes a Buffer. The zero value of every field selects its default,
// so Config{} is a buffer for 8 kHz audio in 20 ms frames.
type Config struct {
	// ClockRate is the RTP clock rate in Hz (default 8000, at most 2^22).
	ClockRate int
	// FrameSamples is the duration of one frame, and of one packet, in
	// RTP clock units: one Pop plays this much (default ClockRate/50,
	// i.e. 20 ms; at most one second).
	FrameSamples int
	// MinDelay is the lowest target playout delay (default 0).
	MinDelay time.Duration
	// MaxDelay is the highest playout delay; the target never exceeds it
	// and frames that would be played later than this are dropped
	// (default 400 ms, at least MinDelay, at most 10 s).
	MaxDelay time.Duration
	// InitialDelay is the target used before the jitter is known; it is
	// a prior worth one packet in the histogram, so it fades within the
	// first ~20 packets (default MinDelay).
	InitialDelay time.Duration
	// Quantile is the fraction of packets that should arrive in time:
	// the target delay is this quantile of the relative delays
	// (default 0.95).
	Quantile float64
	// MaxPackets bounds the packets held at once (default enough for
	// twice MaxDelay plus 16, at most 4096). When full, the oldest packet
	// is dropped.
	MaxPackets int
	// MaxPayload is the largest payload accepted, in bytes; larger ones
	// are rejected (default 1500).
	MaxPayload int
	// MaxConceal is how many Missing results an underrun (nothing
	// buffered, cause unknown) yields before the buffer reports Empty and
	// treats the gap as silence (default 3, i.e. 60 ms of 20 ms frames).
	// Gaps known to be losses (a later packet is already buffered) are
	// always concealed in full.
	MaxConceal int
	// ComfortNoisePT is the payload type of comfort noise (RFC 3389 uses
	// 13 at 8 kHz). After a comfort-noise frame a gap is silence, never
	// loss. Zero disables this (payload type 0 is PCMU, never CN).
	ComfortNoisePT uint8
}

const (
	defaultClockRate  = 8000
	defaultMaxDelay   = 400 * time.Millisecond
	defaultQuantile   = 0.95
	defaultMaxPayload = 1500
	defaultMaxConceal = 3
	maxMaxDelay       = 10 * time.Second
	maxMaxPackets     = 4096
	maxClockRate      = 1 << 22
	// slotPrealloc is the payload capacity given to every slot up front;
	// a larger payload grows its slot once (bounded by MaxPayload).
	slotPrealloc = 256
)

// withDefaults returns c with every unset or out-of-range field replaced.
func (c Config) withDefaults() Config {
	if c.ClockRate <= 0 {
		c.ClockRate = defaultClockRate
	}
	if c.ClockRate > maxClockRate {
		c.ClockRate = maxClockRate
	}
	if c.FrameSamples <= 0 {
		c.FrameSamples = c.ClockRate / 50
		if c.FrameSamples <= 0 {
			c.FrameSamples = 1
		}
	}
	if c.FrameSamples > c.ClockRate {
		c.FrameSamples = c.ClockRate
	}
	if c.MinDelay < 0 {
		c.MinDelay = 0
	}
	if c.MinDelay > maxMaxDelay {
		c.MinDelay = maxMaxDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = defaultMaxDelay
	}
	if c.MaxDelay > maxMaxDelay {
		c.MaxDelay = maxMaxDelay
	}
	if c.MaxDelay < c.MinDelay {
		c.MaxDelay = c.MinDelay
	}
	if c.InitialDelay <= 0 {
		c.InitialDelay = c.MinDelay
	}
	if c.InitialDelay > c.MaxDelay {
		c.InitialDelay = c.MaxDelay
	}
	if !(c.Quantile > 0 && c.Quantile < 1) {
		c.Quantile = defaultQuantile
	}
	if c.MaxPackets <= 0 {
		frameDur := time.Duration(c.FrameSamples) * time.Second / time.Duration(c.ClockRate)
		if frameDur <= 0 {
			frameDur = time.Millisecond
		}
		c.MaxPackets = int(2*c.MaxDelay/frameDur) + 16
	}
	if c.MaxPackets > maxMaxPackets {
		c.MaxPackets = maxMaxPackets
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = defaultMaxPayload
	}
	if c.MaxConceal <= 0 {
		c.MaxConceal = defaultMaxConceal
	}
	return c
}
