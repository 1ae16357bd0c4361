package jitter

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkAddedDelay plays 60 s of 20 ms packets through a Buffer on a
// fake clock under netem-like profiles ("delay 40ms 30ms": 40 ms plus a
// uniform ±30 ms, which reorders packets; then with 5 % loss; and a clean
// network with 1 ms of jitter) and reports the delay the buffer adds
// (Stats.Delay: how far playout lags the fastest packet) at p50 and p95
// over the last 50 s, and the late loss: packets that arrived but were
// discarded as too late, as a share of those sent. Targets (issue 8):
// p50 ≤ 60 ms, p95 ≤ 100 ms, late loss ≤ 1 %; clean network p50 ≤ 20 ms.
func BenchmarkAddedDelay(b *testing.B) {
	profiles := []struct {
		name          string
		delay, jitter time.Duration
		loss          float64
	}{
		{"clean", 5 * time.Millisecond, time.Millisecond, 0},
		{"delay40ms-jitter30ms", 40 * time.Millisecond, 30 * time.Millisecond, 0},
		{"delay40ms-jitter30ms-loss5pct", 40 * time.Millisecond, 30 * time.Millisecond, 0.05},
	}
	for _, p := range profiles {
		b.Run(p.name, func(b *testing.B) {
			var p50, p95, late float64
			for i := range b.N {
				rng := rand.New(rand.NewPCG(uint64(i)+1, 42))
				const n = 3000 // 60 s
				pkts := stream(n, 0x1234, 1000, 8000, func(int) time.Duration {
					return p.delay + time.Duration((rng.Float64()*2-1)*float64(p.jitter))
				})
				kept := pkts[:0]
				for _, a := range pkts {
					if rng.Float64() >= p.loss {
						kept = append(kept, a)
					}
				}
				buf := New(Config{ClockRate: 8000})
				recs := run(b, buf, kept, n+20, 3*time.Millisecond)
				var delays []time.Duration
				for _, r := range recs[500:] { // after the first 10 s
					delays = append(delays, r.delay)
				}
				slices.Sort(delays)
				p50 += ms(delays[len(delays)/2])
				p95 += ms(delays[len(delays)*95/100])
				late += 100 * float64(buf.Stats().Late) / float64(n)
			}
			nf := float64(b.N)
			b.ReportMetric(p50/nf, "p50_ms")
			b.ReportMetric(p95/nf, "p95_ms")
			b.ReportMetric(late/nf, "late_%")
		})
	}
}
