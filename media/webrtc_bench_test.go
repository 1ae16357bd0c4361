//go:build cgo

package media

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
)

// BenchmarkWebRTCCall is one 20 ms tick of a WebRTC ↔ PCMU call, both
// directions, as the processing path runs it: an SRTP-protected Opus
// packet from the WebRTC peer through its endpoint (SRTP unprotect with
// the DTLS-exported keys, latch, jitter buffer) and a PCMU packet from the
// phone, then the tick: decode, resample, encode (Opus 48 kHz toward the
// WebRTC leg, PCMU toward the phone), SRTP protect toward the WebRTC peer
// and both sends over loopback. The peers' packets (Opus encoding and
// SRTP protection are the browser's work) are made in batches outside the
// timer. calls/core is 20 ms over the process's CPU per tick. The DTLS
// handshake, once per call, is BenchmarkDTLSHandshake.
func BenchmarkWebRTCCall(b *testing.B) {
	c := newProcCall(b, BridgeConfig{A: fmtOpus, B: fmtPCMU})
	key := func() SRTPKeys {
		k := make([]byte, 30)
		_, _ = rand.Read(k)
		return SRTPKeys{Suite: SuiteSHA1_80, Key: k[:16], Salt: k[16:]}
	}
	local, remote := key(), key()
	if err := c.a.SetSRTP(DTLSKeys{Local: local, Remote: remote}); err != nil {
		b.Fatal(err)
	}
	peer, err := srtp.CreateContext(remote.Key, remote.Salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		b.Fatal(err)
	}
	sa, sb := newSender(b, fmtOpus, 440), newSender(b, fmtPCMU, 1000)
	const batch = 512
	var ra, rb [batch][]byte
	fill := func() {
		for i := range batch {
			enc, err := peer.EncryptRTP(nil, sa.next(), nil)
			if err != nil {
				b.Fatal(err)
			}
			ra[i], rb[i] = enc, sb.next()
		}
	}
	fill()
	srcA, srcB := c.pa.addr(), c.pb.addr()
	b.ReportAllocs()
	t0 := processCPU()
	i := 0
	for b.Loop() {
		if i == batch {
			b.StopTimer()
			cpu := processCPU()
			fill()
			t0 += processCPU() - cpu
			i = 0
			b.StartTimer()
		}
		now := c.clk.Now().UnixNano()
		c.a.receive(ra[i], srcA, now)
		c.b.receive(rb[i], srcB, now)
		i++
		c.clk.Advance(PlayoutInterval)
		c.e.playout.tick(c.clk.Now())
	}
	cpu := time.Duration((processCPU() - t0) / int64(max(b.N, 1)))
	if st := c.a.Stats(); st.SRTPFailed > 0 || st.PacketsIn == 0 {
		b.Fatalf("WebRTC leg: %d in, %d failed SRTP", st.PacketsIn, st.SRTPFailed)
	}
	if cpu > 0 {
		b.ReportMetric(float64(PlayoutInterval)/float64(cpu), "cpu-calls/core")
		if b.N > 1 {
			fmt.Printf("WebRTC (DTLS-SRTP, Opus 48 kHz) <-> PCMU call: %.0f calls per core\n", float64(PlayoutInterval)/float64(cpu))
		}
	}
}
