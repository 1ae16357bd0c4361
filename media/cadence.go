package media

import (
	"math"
	"time"
)

// Cadence is a Source playing a tone plan's tone: the sum of its
// frequencies, switched on and off by its cadence (on, off, on, …,
// repeating), as in ITU-T E.180 (e.g. ringback 425 Hz 1 s on, 4 s off).
// ReadPCM runs on the playout goroutine.
type Cadence struct {
	// Frequencies are summed, each at Level / len(Frequencies).
	Frequencies []float64
	// Cadence alternates on and off times, starting on; empty: steady.
	Cadence []time.Duration
	// Level is the sum's amplitude relative to full scale (default 0.3).
	Level float64

	phases []float64 // radians per frequency, owned by the playout goroutine
	pos    int64     // samples into the cadence cycle
	rate   int
}

// ReadPCM implements Source.
func (c *Cadence) ReadPCM(pcm []int16, rate int) bool {
	if len(c.phases) != len(c.Frequencies) {
		c.phases = make([]float64, len(c.Frequencies))
	}
	if rate != c.rate {
		c.pos = c.pos * int64(rate) / int64(max(c.rate, 1))
		c.rate = rate
	}
	level := c.Level
	if level <= 0 || level > 1 {
		level = 0.3
	}
	amp := 32767 * level / float64(max(len(c.Frequencies), 1))
	var cycle int64
	for _, d := range c.Cadence {
		cycle += int64(d.Seconds() * float64(rate))
	}
	for i := range pcm {
		on := true
		if cycle > 0 {
			at := c.pos % cycle
			for k, d := range c.Cadence {
				n := int64(d.Seconds() * float64(rate))
				if at < n {
					on = k%2 == 0
					break
				}
				at -= n
			}
		}
		var v float64
		for k, f := range c.Frequencies {
			if on {
				v += amp * math.Sin(c.phases[k])
			}
			c.phases[k] = math.Mod(c.phases[k]+2*math.Pi*f/float64(rate), 2*math.Pi)
		}
		pcm[i] = int16(v)
		c.pos++
	}
	return true
}

var _ Source = (*Cadence)(nil)
