package recorder

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/cputime"
)

// processCPU returns the process's CPU time: the writer goroutine runs
// beside the benchmark's, so the thread's alone is not it.
func processCPU() time.Duration { return cputime.Process() }

// BenchmarkRecordCallSecond records one call-second per op (50 frames of
// 20 ms per side, caller at 8 kHz, callee at 16 kHz, into a 16 kHz file)
// and reports CPU per recorded call-second and calls per core.
func BenchmarkRecordCallSecond(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8k", 16000: "16k"}[rate], func(b *testing.B) {
			b.ReportAllocs()
			r, err := New(Config{Path: filepath.Join(b.TempDir(), "bench.wav"), Rate: rate, Now: func() time.Time { return t0 }})
			if err != nil {
				b.Fatal(err)
			}
			left, right := sine(160, 0, 8000, 440, 8000), sine(320, 0, 16000, 1000, 8000)
			i := 0
			cpu0 := processCPU()
			for b.Loop() {
				for range 50 {
					at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
					r.Left().Write(left, 8000, at)
					r.Right().Write(right, 16000, at)
					i++
				}
				for len(r.queue) > 0 { // let the writer keep up, as real time would
					time.Sleep(50 * time.Microsecond)
				}
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			cpu := processCPU() - cpu0
			per := cpu.Seconds() / float64(b.N)
			b.ReportMetric(per*1e6, "cpu-us/call-second")
			b.ReportMetric(1/per, "recorded-calls/core")
			if d := r.Stats().Dropped; d != 0 {
				b.Errorf("%d frames dropped", d)
			}
		})
	}
}

// BenchmarkRecordRoomSecond records one second of a conference room's
// mix per op (50 frames of 20 ms at the room's 16 kHz into a mono file at
// the recording rate) and reports CPU per recorded room-second.
func BenchmarkRecordRoomSecond(b *testing.B) {
	b.ReportAllocs()
	r, err := New(Config{Path: filepath.Join(b.TempDir(), "room.wav"), Rate: 16000, Channels: 1, Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	mix := sine(320, 0, 16000, 440, 8000)
	i := 0
	cpu0 := processCPU()
	for b.Loop() {
		for range 50 {
			r.Left().Write(mix, 16000, t0.Add(time.Duration(i)*20*time.Millisecond))
			i++
		}
		for len(r.queue) > 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	per := (processCPU() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(per*1e6, "cpu-us/room-second")
	b.ReportMetric(1/per, "recorded-rooms/core")
	if d := r.Stats().Dropped; d != 0 {
		b.Errorf("%d frames dropped", d)
	}
}
