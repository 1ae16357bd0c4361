package b2bua

import (
	"net"

	"github.com/emiago/sipgo/sip"
)

// Capture sees every SIP message Switchboard receives or sends (for HEP
// export): the transport ("UDP", "TCP", "TLS", "WS"), source and
// destination, and the bytes, which are reused once it returns. Received
// stream data is captured as the read filter passes it to the parser.
type Capture func(transport string, src, dst net.Addr, data []byte)

// SetCapture installs f (nil: none). It may be called at any time; the
// cost without one is an atomic load per message.
func (s *Server) SetCapture(f Capture) {
	if f == nil {
		s.capture.Store(nil)
		return
	}
	s.capture.Store(&f)
}

// captureRead wraps the read filter: what it passes on is captured.
func (s *Server) captureRead(filter sip.TransportReadFilter) sip.TransportReadFilter {
	return func(info sip.TransportReadProps, data []byte) ([]byte, error) {
		out, err := filter(info, data)
		if c := s.capture.Load(); c != nil && err == nil && len(out) > 0 {
			(*c)(info.Transport, info.RemoteAddr, info.LocalAddr, out)
		}
		return out, err
	}
}

// captureWrite is sipgo's write hook (third_party/sipgo PATCHES.md, 5).
func (s *Server) captureWrite(info sip.TransportReadProps, data []byte) {
	if c := s.capture.Load(); c != nil {
		(*c)(info.Transport, info.LocalAddr, info.RemoteAddr, data)
	}
}
