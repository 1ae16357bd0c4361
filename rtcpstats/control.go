package rtcpstats

import "time"

// SetSSRC changes the local SSRC: the one our reports carry and the one
// the peer's report blocks and DLRR sub-blocks are matched against. The
// endpoint calls it when the RTP it sends on the leg carries a new SSRC.
func (s *Session) SetSSRC(ssrc uint32) {
	s.mu.Lock()
	s.cfg.SSRC = ssrc
	s.mu.Unlock()
}

// SSRC returns the local SSRC.
func (s *Session) SSRC() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.SSRC
}

// SetXR turns the RTCP XR blocks of ReportPackets on or off (RFC 3611
// §5.1: when the peer's SDP carries a=rtcp-xr).
func (s *Session) SetXR(on bool) {
	s.mu.Lock()
	s.cfg.XR = on
	s.mu.Unlock()
}

// SetCodec changes the codec the E-model rates and the snapshot names
// (a re-INVITE to another codec of the same clock rate). A codec with
// another clock rate needs a new Session: the Receiver's jitter is kept in
// timestamp units.
func (s *Session) SetCodec(codec string, ptime time.Duration) {
	imp, _ := CodecImpairment(codec, !s.cfg.NoPLC)
	s.mu.Lock()
	s.cfg.Codec = codec
	if ptime > 0 {
		s.cfg.PacketDuration = ptime
	}
	s.imp = imp
	s.mu.Unlock()
}

// ClockRate returns the RTP clock rate the session was created with.
func (s *Session) ClockRate() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.ClockRate
}

// PlayoutStats is what the receive path after the socket (the jitter
// buffer and decoder of the processing path) reports about the received
// stream, for the quality record. The relay path has no playout and leaves
// it zero.
type PlayoutStats struct {
	// Late counts packets that arrived too late to be played.
	Late uint64
	// Reordered counts packets that arrived after a higher sequence
	// number.
	Reordered uint64
	// Delay is the jitter buffer's playout delay: the processing path
	// reports its mean over the call so far.
	Delay time.Duration
	// MaxDelay is the largest playout delay seen.
	MaxDelay time.Duration
	// Concealed is the audio time produced by loss concealment.
	Concealed time.Duration
}

// SetPlayoutStats replaces the playout statistics (the processing path
// calls it as often as it likes, at least once before the call's record is
// taken).
func (s *Session) SetPlayoutStats(p PlayoutStats) {
	s.mu.Lock()
	s.playoutStats = p
	s.mu.Unlock()
}
