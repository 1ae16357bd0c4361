package rtcpstats

import "time"

// Snapshot is a plain copy of one leg's media quality, shaped for the
// per-call quality record (JSON lines). Fractions are 0..1, times in
// milliseconds. "Received" fields describe the stream we receive on the
// leg; "remote_" fields are what the peer reported about the stream we
// send.
type Snapshot struct {
	Codec      string `json:"codec"`
	LocalSSRC  uint32 `json:"local_ssrc"`
	RemoteSSRC uint32 `json:"remote_ssrc"`
	// RemoteCNAME is the peer's SDES CNAME, if it sent one.
	RemoteCNAME string `json:"remote_cname,omitempty"`

	PacketsReceived   uint64  `json:"packets_received"`
	OctetsReceived    uint64  `json:"octets_received"`
	PacketsExpected   uint64  `json:"packets_expected"`
	PacketsLost       int64   `json:"packets_lost"`
	PacketsDuplicated uint64  `json:"packets_duplicated"`
	PacketsDiscarded  uint64  `json:"packets_discarded"`
	FractionLost      float64 `json:"fraction_lost"` // last RTCP interval
	LossRate          float64 `json:"loss_rate"`     // whole stream
	JitterMs          float64 `json:"jitter_ms"`
	MaxJitterMs       float64 `json:"max_jitter_ms"`

	RTTMs      float64 `json:"rtt_ms"` // last measured; 0 when RTTSamples is 0
	MinRTTMs   float64 `json:"min_rtt_ms"`
	MaxRTTMs   float64 `json:"max_rtt_ms"`
	MeanRTTMs  float64 `json:"mean_rtt_ms"`
	RTTSamples int     `json:"rtt_samples"`

	BurstDensity    float64 `json:"burst_density"`
	GapDensity      float64 `json:"gap_density"`
	BurstDurationMs float64 `json:"burst_duration_ms"`
	GapDurationMs   float64 `json:"gap_duration_ms"`
	Bursts          uint64  `json:"bursts"`
	BurstR          float64 `json:"burst_r"`

	PacketsSent uint64 `json:"packets_sent"`
	OctetsSent  uint64 `json:"octets_sent"`

	// OneWayDelayMs is the mouth-to-ear delay the E-model used: RTT/2 plus
	// the end-system delay.
	OneWayDelayMs float64 `json:"one_way_delay_ms"`
	// RFactor and MOS are the conversational G.107 rating of the received
	// stream, MOSLQ its listening-only MOS; all 0 before media arrived.
	RFactor float64 `json:"r_factor"`
	MOS     float64 `json:"mos"`
	MOSLQ   float64 `json:"mos_lq"`

	RemoteFractionLost float64 `json:"remote_fraction_lost"`
	RemotePacketsLost  int64   `json:"remote_packets_lost"`
	RemoteJitterMs     float64 `json:"remote_jitter_ms"`
	// RemoteRFactor and RemoteMOS come from the peer's XR VoIP Metrics
	// block, when it sends one and the value is available.
	RemoteRFactor float64 `json:"remote_r_factor,omitempty"`
	RemoteMOS     float64 `json:"remote_mos,omitempty"`

	ByeReceived bool   `json:"bye_received"`
	ByeReason   string `json:"bye_reason,omitempty"`
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
