package media

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// outStream is the sending side of one direction of a bridge: it gives the
// outgoing packets their own SSRC and sequence/timestamp space so that the
// receiver sees one continuous stream whatever happens upstream (RFC 3550
// §8.2 and RFC 7667 §3.2.1.2 describe the translator's duty). It is owned by
// the goroutine that currently feeds the direction and is not locked.
type outStream struct {
	ssrc uint32

	started bool
	inSSRC  uint32
	inSeq   uint16
	inTS    uint32
	inWall  int64 // arrival time (ns) of the packet that set inSeq/inTS

	seqOff uint16 // out seq = in seq + seqOff
	tsOff  uint32 // out ts  = in ts  + tsOff

	outSeq uint16 // highest sequence number sent
	outTS  uint32 // timestamp of the packet that set outSeq

}

func newOutStream() outStream {
	return outStream{ssrc: rand.Uint32()}
}

// rewrite maps the header of pkt (parsed as h) into the outgoing stream:
// SSRC, sequence number, timestamp and payload type are rewritten in place,
// and the marker bit is set on the first packet after a source change.
// clock is the RTP clock rate of the outgoing payload type and now the
// arrival time in nanoseconds. It reports whether the packet starts a new
// source (the first packet of the stream does not count).
//
// A source change is a new SSRC, a sequence jump beyond RFC 3550 A.1's
// MAX_DROPOUT/MAX_MISORDER, or a timestamp that runs ahead of the wall clock
// by more than a second (or back by more than a second). On a change the
// output continues at outSeq+1 and the timestamp advances by the wall time
// elapsed since the previous packet, in clock units.
func (s *outStream) rewrite(pkt []byte, h *rtp.Header, pt uint8, clock int, now int64) (changed bool) {
	if clock <= 0 {
		clock = defaultClock
	}
	switch {
	case !s.started:
		// RFC 3550 §5.1: random initial sequence number and timestamp.
		s.started = true
		s.restart(h, rand.N[uint16](1<<15), rand.Uint32(), now)
		pkt[1] |= 0x80
	case h.SSRC != s.inSSRC || s.jumped(h, clock, now):
		changed = true
		elapsed := max(now-s.inWall, 0)
		units := uint32(elapsed * int64(clock) / int64(time.Second))
		s.restart(h, s.outSeq+1, s.outTS+units, now)
		pkt[1] |= 0x80
	default:
		if d := int16(h.Seq - s.inSeq); d > 0 {
			s.inSeq, s.inTS, s.inWall = h.Seq, h.TS, now
			s.outSeq, s.outTS = h.Seq+s.seqOff, h.TS+s.tsOff
		}
	}
	pkt[1] = pkt[1]&0x80 | pt&0x7f
	binary.BigEndian.PutUint16(pkt[2:], h.Seq+s.seqOff)
	binary.BigEndian.PutUint32(pkt[4:], h.TS+s.tsOff)
	binary.BigEndian.PutUint32(pkt[8:], s.ssrc)
	return changed
}

// restart anchors the offsets so that packet h goes out as (seq, ts).
func (s *outStream) restart(h *rtp.Header, seq uint16, ts uint32, now int64) {
	s.inSSRC, s.inSeq, s.inTS, s.inWall = h.SSRC, h.Seq, h.TS, now
	s.seqOff = seq - h.Seq
	s.tsOff = ts - h.TS
	s.outSeq, s.outTS = seq, ts
}

// jumped reports whether h breaks the sequence or timestamp continuity of
// the current source. A timestamp that advances about as fast as the wall
// clock (silence suppression) or slower (a burst after a network stall) is
// not a jump.
func (s *outStream) jumped(h *rtp.Header, clock int, now int64) bool {
	if rtp.Jumped(s.inSeq, h.Seq) { // RFC 3550 A.1
		return true
	}
	tol := int64(clock) // one second of media
	tsDelta := int64(int32(h.TS - s.inTS))
	wall := max(now-s.inWall, 0) * int64(clock) / int64(time.Second)
	return tsDelta > wall+tol || tsDelta < -tol
}
