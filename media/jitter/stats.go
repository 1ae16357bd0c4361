package jitter

import "time"

// Stats is a snapshot of a Buffer's state and counters. Packet counters
// count Push calls; result counters count Pop calls.
type Stats struct {
	// Delay is the playout delay at the latest Pop: how long after the
	// earliest possible arrival (that of the fastest recent packet) the
	// frame is played.
	Delay time.Duration
	// TargetDelay is the delay the buffer is steering towards: the
	// configured quantile of recent relative delays, within
	// [MinDelay, MaxDelay].
	TargetDelay time.Duration
	// Buffered is the number of packets held.
	Buffered int

	// Received counts Push calls.
	Received uint64
	// Lost counts packets never received: expected (from the extended
	// highest sequence number) minus received, as in RFC 3550 A.3 but
	// counting each sequence number once. Silence (DTX) is not loss.
	Lost uint64
	// Late counts packets discarded because their playout time had
	// passed or they were too old to place.
	Late uint64
	// Reordered counts packets that arrived after a higher sequence
	// number (and were not duplicates).
	Reordered uint64
	// Duplicates counts packets discarded as already received.
	Duplicates uint64
	// Overflow counts packets dropped because the buffer was full.
	Overflow uint64
	// Rejected counts packets whose payload exceeded MaxPayload.
	Rejected uint64
	// Strays counts packets held as a possible new stream and then
	// discarded unconfirmed.
	Strays uint64
	// Accelerated counts buffered frames dropped to shorten the delay.
	Accelerated uint64
	// SSRCResets counts switches to a new SSRC.
	SSRCResets uint64
	// Resyncs counts sequence or timestamp jumps of the same SSRC that
	// restarted the stream mapping.
	Resyncs uint64

	// Frames counts Pop results of Kind Frame.
	Frames uint64
	// Concealed counts Pop results of Kind Missing (concealment events).
	Concealed uint64
	// Expanded counts Pop results of Kind Expand.
	Expanded uint64
	// Empty counts Pop results of Kind Empty.
	Empty uint64
	// ExpandRate is the share of concealed output (Missing and Expand)
	// among all audio output (Frame, Missing and Expand).
	ExpandRate float64
}

// Stats returns a snapshot of the buffer's counters.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	s.Delay = b.samplesDur(b.delay)
	s.TargetDelay = b.samplesDur(b.target)
	s.Buffered = b.count
	if b.started {
		expected := b.highSeq - b.firstSeq + 1
		if lost := expected - int64(b.unique); lost > 0 {
			s.Lost = uint64(lost)
		}
	}
	if out := s.Frames + s.Concealed + s.Expanded; out > 0 {
		s.ExpandRate = float64(s.Concealed+s.Expanded) / float64(out)
	}
	return s
}
