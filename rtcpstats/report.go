package rtcpstats

import (
	"fmt"
	"time"

	"github.com/pion/rtcp"
)

// ReportPackets builds the compound RTCP report for a report sent at now
// (RFC 3550 §6.1): an SR if we sent RTP since the report before last, else
// an RR (RFC 3550 §6.4), with a report block for the remote source once it
// is valid; an SDES with our CNAME; and, when Config.XR is set, an XR
// packet (RFC 3611) with the VoIP Metrics and Statistics Summary blocks of
// the received stream, an RRTR when we are not a sender and a DLRR
// answering the peer's last RRTR. Each call closes a reporting interval
// of the Receiver.
func (s *Session) ReportPackets(now time.Time) rtcp.CompoundPacket {
	ir, haveRecv := s.recv.Report(now)
	info, sentAny := s.send.Info(now)
	sent := s.send.Stats().PacketsSent
	var rs ReceiverStats
	if haveRecv {
		rs = s.recv.Stats()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if haveRecv {
		s.jitterSum += rs.JitterDuration
		s.jitterN++
	}
	weSent := sentAny && sent != s.sentAtReport[1]
	s.sentAtReport[1], s.sentAtReport[0] = s.sentAtReport[0], sent

	var blocks []rtcp.ReceptionReport
	if haveRecv {
		blocks = []rtcp.ReceptionReport{ir.Block}
	}
	pkts := make(rtcp.CompoundPacket, 0, 4)
	if weSent {
		pkts = append(pkts, &rtcp.SenderReport{
			SSRC:        s.cfg.SSRC,
			NTPTime:     info.NTPTime,
			RTPTime:     info.RTPTime,
			PacketCount: info.PacketCount,
			OctetCount:  info.OctetCount,
			Reports:     blocks,
		})
	} else {
		pkts = append(pkts, &rtcp.ReceiverReport{SSRC: s.cfg.SSRC, Reports: blocks})
	}
	pkts = append(pkts, rtcp.NewCNAMESourceDescription(s.cfg.SSRC, s.cfg.CNAME))

	if s.cfg.XR {
		xr := &rtcp.ExtendedReport{SenderSSRC: s.cfg.SSRC}
		if !weSent {
			// RFC 3611 §4.4: lets a non-sender obtain its RTT.
			xr.Reports = append(xr.Reports, RRTRBlock(now))
		}
		if s.haveRRTR {
			xr.Reports = append(xr.Reports, &rtcp.DLRRReportBlock{
				Reports: []rtcp.DLRRReport{DLRRFor(s.rrtrSSRC, s.rrtrNTP, s.rrtrArrival, now)},
			})
		}
		if haveRecv {
			summary := ir.Summary
			xr.Reports = append(xr.Reports, &summary, s.voipMetrics(rs).Block())
		}
		if len(xr.Reports) > 0 {
			pkts = append(pkts, xr)
		}
	}
	return pkts
}

// voipMetrics fills a VoIP Metrics block (RFC 3611 §4.7) for the received
// stream. It must be called with s.mu held.
func (s *Session) voipMetrics(rs ReceiverStats) VoIPMetrics {
	var rtt time.Duration
	if s.rttN > 0 {
		rtt = s.rtt
	}
	cq, lq, oneWay := s.quality(rs, rtt, s.playout)
	v := VoIPMetrics{
		SSRC:           rs.SSRC,
		BurstDensity:   rs.Burst.BurstDensity,
		GapDensity:     rs.Burst.GapDensity,
		BurstDuration:  rs.Burst.BurstDuration,
		GapDuration:    rs.Burst.GapDuration,
		RoundTripDelay: rtt,
		EndSystemDelay: oneWay - rtt/2,
		SignalLevel:    XRUnavailable,
		NoiseLevel:     XRUnavailable,
		RERL:           XRUnavailable,
		Gmin:           uint8(min(s.recv.burst.gmin, 255)),
		RFactor:        rFactorField(cq.R),
		ExtRFactor:     XRUnavailable,
		MOSLQ:          lq.MOS,
		MOSCQ:          cq.MOS,
		PLC:            s.playout.PLC,
		JBA:            s.playout.JBA,
		JBRate:         s.playout.JBRate,
		JBNominal:      s.playout.JBNominal,
		JBMaximum:      s.playout.JBMaximum,
		JBAbsMax:       s.playout.JBAbsMax,
	}
	if rs.PacketsExpected > 0 {
		v.LossRate = float64(max(rs.PacketsLost, 0)) / float64(rs.PacketsExpected)
		v.DiscardRate = float64(rs.Discarded) / float64(rs.PacketsExpected)
	}
	return v
}

// AppendReport appends the marshalled compound report of ReportPackets to
// dst.
func (s *Session) AppendReport(dst []byte, now time.Time) ([]byte, error) {
	return appendCompound(dst, s.ReportPackets(now))
}

// ByePackets builds the final compound packet of the session: the report
// of ReportPackets followed by a BYE for our SSRC with reason (RFC 3550
// §6.6; reason is truncated to 255 octets).
func (s *Session) ByePackets(now time.Time, reason string) rtcp.CompoundPacket {
	if len(reason) > 255 {
		reason = reason[:255]
	}
	pkts := s.ReportPackets(now)
	s.mu.Lock()
	ssrc := s.cfg.SSRC
	s.mu.Unlock()
	return append(pkts, &rtcp.Goodbye{Sources: []uint32{ssrc}, Reason: reason})
}

// AppendBye appends the marshalled compound packet of ByePackets to dst.
func (s *Session) AppendBye(dst []byte, now time.Time, reason string) ([]byte, error) {
	return appendCompound(dst, s.ByePackets(now, reason))
}

func appendCompound(dst []byte, pkts rtcp.CompoundPacket) ([]byte, error) {
	b, err := pkts.Marshal()
	if err != nil {
		return dst, fmt.Errorf("rtcpstats: marshal compound RTCP: %w", err)
	}
	return append(dst, b...), nil
}
