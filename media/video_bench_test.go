package media

import (
	"testing"
)

// BenchmarkVideoRelay is the relay of a video stream (issue 17): VP8-sized
// RTP packets of 1200 octets (payload type 96 on one leg, 97 on the
// other, 90 kHz clock, a frame of 5 packets every 3000 ticks) through the
// whole relay over loopback in lockstep, as BenchmarkRelayPacket does for
// audio. cpu-ns/op is the process's CPU per packet, the test's two peers'
// socket calls included (so it overstates Switchboard's share);
// %core/Mbit/s is that cost for each Mbit/s of video relayed one way
// (104 packets of 1200 octets); allocs/op must stay 0.
func BenchmarkVideoRelay(b *testing.B) {
	const size, perFrame = 1200, 5
	setup := func(c *call) {
		vp8 := func(pt uint8) Codec { return Codec{PT: pt, Name: "VP8", Clock: 90000, Channels: 1} }
		c.br.SetPayloadMap(c.a, PayloadMap{96: vp8(97)})
		c.br.SetPayloadMap(c.b, PayloadMap{97: vp8(96)})
	}
	pkt := append(rtpPacket(96, 0, 0, 0x5678, false)[:12], make([]byte, size-12)...)
	t0 := processCPU()
	benchRelay(b, setup, pkt, func(i int) uint32 { return uint32(i/perFrame) * 3000 })
	cpu := float64(processCPU()-t0) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	pktsPerMbit := 1e6 / (size * 8)
	b.ReportMetric(cpu*pktsPerMbit/1e9*100, "%core/Mbit/s")
}
