package media

import "time"

// Cadence is a Source playing a tone plan's tone: the sum of its
// frequencies (one Tone each), switched on and off by its cadence (on,
// off, on, …, repeating), as in ITU-T E.180 (e.g. ringback 425 Hz 1 s on,
// 4 s off). ReadPCM runs on the playout goroutine.
type Cadence struct {
	// Frequencies are summed, each at Level / len(Frequencies).
	Frequencies []float64
	// Cadence alternates on and off times, starting on; empty: steady.
	Cadence []time.Duration
	// Level is the sum's amplitude relative to full scale (default 0.3).
	Level float64

	tones []Tone  // one per frequency, made at the first ReadPCM
	buf   []int16 // one tone's frame, before it is summed
	pos   int64   // samples into the cadence cycle
	rate  int
}

// ReadPCM implements Source.
func (c *Cadence) ReadPCM(pcm []int16, rate int) bool {
	if c.tones == nil {
		level := toneLevel(c.Level) / float64(max(len(c.Frequencies), 1))
		for _, f := range c.Frequencies {
			c.tones = append(c.tones, Tone{Frequency: f, Level: level})
		}
	}
	if rate != c.rate {
		c.pos = c.pos * int64(rate) / int64(max(c.rate, 1))
		c.rate = rate
	}
	if cap(c.buf) < len(pcm) {
		c.buf = make([]int16, len(pcm))
	}
	clear(pcm)
	for i := range c.tones {
		buf := c.buf[:len(pcm)]
		c.tones[i].ReadPCM(buf, rate)
		for k, v := range buf {
			pcm[k] += v
		}
	}
	c.gate(pcm, rate)
	return true
}

// gate silences the parts of pcm that fall in the cadence's off times.
func (c *Cadence) gate(pcm []int16, rate int) {
	var cycle int64
	for _, d := range c.Cadence {
		cycle += int64(d.Seconds() * float64(rate))
	}
	if cycle == 0 {
		return // steady
	}
	for i := 0; i < len(pcm); {
		at, k, left := c.pos%cycle, 0, int64(0)
		for ; k < len(c.Cadence); k++ {
			n := int64(c.Cadence[k].Seconds() * float64(rate))
			if at < n {
				left = n - at
				break
			}
			at -= n
		}
		n := int(min(left, int64(len(pcm)-i)))
		if k%2 == 1 {
			clear(pcm[i : i+n])
		}
		i += n
		c.pos = (c.pos + int64(n)) % cycle
	}
}
