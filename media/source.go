package media

import (
	"math"
	"sync"
	"time"
)

// The built-in sources and sinks of a Terminal: an echo, a test tone
// (playback of a file is playback.go). Each runs on the playout
// goroutine and allocates nothing per frame.

// Echo is a Tap and a Source at once: what is written to it is read back
// Delay later, so a Terminal with an Echo as its tap and source returns
// what the leg sends (the echo service). It holds at most a second; audio
// not read in time is dropped, and a gap in what is written reads as
// silence. Safe for concurrent use.
type Echo struct {
	mu    sync.Mutex
	buf   []int16 // a ring
	head  int     // next sample to read
	size  int     // samples held
	rate  int
	delay int // samples still to hold back before the first read
	// Delay is how long the echo holds audio back (default 0: it is read
	// on the same tick it arrives, plus the jitter buffer's delay).
	Delay time.Duration
}

// WritePCM implements Tap.
func (e *Echo) WritePCM(pcm []int16, rate int, _ time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rate != e.rate || e.buf == nil {
		e.rate = rate
		e.buf = make([]int16, rate)
		e.head, e.size = 0, 0
		e.delay = int(e.Delay * time.Duration(rate) / time.Second)
	}
	for _, v := range pcm {
		if e.size == len(e.buf) { // full: drop the oldest
			e.head = (e.head + 1) % len(e.buf)
			e.size--
		}
		e.buf[(e.head+e.size)%len(e.buf)] = v
		e.size++
	}
}

// ReadPCM implements Source: false until something was written.
func (e *Echo) ReadPCM(pcm []int16, rate int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.buf == nil || rate != e.rate {
		return false
	}
	if e.delay > 0 {
		if e.size < e.delay {
			return false
		}
		e.delay = 0
	}
	n := min(len(pcm), e.size)
	for i := range n {
		pcm[i] = e.buf[(e.head+i)%len(e.buf)]
	}
	clear(pcm[n:])
	e.head = (e.head + n) % len(e.buf)
	e.size -= n
	return true
}

// Tone is a Source of a steady sine wave (the tone service, a test tone).
type Tone struct {
	// Frequency is the tone's frequency in Hz.
	Frequency float64
	// Level is its amplitude relative to full scale (0 < Level ≤ 1;
	// default 0.3, about -13 dBov).
	Level float64
	phase float64 // radians, owned by the playout goroutine
}

// toneLevel is a tone's amplitude relative to full scale: level when
// 0 < level ≤ 1, else 0.3 (about -13 dBov).
func toneLevel(level float64) float64 {
	if level <= 0 || level > 1 {
		return 0.3
	}
	return level
}

// ReadPCM implements Source.
func (t *Tone) ReadPCM(pcm []int16, rate int) bool {
	level := toneLevel(t.Level)
	step := 2 * math.Pi * t.Frequency / float64(rate)
	for i := range pcm {
		pcm[i] = int16(level * 32767 * math.Sin(t.phase))
		t.phase += step
		if t.phase > 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
	return true
}

var (
	_ Tap    = (*Echo)(nil)
	_ Source = (*Echo)(nil)
	_ Source = (*Tone)(nil)
)
