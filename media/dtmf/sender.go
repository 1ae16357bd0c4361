package dtmf

import (
	"errors"
	"fmt"
	"time"
)

// DefaultInterval is the update interval a Sender uses when none is set:
// one event report every 50 ms (RFC 4733 §2.5.1.2).
const DefaultInterval = 50 * time.Millisecond

// DefaultVolume is the volume field a Sender reports when none is set:
// -10 dBm0, the level of a typical DTMF tone.
const DefaultVolume uint8 = 10

// finalCopies is how many times the final report of an event or of a
// segment is sent in all (RFC 4733 §2.5.1.4).
const finalCopies = 3

// maxEventUnits bounds an event's length so that send times fit in uint32.
const maxEventUnits = 1 << 31

// ErrDuration is returned by Sender.Start for a duration that is zero,
// negative or too long to express.
var ErrDuration = errors.New("dtmf: event duration out of range")

// SenderConfig configures a Sender.
type SenderConfig struct {
	// ClockRate is the RTP clock rate of the telephone-event payload type,
	// in Hz: 8000 for narrowband, 48000 alongside Opus.
	ClockRate int
	// Interval is the time between event reports; zero means
	// DefaultInterval (RFC 4733 §2.5.1.2).
	Interval time.Duration
	// Volume is the volume field of every report, 0-63 (-dBm0); zero means
	// DefaultVolume.
	Volume uint8
}

// Packet is one RTP packet of a telephone event, relative to the event: the
// caller adds its start time and RTP timestamp, and gives each packet its
// own, increasing, sequence number (RFC 4733 §2.5.1.6).
type Packet struct {
	// SendAt is when to send the packet, in RTP timestamp units after the
	// event began.
	SendAt uint32
	// Marker is the RTP marker bit: set on the first packet of an event
	// only (RFC 4733 §2.4.2).
	Marker bool
	// Timestamp is the packet's RTP timestamp minus the event's start
	// timestamp: 0 for every packet of the event, or the segment's start
	// for the segments of a long event (RFC 4733 §2.5.1.3).
	Timestamp uint32
	// Event is the payload.
	Event Event
}

// Sender turns one key press of known duration into the sequence of RFC
// 4733 packets that reports it (RFC 4733 §2.5.1):
//
//   - one report per interval, all with the event's start timestamp, the
//     first with the marker bit, the duration growing;
//   - a final report with the E bit and the whole duration when the event
//     ends, sent three times in all, one interval apart (§2.5.1.4);
//   - an event longer than MaxDuration timestamp units (8.19 s at 8 kHz,
//     1.37 s at 48 kHz) is cut into segments (§2.5.1.3): each segment's
//     final report carries MaxDuration without the E bit and is sent three
//     times, and the next segment starts at the timestamp where the last one
//     reached MaxDuration, its duration counted from there.
//
// A Sender is reused event after event; Next does not allocate. It is not
// safe for concurrent use.
type Sender struct {
	rate     int
	interval uint32
	volume   uint8

	code     uint8
	total    uint32 // event length in timestamp units
	segStart uint32 // start offset of the current segment
	prevSeg  uint32 // start offset of the segment whose final report is repeated
	segRetx  int    // copies of the previous segment's final report still to send
	endRetx  int    // copies of the final report still to send
	grid     uint32 // next regular update time
	lastAt   uint32
	sent     int
	active   bool
}

// NewSender returns a Sender for cfg.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.ClockRate <= 0 || cfg.ClockRate > 1_000_000 {
		return nil, fmt.Errorf("dtmf: sender clock rate %d Hz out of range", cfg.ClockRate)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Volume == 0 {
		cfg.Volume = DefaultVolume
	}
	if cfg.Volume > MaxVolume {
		return nil, fmt.Errorf("dtmf: sender volume %d: %w", cfg.Volume, ErrVolume)
	}
	units := durationUnits(cfg.Interval, cfg.ClockRate)
	if cfg.Interval < 0 || units == 0 || units > MaxDuration/4 {
		return nil, fmt.Errorf("dtmf: sender interval %v out of range at %d Hz", cfg.Interval, cfg.ClockRate)
	}
	return &Sender{rate: cfg.ClockRate, interval: uint32(units), volume: cfg.Volume}, nil
}

// durationUnits converts d to timestamp units at clockRate, rounding to
// the nearest unit; it returns 0 for d <= 0.
func durationUnits(d time.Duration, clockRate int) int64 {
	if d <= 0 {
		return 0
	}
	// Nanoseconds × rate would overflow int64 past 2.5 h at 1 MHz: split.
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*int64(clockRate) + (rem*int64(clockRate)+int64(time.Second)/2)/int64(time.Second)
}

// ClockRate returns the telephone-event clock rate the Sender counts in.
func (s *Sender) ClockRate() int { return s.rate }

// Start begins a new event: key code for the given duration. Any event in
// progress is abandoned.
func (s *Sender) Start(code uint8, duration time.Duration) error {
	units := durationUnits(duration, s.rate)
	if units <= 0 || units >= maxEventUnits {
		return fmt.Errorf("dtmf: start event of %v: %w", duration, ErrDuration)
	}
	return s.StartUnits(code, uint32(units))
}

// StartUnits is Start with the duration given in RTP timestamp units.
func (s *Sender) StartUnits(code uint8, units uint32) error {
	if units == 0 || units >= maxEventUnits {
		return fmt.Errorf("dtmf: start event of %d units: %w", units, ErrDuration)
	}
	*s = Sender{interval: s.interval, volume: s.volume, rate: s.rate}
	s.code = code
	s.total = units
	s.grid = s.interval
	s.active = true
	return nil
}

// Next returns the next packet of the event begun by Start, in sending
// order; ok is false once the event's last packet has been returned.
func (s *Sender) Next() (p Packet, ok bool) {
	if !s.active {
		return Packet{}, false
	}
	if s.endRetx > 0 {
		// RFC 4733 §2.5.1.4: repeat the final report, one interval apart.
		s.endRetx--
		s.lastAt += s.interval
		if s.endRetx == 0 {
			s.active = false
		}
		return s.packet(s.lastAt, s.segStart, uint16(s.total-s.segStart), true), true
	}
	// The next report is due at the next regular update or earlier, when
	// the event or the current segment ends.
	special, isEnd := s.total, true
	if s.total-s.segStart > MaxDuration {
		special, isEnd = s.segStart+MaxDuration, false
	}
	if special <= s.grid {
		if special == s.grid {
			s.grid += s.interval
		}
		s.lastAt = special
		if isEnd {
			s.segRetx = 0
			s.endRetx = finalCopies - 1
			return s.packet(special, s.segStart, uint16(s.total-s.segStart), true), true
		}
		// RFC 4733 §2.5.1.3: the segment reached the largest duration the
		// field holds; report it (E bit clear) and start the next segment
		// at this instant.
		s.prevSeg = s.segStart
		s.segStart = special
		s.segRetx = finalCopies - 1
		return s.packet(special, s.prevSeg, MaxDuration, false), true
	}
	at := s.grid
	s.grid += s.interval
	s.lastAt = at
	if s.segRetx > 0 {
		s.segRetx--
		return s.packet(at, s.prevSeg, MaxDuration, false), true
	}
	return s.packet(at, s.segStart, uint16(at-s.segStart), false), true
}

func (s *Sender) packet(at, ts uint32, dur uint16, end bool) Packet {
	s.sent++
	return Packet{
		SendAt:    at,
		Marker:    s.sent == 1,
		Timestamp: ts,
		Event:     Event{Code: s.code, End: end, Volume: s.volume, Duration: dur},
	}
}

// AppendPackets starts an event of key code lasting duration and appends
// all its packets to dst.
func (s *Sender) AppendPackets(dst []Packet, code uint8, duration time.Duration) ([]Packet, error) {
	if err := s.Start(code, duration); err != nil {
		return dst, err
	}
	for {
		p, ok := s.Next()
		if !ok {
			return dst, nil
		}
		dst = append(dst, p)
	}
}
