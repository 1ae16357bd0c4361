//go:build cgo

package faxgw_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/faxgw"
	"github.com/switchboard/switchboard/test/faxpeer"
)

// BenchmarkGateway is the cost of gatewaying one fax call: each iteration
// is one 20 ms playout tick of a gateway carrying a fax from a G.711 fax
// machine to a T.38 terminal (a new fax starts when one ends), and only
// the gateway's own calls (Audio, ReceiveUDPTL, the UDPTL framing) are
// timed into gw-ns/tick; calls/core is how many such gateways one core
// keeps up with (20 ms / gw-ns/tick). ns/op includes the two fax machines.
func BenchmarkGateway(b *testing.B) {
	sentPath, _ := testTIFF(b, 1)
	dir := b.TempDir()
	var l *faxLine
	var gw time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if l == nil || (l.audio.Result().Done && l.t38.Result().Done) {
			rx := filepath.Join(dir, "rx.tif")
			l = newFaxLine(b, faxgw.Config{MaxBitRate: 14400, TransferredTCF: true, Redundancy: 2},
				faxpeer.Options{Calling: true, Send: true, File: sentPath, ECM: true, MaxBitRate: 14400},
				faxpeer.Options{File: rx, ECM: true, MaxBitRate: 14400})
		}
		l.audio.Tick(l.gwOut[:], l.audioOut[:])
		t0 := time.Now()
		l.gw.Audio(l.audioOut[:], l.gwOut[:])
		gw += time.Since(t0)
		l.t38.Tick(func(d []byte) { l.toGW = append(l.toGW, append([]byte(nil), d...)) })
		in, out := l.toT38, l.toGW
		l.toT38, l.toGW = l.toT38[:0], nil
		for _, d := range in {
			l.t38.Receive(d, func(d []byte) { l.toGW = append(l.toGW, append([]byte(nil), d...)) })
		}
		l.toT38 = nil
		t0 = time.Now()
		for _, d := range append(out, l.toGW...) {
			l.gw.ReceiveUDPTL(d)
		}
		gw += time.Since(t0)
		l.toGW = nil
	}
	per := float64(gw.Nanoseconds()) / float64(b.N)
	b.ReportMetric(per, "gw-ns/tick")
	if per > 0 {
		b.ReportMetric(float64(20*time.Millisecond)/per, "calls/core")
	}
}
