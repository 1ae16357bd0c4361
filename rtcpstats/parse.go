package rtcpstats

import (
	"fmt"
	"time"

	"github.com/pion/rtcp"
)

// HandleRTCP parses an incoming RTCP datagram (compound or not) that
// arrived at arrival and updates the session: an SR feeds LSR/DLSR of our
// next report block; report blocks and DLRR sub-blocks about our SSRC give
// the RTT (RFC 3550 §6.4.1, RFC 3611 §4.5) and the peer's view of our
// stream; an RRTR is remembered for our next DLRR; SDES gives the peer's
// CNAME; BYE marks the peer gone. Packets of other types are ignored. A
// datagram that does not parse changes nothing and returns the error.
func (s *Session) HandleRTCP(buf []byte, arrival time.Time) error {
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		return fmt.Errorf("rtcpstats: parse RTCP: %w", err)
	}
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			// Outside s.mu: the Receiver has its own lock.
			s.recv.SenderReport(sr.SSRC, sr.NTPTime, arrival)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pkts {
		s.handlePacket(p, arrival)
	}
	return nil
}

// handlePacket must be called with s.mu held.
func (s *Session) handlePacket(p rtcp.Packet, arrival time.Time) {
	switch p := p.(type) {
	case *rtcp.SenderReport:
		s.remoteSSRC = p.SSRC
		s.handleBlocks(p.Reports, arrival)
	case *rtcp.ReceiverReport:
		s.remoteSSRC = p.SSRC
		s.handleBlocks(p.Reports, arrival)
	case *rtcp.SourceDescription:
		for _, c := range p.Chunks {
			for _, it := range c.Items {
				if it.Type == rtcp.SDESCNAME && c.Source != s.cfg.SSRC {
					s.remoteCNAME = it.Text
				}
			}
		}
	case *rtcp.Goodbye:
		for _, src := range p.Sources {
			if src != s.cfg.SSRC {
				s.bye = true
				s.byeReason = p.Reason
			}
		}
	case *rtcp.ExtendedReport:
		s.handleXR(p, arrival)
	}
}

// handleBlocks must be called with s.mu held.
func (s *Session) handleBlocks(blocks []rtcp.ReceptionReport, arrival time.Time) {
	for _, b := range blocks {
		if b.SSRC != s.cfg.SSRC {
			continue
		}
		s.remoteBlock = b
		s.haveRemote = true
		s.remoteReports++
		if rtt, ok := RTTFromReport(b, arrival); ok {
			s.recordRTT(rtt)
		}
	}
}

// handleXR must be called with s.mu held.
func (s *Session) handleXR(x *rtcp.ExtendedReport, arrival time.Time) {
	for _, blk := range x.Reports {
		switch b := blk.(type) {
		case *rtcp.ReceiverReferenceTimeReportBlock:
			s.rrtrSSRC = x.SenderSSRC
			s.rrtrNTP = b.NTPTimestamp
			s.rrtrArrival = arrival
			s.haveRRTR = true
		case *rtcp.DLRRReportBlock:
			for _, r := range b.Reports {
				if r.SSRC != s.cfg.SSRC {
					continue
				}
				if rtt, ok := RTTFromDLRR(r, arrival); ok {
					s.recordRTT(rtt)
				}
			}
		case *rtcp.VoIPMetricsReportBlock:
			if b.SSRC == s.cfg.SSRC {
				s.remoteVoIP = VoIPMetricsFromBlock(b)
				s.haveRemoteVoIP = true
			}
		}
	}
}
