package mixer

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/internal/cputime"
)

// benchSetup builds rooms of size each holding n participants in total at
// rate, with encoder (if not nil) making an encoder per participant that
// the Output callback feeds. Every participant sends a tone: talker
// selection keeps the mix at K whatever the room size.
func benchRooms(b *testing.B, rooms, size, rate, roomRate int, codec codecs.Codec) {
	b.ReportAllocs()
	var rs []*Room
	type feed struct {
		p     *Participant
		frame []int16
	}
	var feeds []feed
	payload := make([]byte, 1500)
	for range rooms {
		r, err := NewRoom(Config{Rate: roomRate})
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r)
		for i := range size {
			var out func([]int16)
			if codec != nil {
				enc, err := codec.NewEncoder(codecs.Params{SampleRate: rate})
				if err != nil {
					b.Fatal(err)
				}
				out = func(pcm []int16) {
					if _, err := enc.Encode(pcm, payload); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				out = func([]int16) {}
			}
			p, err := r.Join(ParticipantConfig{ID: fmt.Sprint(i), Rate: rate, Output: out})
			if err != nil {
				b.Fatal(err)
			}
			src := &tone{freq: 300 + 37*float64(i%50), amp: 2000 + 100*float64(i%50)}
			feeds = append(feeds, feed{p, src.next(rate/50, rate)})
		}
	}
	c := &clock{}
	tick := func() {
		for _, f := range feeds {
			f.p.Write(f.frame, rate)
		}
		now := c.next()
		for _, r := range rs {
			r.Tick(now)
		}
	}
	for range 10 { // joins applied, rings and slices at their size
		tick()
	}
	// CPU time of the benchmark's thread, which runs every tick: on a
	// shared machine the wall time also counts other processes' turns.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Thread()
	for b.Loop() {
		tick()
	}
	wall := time.Since(start).Seconds() / float64(b.N) / float64(len(feeds)) // seconds per participant per tick
	per := (cputime.Thread() - cpu0).Seconds() / float64(b.N) / float64(len(feeds))
	if per <= 0 {
		per = wall // no thread clock off Linux
	}
	b.ReportMetric(per*1e9, "cpu-ns/participant-tick")
	b.ReportMetric(1/(per*50), "participants/core")
	b.ReportMetric(1/(wall*50), "participants/core-wall")
	b.StopTimer()
	for _, r := range rs {
		r.Close()
	}
}

func BenchmarkMix(b *testing.B) {
	for _, tc := range []struct {
		name           string
		rate, roomRate int
		codec          codecs.Codec
	}{
		{"8k", 8000, 16000, nil},
		{"48k", 48000, 48000, nil},
		{"8k-PCMU", 8000, 16000, codecs.PCMU()},
		{"16k-Opus", 16000, 16000, codecs.Opus()},
		{"48k-Opus", 48000, 48000, codecs.Opus()},
	} {
		b.Run("bigroom-100/"+tc.name, func(b *testing.B) { benchRooms(b, 1, 100, tc.rate, tc.roomRate, tc.codec) })
		b.Run("rooms-33x3/"+tc.name, func(b *testing.B) { benchRooms(b, 33, 3, tc.rate, tc.roomRate, tc.codec) })
	}
}
