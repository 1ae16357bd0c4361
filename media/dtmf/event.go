package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PayloadSize is the size in bytes of one RFC 4733 event report.
const PayloadSize = 4

// MaxVolume is the largest value of the 6-bit volume field (RFC 4733 §2.3.4).
const MaxVolume = 63

// MaxDuration is the largest duration one event report can carry, in RTP
// timestamp units (RFC 4733 §2.3.5). Longer events are sent in segments
// (RFC 4733 §2.5.1.3).
const MaxDuration = 0xFFFF

// ErrShortPayload is returned by Event.Unmarshal for payloads shorter than
// PayloadSize and by Event.Marshal for destinations shorter than PayloadSize.
var ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")

// ErrVolume is returned by Event.Marshal when Volume exceeds MaxVolume.
var ErrVolume = errors.New("dtmf: volume exceeds 63")

// Event is one RFC 4733 telephone-event report (RFC 4733 §2.3, Figure 1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code; 0-16 are DTMF keys and flash (RFC 4733 §3.2).
	Code uint8
	// End is the E bit: this report is the final one of the event
	// (RFC 4733 §2.3.2).
	End bool
	// Volume is the power level of the tone as a positive number of dB
	// below 0 dBm0, 0-63 (RFC 4733 §2.3.4).
	Volume uint8
	// Duration is the time since the event (or segment) began, in RTP
	// timestamp units (RFC 4733 §2.3.5).
	Duration uint16
}

// Marshal writes e into the first PayloadSize bytes of dst and returns
// PayloadSize. The reserved R bit is written as zero (RFC 4733 §2.3.3).
func (e Event) Marshal(dst []byte) (int, error) {
	if len(dst) < PayloadSize {
		return 0, fmt.Errorf("marshal into %d bytes: %w", len(dst), ErrShortPayload)
	}
	if e.Volume > MaxVolume {
		return 0, fmt.Errorf("marshal volume %d: %w", e.Volume, ErrVolume)
	}
	dst[0] = e.Code
	b := e.Volume
	if e.End {
		b |= 0x80
	}
	dst[1] = b
	binary.BigEndian.PutUint16(dst[2:4], e.Duration)
	return PayloadSize, nil
}

// Unmarshal decodes the event report at the start of b. The R bit is
// ignored, as RFC 4733 §2.3.3 requires of receivers. Bytes after the first
// PayloadSize are ignored: RFC 4733 §2.5.1.5 allows several reports in one
// packet, and a receiver that tracks one event at a time reads the first.
func (e *Event) Unmarshal(b []byte) error {
	if len(b) < PayloadSize {
		return fmt.Errorf("unmarshal %d bytes: %w", len(b), ErrShortPayload)
	}
	e.Code = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(b[2:4])
	return nil
}

// Key returns the DTMF key of e.Code; ok is false for codes that are not
// DTMF events.
func (e Event) Key() (key byte, ok bool) {
	return CodeToKey(e.Code)
}
