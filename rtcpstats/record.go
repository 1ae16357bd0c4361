package rtcpstats

import "math"

// CallQuality is the quality record of one call: one entry per leg with
// media. It is written inside the call's CDR (cdr.Record.Quality), so
// each call has exactly one record. Times are milliseconds, fractions
// 0..1.
type CallQuality struct {
	// Legs holds the legs in call order: "a" (caller), then "b".
	Legs []LegQuality `json:"legs"`
}

// LegQuality is one leg's media quality in both directions: what
// Switchboard received from the leg's peer, measured here (Received), and
// what it sent to the peer, as the peer's RTCP reported it (Sent).
type LegQuality struct {
	// Leg names the leg ("a", "b").
	Leg string `json:"leg"`
	// Codec is the leg's SDP encoding name; PtimeMs its packet duration.
	Codec   string  `json:"codec"`
	PtimeMs float64 `json:"ptime_ms"`
	// LocalAddr is Switchboard's RTP address on the leg, RemoteAddr the
	// peer's (host:port; empty when not known).
	LocalAddr  string `json:"local_addr,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	// LocalSSRC is our SSRC towards the peer; RemoteSSRC the peer's.
	LocalSSRC  uint32 `json:"local_ssrc"`
	RemoteSSRC uint32 `json:"remote_ssrc"`
	// RemoteCNAME is the peer's SDES CNAME, if it sent one.
	RemoteCNAME string `json:"remote_cname,omitempty"`
	// RTTMs is the last round-trip time from the peer's reports
	// (LSR/DLSR, RFC 3550 §6.4.1, or DLRR, RFC 3611 §4.5); MaxRTTMs the
	// largest; RTTSamples how many were measured (0: RTT unknown).
	RTTMs      float64 `json:"rtt_ms"`
	MaxRTTMs   float64 `json:"max_rtt_ms"`
	RTTSamples int     `json:"rtt_samples"`
	// RTCPSent, RTCPReceived and RTCPErrors count our compound reports,
	// the peer's RTCP datagrams and those that did not parse;
	// RTCPRejected counts RTCP from hosts other than the peer's.
	RTCPSent     uint64 `json:"rtcp_sent"`
	RTCPReceived uint64 `json:"rtcp_received"`
	RTCPErrors   uint64 `json:"rtcp_errors"`
	RTCPRejected uint64 `json:"rtcp_rejected"`
	// ByeReceived tells that the peer sent an RTCP BYE.
	ByeReceived bool `json:"bye_received"`

	Received ReceivedQuality `json:"received"`
	Sent     SentQuality     `json:"sent"`
}

// ReceivedQuality is Switchboard's own measurement of the stream it
// receives on a leg, rated with the E-model (ITU-T G.107).
type ReceivedQuality struct {
	// Packets counts valid packets received, duplicates included.
	Packets uint64 `json:"packets"`
	// Expected is the number of packets the sequence numbers span.
	Expected uint64 `json:"expected"`
	// Lost is expected minus received (RFC 3550 A.3), LossRate Lost over
	// Expected.
	Lost     int64   `json:"lost"`
	LossRate float64 `json:"loss_rate"`
	// Late, Reordered, Discarded and Duplicates count packets that arrived
	// too late to play, out of order, dropped by the jitter buffer, and
	// more than once. Late and Reordered come from the processing path
	// (PlayoutStats) and are 0 on a relayed leg.
	Late       uint64 `json:"late"`
	Reordered  uint64 `json:"reordered"`
	Discarded  uint64 `json:"discarded"`
	Duplicates uint64 `json:"duplicates"`
	// JitterMeanMs is the RFC 3550 A.8 interarrival jitter averaged over
	// the RTCP reports (and the end of the call); JitterMaxMs the largest
	// estimate.
	JitterMeanMs float64 `json:"jitter_mean_ms"`
	JitterMaxMs  float64 `json:"jitter_max_ms"`
	// JitterBufferMs and JitterBufferMaxMs are the playout delay of the
	// processing path's jitter buffer; ConcealedMs the audio it concealed.
	JitterBufferMs    float64 `json:"jitter_buffer_ms"`
	JitterBufferMaxMs float64 `json:"jitter_buffer_max_ms"`
	ConcealedMs       float64 `json:"concealed_ms"`
	// BurstDensity and GapDensity are RFC 3611 §4.7.2's.
	BurstDensity float64 `json:"burst_density"`
	GapDensity   float64 `json:"gap_density"`
	// RFactor and MOS are the conversational E-model rating, MOSLQ the
	// listening one; all 0 before media arrived.
	RFactor float64 `json:"r_factor"`
	MOS     float64 `json:"mos"`
	MOSLQ   float64 `json:"mos_lq"`
}

// SentQuality is the stream Switchboard sends on a leg: its counts, and the
// far end's view of it from the peer's RTCP report blocks and XR VoIP
// Metrics (RFC 3611 §4.7).
type SentQuality struct {
	// Packets and Octets count RTP packets and payload octets sent.
	Packets uint64 `json:"packets"`
	Octets  uint64 `json:"octets"`
	// Reported tells that the peer sent a report block about our stream;
	// the Far fields are meaningful only then.
	Reported bool `json:"reported"`
	// FarFractionLost is the fraction lost of the peer's last report,
	// FarLost its cumulative lost, FarJitterMs its jitter.
	FarFractionLost float64 `json:"far_fraction_lost"`
	FarLost         int64   `json:"far_lost"`
	FarJitterMs     float64 `json:"far_jitter_ms"`
	// FarRFactor and FarMOS are from the peer's XR VoIP Metrics block,
	// when it sent one.
	FarRFactor float64 `json:"far_r_factor,omitempty"`
	FarMOS     float64 `json:"far_mos,omitempty"`
}

// LegQuality returns the leg's quality record entry named leg, from a
// Snapshot and the playout statistics. RTCP counts are the caller's
// (the endpoint's).
func (s *Session) LegQuality(leg string) LegQuality {
	snap := s.Snapshot()
	s.mu.Lock()
	ps := s.playoutStats
	jSum, jN := s.jitterSum, s.jitterN
	ptime := s.cfg.PacketDuration
	s.mu.Unlock()
	if ptime <= 0 {
		ptime = s.recv.Stats().PacketDuration
	}
	mean := 0.0
	if snap.PacketsReceived > 0 {
		mean = (ms(jSum) + snap.JitterMs) / float64(jN+1)
	}
	q := LegQuality{
		Leg:         leg,
		Codec:       snap.Codec,
		PtimeMs:     ms(ptime),
		LocalSSRC:   snap.LocalSSRC,
		RemoteSSRC:  snap.RemoteSSRC,
		RemoteCNAME: snap.RemoteCNAME,
		RTTMs:       round3(snap.RTTMs),
		MaxRTTMs:    round3(snap.MaxRTTMs),
		RTTSamples:  snap.RTTSamples,
		ByeReceived: snap.ByeReceived,
		Received: ReceivedQuality{
			Packets:           snap.PacketsReceived,
			Expected:          snap.PacketsExpected,
			Lost:              snap.PacketsLost,
			LossRate:          round3(snap.LossRate),
			Late:              ps.Late,
			Reordered:         ps.Reordered,
			Discarded:         snap.PacketsDiscarded,
			Duplicates:        snap.PacketsDuplicated,
			JitterMeanMs:      round3(mean),
			JitterMaxMs:       round3(snap.MaxJitterMs),
			JitterBufferMs:    round3(ms(ps.Delay)),
			JitterBufferMaxMs: round3(ms(ps.MaxDelay)),
			ConcealedMs:       round3(ms(ps.Concealed)),
			BurstDensity:      round3(snap.BurstDensity),
			GapDensity:        round3(snap.GapDensity),
			RFactor:           round3(snap.RFactor),
			MOS:               round3(snap.MOS),
			MOSLQ:             round3(snap.MOSLQ),
		},
		Sent: SentQuality{
			Packets:         snap.PacketsSent,
			Octets:          snap.OctetsSent,
			Reported:        s.reported(),
			FarFractionLost: round3(snap.RemoteFractionLost),
			FarLost:         snap.RemotePacketsLost,
			FarJitterMs:     round3(snap.RemoteJitterMs),
			FarRFactor:      snap.RemoteRFactor,
			FarMOS:          snap.RemoteMOS,
		},
	}
	return q
}

func (s *Session) reported() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.haveRemote
}

// Summary returns the key/value pairs that sum the call's quality up in
// the log line that ends it: mos_<leg> and loss_<leg> (loss rate of what
// Switchboard received on the leg), the largest mean jitter and the
// largest RTT of all legs (rtt_ms only when one was measured).
func (q CallQuality) Summary() []any {
	kv := make([]any, 0, 4*len(q.Legs)+4)
	var jitter, rtt float64
	haveRTT := false
	for _, l := range q.Legs {
		kv = append(kv, "mos_"+l.Leg, l.Received.MOS, "loss_"+l.Leg, l.Received.LossRate)
		jitter = max(jitter, l.Received.JitterMeanMs)
		if l.RTTSamples > 0 {
			rtt, haveRTT = max(rtt, l.RTTMs), true
		}
	}
	kv = append(kv, "jitter_ms", jitter)
	if haveRTT {
		kv = append(kv, "rtt_ms", rtt)
	}
	return kv
}

// round3 rounds to three decimals, so records stay short.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
