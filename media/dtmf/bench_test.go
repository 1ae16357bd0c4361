package dtmf

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// BenchmarkDetector runs the detector over eight digits (100 ms tone, 100 ms
// pause each, looped) in 20 ms frames; one op is one frame, also reported as
// ns/frame.
func BenchmarkDetector(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("%dHz", rate), func(b *testing.B) {
			g, _ := NewGenerator(rate)
			var pcm []int16
			for _, key := range []byte("13579#BD") {
				tone := make([]int16, rate/10)
				_ = g.SetKey(key)
				g.Generate(tone)
				pcm = append(pcm, tone...)
				pcm = append(pcm, make([]int16, rate/10)...)
			}
			frame := rate / 50
			frames := len(pcm) / frame
			d := NewDetector(rate)
			heard := 0
			for i := range frames { // warm up: one pass hears every digit
				heard += len(d.Process(pcm[i*frame : (i+1)*frame]))
			}
			if heard != 16 {
				b.Fatalf("warm-up heard %d presses and releases, want 16", heard)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := i % frames
				d.Process(pcm[j*frame : (j+1)*frame])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

func BenchmarkEventMarshal(b *testing.B) {
	ev := Event{Code: 5, End: true, Volume: 10, Duration: 800}
	var buf [PayloadSize]byte
	b.ReportAllocs()
	for range b.N {
		if _, err := ev.Marshal(buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventUnmarshal(b *testing.B) {
	buf := []byte{0x05, 0x8a, 0x03, 0x20}
	var ev Event
	b.ReportAllocs()
	for range b.N {
		if err := ev.Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSender builds the packets of a 100 ms digit at 8 kHz (5
// packets) and marshals each payload.
func BenchmarkSender(b *testing.B) {
	s, _ := NewSender(SenderConfig{ClockRate: 8000})
	var buf [PayloadSize]byte
	packets := 0
	b.ReportAllocs()
	for range b.N {
		if err := s.Start(7, 100*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		for {
			p, ok := s.Next()
			if !ok {
				break
			}
			_, _ = p.Event.Marshal(buf[:])
			packets++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}

// BenchmarkReceiver feeds the ten packets of a sipp-style event.
func BenchmarkReceiver(b *testing.B) {
	pkts := sippPattern(1, 0, 0)
	payloads := make([][]byte, len(pkts))
	for i, p := range pkts {
		payloads[i] = p.payload()
	}
	r := NewReceiver()
	b.ReportAllocs()
	for i := range b.N {
		ts := uint32(i) * 8000
		for j, p := range pkts {
			if _, err := r.Push(rtp.Header{Seq: uint16(i*10 + j), TS: ts}, payloads[j]); err != nil {
				b.Fatal(err)
			}
			_ = p
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/packet")
}

// BenchmarkGenerator writes 20 ms frames of a digit at 8 kHz.
func BenchmarkGenerator(b *testing.B) {
	g, _ := NewGenerator(8000)
	_ = g.SetKey('5')
	frame := make([]int16, 160)
	b.ReportAllocs()
	for range b.N {
		g.Generate(frame)
	}
}
