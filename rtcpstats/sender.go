package rtcpstats

import (
	"sync"
	"time"
)

// Sender keeps the sender-side counts of one RTP stream that a sender
// report carries (RFC 3550 §6.4.1): packets and payload octets sent, and
// the RTP timestamp and wall-clock time of the last packet sent, from which
// the RTP timestamp matching the report's NTP time is extrapolated.
//
// OnSend is called from the goroutine that writes the stream; Info and
// Stats from any goroutine. All methods are safe for concurrent use.
type Sender struct {
	mu        sync.Mutex
	clockRate uint32
	packets   uint64
	octets    uint64
	lastTS    uint32
	lastSend  time.Time
	sent      bool
}

// NewSender returns a Sender for a stream with the given RTP clock rate in
// Hz (8000 when 0).
func NewSender(clockRate uint32) *Sender {
	if clockRate == 0 {
		clockRate = 8000
	}
	return &Sender{clockRate: clockRate}
}

// OnSend records one RTP packet sent with timestamp ts and payloadLen
// payload octets (header and padding excluded) at now. It does not
// allocate.
func (s *Sender) OnSend(ts uint32, payloadLen int, now time.Time) {
	s.mu.Lock()
	s.packets++
	if payloadLen > 0 {
		s.octets += uint64(payloadLen)
	}
	s.lastTS = ts
	s.lastSend = now
	s.sent = true
	s.mu.Unlock()
}

// SenderInfo is the sender information section of a sender report
// (RFC 3550 §6.4.1).
type SenderInfo struct {
	// NTPTime is the wall-clock time of the report.
	NTPTime uint64
	// RTPTime is the RTP timestamp corresponding to NTPTime.
	RTPTime uint32
	// PacketCount is the sender's packet count, modulo 2^32.
	PacketCount uint32
	// OctetCount is the sender's payload octet count, modulo 2^32.
	OctetCount uint32
}

// Info returns the sender information for a report sent at now, and false
// if no packet has been sent. The RTP timestamp is the last one sent
// advanced by the wall-clock time elapsed since, at the clock rate
// (RFC 3550 §6.4.1: "the same time as the NTP timestamp").
func (s *Sender) Info(now time.Time) (SenderInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sent {
		return SenderInfo{}, false
	}
	elapsed := now.Sub(s.lastSend)
	secs := int64(elapsed / time.Second)
	rem := int64(elapsed % time.Second)
	adv := secs*int64(s.clockRate) + rem*int64(s.clockRate)/int64(time.Second)
	return SenderInfo{
		NTPTime:     NTPTime(now),
		RTPTime:     s.lastTS + uint32(adv),
		PacketCount: uint32(s.packets),
		OctetCount:  uint32(s.octets),
	}, true
}

// SenderStats is a copy of a Sender's counts.
type SenderStats struct {
	// PacketsSent counts RTP packets sent.
	PacketsSent uint64
	// OctetsSent counts payload octets sent.
	OctetsSent uint64
	// LastRTPTime is the timestamp of the last packet sent.
	LastRTPTime uint32
	// LastSend is when the last packet was sent (zero if none).
	LastSend time.Time
}

// Stats returns a copy of the counts.
func (s *Sender) Stats() SenderStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SenderStats{PacketsSent: s.packets, OctetsSent: s.octets, LastRTPTime: s.lastTS, LastSend: s.lastSend}
}
