package rtcpstats

import "time"

// Snapshot is a plain copy of one leg's media quality, shaped for the
// per-call quality record (JSON lines). Fractions are 0..1, times in
// milliseconds. "Received" fields describe the stream we receive on the
// leg; "remote_" fields are what the peer reported about the stream we
// send.
type Snapshot struct {
	// Codec is the leg's SDP encoding name.
	Codec string `json:"codec"`
	// LocalSSRC is our SSRC on the leg.
	LocalSSRC uint32 `json:"local_ssrc"`
	// RemoteSSRC is the SSRC of the stream we receive.
	RemoteSSRC uint32 `json:"remote_ssrc"`
	// RemoteCNAME is the peer's SDES CNAME, if it sent one.
	RemoteCNAME string `json:"remote_cname,omitempty"`

	// PacketsReceived counts valid received packets, duplicates included.
	PacketsReceived uint64 `json:"packets_received"`
	// OctetsReceived counts received payload octets.
	OctetsReceived uint64 `json:"octets_received"`
	// PacketsExpected is the number of packets the sequence numbers span.
	PacketsExpected uint64 `json:"packets_expected"`
	// PacketsLost is expected minus received (RFC 3550 A.3; negative with
	// duplicates).
	PacketsLost int64 `json:"packets_lost"`
	// PacketsDuplicated counts packets received more than once.
	PacketsDuplicated uint64 `json:"packets_duplicated"`
	// PacketsDiscarded counts packets the jitter buffer discarded.
	PacketsDiscarded uint64 `json:"packets_discarded"`
	// FractionLost is the fraction lost in the last RTCP interval.
	FractionLost float64 `json:"fraction_lost"`
	// LossRate is the fraction lost over the whole stream.
	LossRate float64 `json:"loss_rate"`
	// JitterMs is the RFC 3550 A.8 interarrival jitter.
	JitterMs float64 `json:"jitter_ms"`
	// MaxJitterMs is the largest jitter estimate seen.
	MaxJitterMs float64 `json:"max_jitter_ms"`

	// RTTMs is the last round-trip time measured; 0 when RTTSamples is 0.
	RTTMs float64 `json:"rtt_ms"`
	// MinRTTMs is the smallest round-trip time measured.
	MinRTTMs float64 `json:"min_rtt_ms"`
	// MaxRTTMs is the largest round-trip time measured.
	MaxRTTMs float64 `json:"max_rtt_ms"`
	// MeanRTTMs is the mean of the round-trip times measured.
	MeanRTTMs float64 `json:"mean_rtt_ms"`
	// RTTSamples counts round-trip measurements (SR/RR and DLRR).
	RTTSamples int `json:"rtt_samples"`

	// BurstDensity is the fraction lost or discarded within bursts
	// (RFC 3611 §4.7.2).
	BurstDensity float64 `json:"burst_density"`
	// GapDensity is the fraction lost or discarded within gaps.
	GapDensity float64 `json:"gap_density"`
	// BurstDurationMs is the mean burst duration.
	BurstDurationMs float64 `json:"burst_duration_ms"`
	// GapDurationMs is the mean gap duration.
	GapDurationMs float64 `json:"gap_duration_ms"`
	// Bursts counts bursts.
	Bursts uint64 `json:"bursts"`
	// BurstR is the G.107 burst ratio (1 for random loss).
	BurstR float64 `json:"burst_r"`

	// PacketsSent counts RTP packets we sent on the leg.
	PacketsSent uint64 `json:"packets_sent"`
	// OctetsSent counts payload octets we sent.
	OctetsSent uint64 `json:"octets_sent"`

	// OneWayDelayMs is the mouth-to-ear delay the E-model used: RTT/2 plus
	// the end-system delay.
	OneWayDelayMs float64 `json:"one_way_delay_ms"`
	// RFactor is the conversational G.107 rating of the received stream;
	// 0 before media arrived.
	RFactor float64 `json:"r_factor"`
	// MOS is the conversational MOS (G.107 Annex B) from RFactor.
	MOS float64 `json:"mos"`
	// MOSLQ is the listening-only MOS (no delay impairment).
	MOSLQ float64 `json:"mos_lq"`

	// RemoteFractionLost is the fraction lost the peer last reported for
	// our stream.
	RemoteFractionLost float64 `json:"remote_fraction_lost"`
	// RemotePacketsLost is the cumulative loss the peer reported.
	RemotePacketsLost int64 `json:"remote_packets_lost"`
	// RemoteJitterMs is the jitter the peer reported.
	RemoteJitterMs float64 `json:"remote_jitter_ms"`
	// RemoteRFactor is the R factor of the peer's XR VoIP Metrics block,
	// when it sends one with the value available.
	RemoteRFactor float64 `json:"remote_r_factor,omitempty"`
	// RemoteMOS is the MOS-CQ of the peer's XR VoIP Metrics block.
	RemoteMOS float64 `json:"remote_mos,omitempty"`

	// ByeReceived tells that the peer sent an RTCP BYE.
	ByeReceived bool `json:"bye_received"`
	// ByeReason is the reason text of that BYE.
	ByeReason string `json:"bye_reason,omitempty"`
}

// Snapshot returns a consistent copy of the session's statistics, with
// the E-model rating of the received stream. It does not change any
// reporting interval, so it can be taken at any time from any goroutine.
func (s *Session) Snapshot() Snapshot {
	rs := s.recv.Stats()
	ss := s.send.Stats()

	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		Codec:             s.cfg.Codec,
		LocalSSRC:         s.cfg.SSRC,
		RemoteSSRC:        rs.SSRC,
		RemoteCNAME:       s.remoteCNAME,
		PacketsReceived:   rs.PacketsReceived,
		OctetsReceived:    rs.OctetsReceived,
		PacketsExpected:   rs.PacketsExpected,
		PacketsLost:       rs.PacketsLost,
		PacketsDuplicated: rs.Duplicates,
		PacketsDiscarded:  rs.Discarded,
		FractionLost:      rs.FractionLost,
		JitterMs:          ms(rs.JitterDuration),
		MaxJitterMs:       ms(rs.MaxJitterDuration),
		RTTSamples:        s.rttN,
		BurstDensity:      rs.Burst.BurstDensity,
		GapDensity:        rs.Burst.GapDensity,
		BurstDurationMs:   ms(rs.Burst.BurstDuration),
		GapDurationMs:     ms(rs.Burst.GapDuration),
		Bursts:            rs.Burst.Bursts,
		BurstR:            rs.Burst.BurstR,
		PacketsSent:       ss.PacketsSent,
		OctetsSent:        ss.OctetsSent,
		ByeReceived:       s.bye,
		ByeReason:         s.byeReason,
	}
	if rs.SSRC == 0 && s.remoteSSRC != 0 {
		snap.RemoteSSRC = s.remoteSSRC
	}
	if rs.PacketsExpected > 0 {
		snap.LossRate = float64(max(rs.PacketsLost, 0)) / float64(rs.PacketsExpected)
	}
	var rtt time.Duration
	if s.rttN > 0 {
		rtt = s.rtt
		snap.RTTMs = ms(s.rtt)
		snap.MinRTTMs = ms(s.rttMin)
		snap.MaxRTTMs = ms(s.rttMax)
		snap.MeanRTTMs = ms(s.rttSum / time.Duration(s.rttN))
	}
	if rs.PacketsReceived > 0 {
		cq, lq, oneWay := s.quality(rs, rtt, s.playout)
		snap.OneWayDelayMs = ms(oneWay)
		snap.RFactor = cq.R
		snap.MOS = cq.MOS
		snap.MOSLQ = lq.MOS
	}
	if s.haveRemote {
		b := s.remoteBlock
		snap.RemoteFractionLost = float64(b.FractionLost) / 256
		snap.RemotePacketsLost = signed24(b.TotalLost)
		snap.RemoteJitterMs = float64(b.Jitter) * 1000 / float64(s.cfg.ClockRate)
	}
	if s.haveRemoteVoIP {
		if r := s.remoteVoIP.RFactor; r <= 100 {
			snap.RemoteRFactor = float64(r)
		}
		snap.RemoteMOS = s.remoteVoIP.MOSCQ
	}
	return snap
}

// signed24 sign-extends the 24-bit cumulative lost field (RFC 3550 §6.4.1).
func signed24(v uint32) int64 {
	v &= 0xFFFFFF
	if v&0x800000 != 0 {
		return int64(v) - 0x1000000
	}
	return int64(v)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
