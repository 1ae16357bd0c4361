package media

import (
	"math"
	"testing"
	"time"
)

// TestCadenceOnOff: a busy tone (425 Hz, 0.5 s on, 0.5 s off) is loud
// in its on halves and silent in its off halves.
func TestCadenceOnOff(t *testing.T) {
	c := &Cadence{Frequencies: []float64{425}, Cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}}
	pcm := make([]int16, 160)
	var out []int16
	for range 100 { // 2 s at 8 kHz
		c.ReadPCM(pcm, 8000)
		out = append(out, pcm...)
	}
	level := func(x []int16) float64 {
		var s float64
		for _, v := range x {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s / float64(len(x)))
	}
	for half := range 4 {
		l := level(out[half*4000+200 : half*4000+3800])
		if on := half%2 == 0; on && l < 5000 || !on && l > 1 {
			t.Errorf("half second %d: level %.0f (on %v)", half, l, on)
		}
	}
}
