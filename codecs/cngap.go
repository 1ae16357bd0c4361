package codecs

// Telling a DTX pause from packet loss on the receive side.
//
// With discontinuous transmission (RFC 3551 4.1, RFC 3389 4) a sender stops
// sending during silence: the next packet's RTP sequence number follows on
// (nothing was lost) while its timestamp jumps by the length of the pause.
// A lost packet leaves a hole in the sequence numbers (RFC 3550 5.1). The
// receiver must fill the first with comfort noise and the second with
// packet loss concealment.

import "strconv"

// GapKind says what lies between two consecutive received RTP packets.
type GapKind int

const (
	// GapNone: the packets are adjacent, or the new one is a duplicate
	// or arrived out of order (no forward gap).
	GapNone GapKind = iota
	// GapLoss: sequence numbers are missing; packets were lost.
	GapLoss
	// GapDTX: no sequence number is missing but the timestamp advanced by
	// more than one frame; the sender paused (silence suppression).
	GapDTX
)

// String returns the name of k.
func (k GapKind) String() string {
	switch k {
	case GapNone:
		return "none"
	case GapLoss:
		return "loss"
	case GapDTX:
		return "dtx"
	}
	return "GapKind(" + strconv.Itoa(int(k)) + ")"
}

// ClassifyGap compares a packet (seq, ts) with the previous one received
// (prevSeq, prevTS), whose payload lasted samplesPerFrame timestamp units.
// Sequence numbers and timestamps wrap (RFC 3550 5.1): a difference of
// 2^15 or more sequence numbers, or of 2^31 or more timestamp units, counts
// as backwards. A missing sequence number means loss even if the timestamp
// also jumped (packets were lost around a pause). With samplesPerFrame 0
// (unknown) a DTX pause cannot be recognised and GapNone is returned for
// consecutive sequence numbers.
func ClassifyGap(prevSeq uint16, prevTS uint32, seq uint16, ts uint32, samplesPerFrame uint32) GapKind {
	ds := seq - prevSeq
	switch {
	case ds == 0 || ds >= 0x8000:
		return GapNone
	case ds > 1:
		return GapLoss
	}
	dt := int32(ts - prevTS)
	if samplesPerFrame > 0 && samplesPerFrame < 1<<31 && dt > int32(samplesPerFrame) {
		return GapDTX
	}
	return GapNone
}
