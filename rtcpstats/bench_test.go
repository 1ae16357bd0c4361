package rtcpstats

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// BenchmarkReceiverUpdate measures the per-packet receive path (RFC 3550
// A.1/A.3/A.8, burst tracking) with one loss in 50; target 0 allocs.
func BenchmarkReceiverUpdate(b *testing.B) {
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	arrival := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		seq := uint16(i)
		if i%50 == 49 {
			continue
		}
		arrival = arrival.Add(20 * time.Millisecond)
		r.Update(seq, uint32(i)*160, arrival)
	}
}

// BenchmarkSessionOnRTP is the same through Session.OnRTP (SSRC check and
// payload length).
func BenchmarkSessionOnRTP(b *testing.B) {
	s := NewSession(Config{SSRC: 1, ClockRate: 8000, MinSequential: 1})
	arrival := t0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		arrival = arrival.Add(20 * time.Millisecond)
		s.OnRTP(rtp.Header{SSRC: 2, Seq: uint16(i), TS: uint32(i) * 160}, 160, arrival)
	}
}

// BenchmarkBuildRRXR builds and marshals one RR + SDES + XR (RRTR,
// Statistics Summary, VoIP Metrics with the E-model) compound packet, as
// the RTCP ticker does every few seconds per leg.
func BenchmarkBuildRRXR(b *testing.B) {
	s := NewSession(Config{SSRC: 1, CNAME: "leg-a@switchboard", ClockRate: 8000, Codec: "PCMU", XR: true, MinSequential: 1})
	for i := range 500 {
		s.OnRTP(rtp.Header{SSRC: 2, Seq: uint16(i), TS: uint32(i) * 160}, 160, at(float64(i)*20))
	}
	buf := make([]byte, 0, 1500)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out, err := s.AppendReport(buf[:0], at(10000+float64(i)))
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/report")
}
