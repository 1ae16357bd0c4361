package dtmf

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// continuationMin is the smallest segment length this receiver accepts as
// the end of a segment when the next segment does not start exactly
// MaxDuration after it: senders that cut segments on their update grid
// (e.g. 65200 units at 8 kHz with 50 ms updates) are still recognised.
const continuationMin = 0xF000

// restartGap is how far back, in timestamp units, a packet with a newer
// sequence number must jump for the receiver to take it as a restarted
// timestamp clock rather than a late packet. It exceeds the distance of a
// repeated segment-end report (MaxDuration) with room to spare.
const restartGap = 0x30000

// Report is a key press or release decoded from RFC 4733 packets.
type Report struct {
	// Edge is Press or Release.
	Edge Edge
	// Code is the RFC 4733 event code.
	Code uint8
	// Key is the DTMF key of Code, or 0 if Code is not a DTMF event.
	Key byte
	// Timestamp is the RTP timestamp at which the event began (of its first
	// segment, for a long event).
	Timestamp uint32
	// Duration is in RTP timestamp units: for a Press, the duration of the
	// first report received; for a Release, the event's whole duration,
	// summed over its segments.
	Duration uint32
	// Volume is the volume field of the latest report (-dBm0).
	Volume uint8
	// Inferred is set on a Release whose end report never arrived: the
	// event ended because a new event began, or by Flush.
	Inferred bool
}

// Time converts r.Duration to a time at the given RTP clock rate.
func (r Report) Time(clockRate int) time.Duration {
	if clockRate <= 0 {
		return 0
	}
	return time.Duration(int64(r.Duration) * int64(time.Second) / int64(clockRate))
}

// Receiver turns the telephone-event packets of one RTP stream into key
// presses and releases (RFC 4733 §2.5.2). An event is identified by its RTP
// timestamp, which all its reports share (RFC 4733 §2.4.1):
//
//   - each event gives one Press and one Release, however many of its
//     reports arrive, are repeated or are lost; repeated end reports
//     (§2.5.1.4) are reported once;
//   - the first report that arrives starts the event, whether or not it is
//     the one with the marker bit;
//   - reports older than the newest event (by RTP timestamp) are late and
//     ignored; within an event the longest duration wins;
//   - an event whose end reports are all lost ends, Inferred, when a report
//     with a new timestamp arrives, or on Flush;
//   - a report with the same code whose timestamp is exactly MaxDuration
//     after the current segment's continues a long event (§2.5.1.3): the
//     Release carries the sum of the segments.
//
// The slices Push and Flush return are reused by the next call. A Receiver
// is not safe for concurrent use; its steady state does not allocate.
type Receiver struct {
	active   bool // an event is between Press and Release
	seen     bool // lastTS and maxSeq hold a packet
	code     uint8
	volume   uint8
	startTS  uint32 // timestamp of the event's first segment
	segTS    uint32 // timestamp of the current segment
	segDur   uint32 // longest duration reported in the current segment
	before   uint32 // length of the event's previous segments
	lastTS   uint32 // newest event or segment timestamp
	maxSeq   uint16
	out      []Report
	outStore [3]Report
}

// NewReceiver returns a Receiver with no event in progress.
func NewReceiver() *Receiver {
	r := &Receiver{}
	r.out = r.outStore[:0]
	return r
}

// Reset forgets all state, as for a new RTP stream (a new SSRC).
func (r *Receiver) Reset() {
	*r = Receiver{}
	r.out = r.outStore[:0]
}

// Push processes one telephone-event packet: its RTP header h (of which
// it reads the sequence number and timestamp) and payload. It returns the presses and releases the packet
// caused, in order: at most a Release of the previous event, then a Press
// and a Release of a new one.
func (r *Receiver) Push(h rtp.Header, payload []byte) ([]Report, error) {
	seq, ts := h.Seq, h.TS
	var ev Event
	if err := ev.Unmarshal(payload); err != nil {
		return r.out[:0], fmt.Errorf("dtmf: receive seq %d: %w", seq, err)
	}
	r.out = r.out[:0]
	if !r.seen {
		r.seen = true
		r.maxSeq = seq
		r.begin(ts, ev)
		return r.out, nil
	}
	newerSeq := int16(seq-r.maxSeq) > 0
	if newerSeq {
		r.maxSeq = seq
	}
	d := int32(ts - r.lastTS)
	switch {
	case d < 0:
		if newerSeq && -int64(d) > restartGap {
			// The sender's timestamp clock jumped back: a new stream.
			r.release(true)
			r.begin(ts, ev)
		}
		// Otherwise a late report of an earlier event or segment.
	case d == 0:
		switch {
		case r.active && ev.Code == r.code:
			r.update(ev)
		case r.active:
			// A different event with the same timestamp: end the old one.
			r.release(true)
			r.begin(ts, ev)
		}
		// Not active: a repeated end report or a late update of an event
		// already released.
	default:
		if r.active && ev.Code == r.code && r.continues(ts) {
			// RFC 4733 §2.5.2.3: the next segment of a long event.
			r.before += ts - r.segTS
			r.segTS = ts
			r.lastTS = ts
			r.segDur = 0
			r.update(ev)
			break
		}
		r.release(true)
		r.begin(ts, ev)
	}
	return r.out, nil
}

// Flush ends the event in progress, if any, as if its end report had
// arrived with the longest duration seen. Call it when the stream stops, or
// when no report has arrived for a while: RFC 4733 leaves that timeout to the
// receiver, and a Receiver has no clock of its own.
func (r *Receiver) Flush() []Report {
	r.out = r.out[:0]
	r.release(true)
	return r.out
}

// continues reports whether a segment starting at ts continues the current
// event (RFC 4733 §2.5.1.3): it starts MaxDuration after the current
// segment, or where a segment of at least continuationMin units ended.
func (r *Receiver) continues(ts uint32) bool {
	delta := ts - r.segTS
	return delta == MaxDuration || (r.segDur >= continuationMin && delta == r.segDur)
}

func (r *Receiver) begin(ts uint32, ev Event) {
	r.active = true
	r.code = ev.Code
	r.volume = ev.Volume
	r.startTS = ts
	r.segTS = ts
	r.lastTS = ts
	r.before = 0
	r.segDur = uint32(ev.Duration)
	key, _ := CodeToKey(ev.Code)
	r.out = append(r.out, Report{
		Edge: Press, Code: ev.Code, Key: key, Timestamp: ts,
		Duration: uint32(ev.Duration), Volume: ev.Volume,
	})
	if ev.End {
		r.release(false)
	}
}

func (r *Receiver) update(ev Event) {
	if uint32(ev.Duration) > r.segDur {
		r.segDur = uint32(ev.Duration)
	}
	r.volume = ev.Volume
	if ev.End {
		r.release(false)
	}
}

func (r *Receiver) release(inferred bool) {
	if !r.active {
		return
	}
	r.active = false
	key, _ := CodeToKey(r.code)
	r.out = append(r.out, Report{
		Edge: Release, Code: r.code, Key: key, Timestamp: r.startTS,
		Duration: r.before + r.segDur, Volume: r.volume, Inferred: inferred,
	})
}
