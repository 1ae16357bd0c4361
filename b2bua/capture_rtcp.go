package b2bua

import (
	"net/netip"

	"github.com/switchboard/switchboard/media"
)

// RTCPCapture sees every RTCP compound packet a leg's peer sends (after
// SRTCP is removed), for HEP export beside the call's SIP: the peer's
// address, our media address it reached, the packet (reused once the
// hook returns) and the SIP Call-ID of that leg, which correlates the
// reports with the signaling in Homer. It runs on a media reactor
// goroutine: it must not block.
//
//	peer RTCP ─► Endpoint (reactor) ─► RTCPHandler ─► RTCPCapture ─► HEP (type 5)
//	                                └─► rtcpstats (quality records, as before)
type RTCPCapture func(src, dst netip.AddrPort, pkt []byte, callID string)

// SetRTCPCapture installs f (nil: none) for the calls whose media is set
// up from now on.
func (s *Server) SetRTCPCapture(f RTCPCapture) {
	if f == nil {
		s.rtcpCap.Store(nil)
		return
	}
	s.rtcpCap.Store(&f)
}

func (s *Server) rtcpCapture() RTCPCapture {
	if f := s.rtcpCap.Load(); f != nil {
		return *f
	}
	return nil
}

// captureRTCP hands leg l's incoming RTCP to the capture hook, if one is
// installed (media.Endpoint.SetRTCPTap).
func (c *Call) captureRTCP(l *Leg) {
	f := c.host.rtcpCapture()
	if f == nil || l.Endpoint == nil {
		return
	}
	callID := l.CallID
	l.Endpoint.SetRTCPTap(media.RTCPTap(func(pkt []byte, from, to netip.AddrPort) { f(from, to, pkt, callID) }))
}
