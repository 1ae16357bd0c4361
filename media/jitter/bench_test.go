package jitter

import (
	"testing"
	"time"
)

// BenchmarkPushPop measures one 20 ms frame through the buffer: one Push
// and one Pop, as the processing path does per packet. It must not
// allocate.
func BenchmarkPushPop(b *testing.B) {
	cases := []struct {
		name  string
		delay func(i int) time.Duration
	}{
		{"steady", func(int) time.Duration { return 5 * time.Millisecond }},
		// Neighbours swapped and some jitter: exercises reordering,
		// gaps and the histogram.
		{"reordered", func(i int) time.Duration {
			d := time.Duration(i%7) * 3 * time.Millisecond
			if i%2 == 0 {
				d += tick
			}
			return d
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			buf := New(Config{})
			payload := make([]byte, 160)
			const warm = 500
			pkts := stream(warm+1024, 0xbe, 0, 0, c.delay)
			// Pushes are issued in arrival order, one per tick on average.
			push := func(i int) {
				p := pkts[i%len(pkts)]
				// Shift the stream so it never ends.
				round := i / len(pkts)
				p.h.Seq += uint16(round * len(pkts))
				p.h.TS += uint32(round * len(pkts) * frameLen)
				p.at += time.Duration(round*len(pkts)) * tick
				buf.Push(p.h, payload, epoch.Add(p.at))
			}
			for i := range warm {
				push(i)
				buf.Pop(epoch.Add(time.Duration(i)*tick + 30*time.Millisecond))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := warm; i < warm+b.N; i++ {
				push(i)
				buf.Pop(epoch.Add(time.Duration(i)*tick + 30*time.Millisecond))
			}
			b.StopTimer()
			st := buf.Stats()
			b.ReportMetric(float64(st.Frames)/float64(st.Frames+st.Concealed+st.Expanded+st.Empty), "frames/pop")
		})
	}
}
