package mixer

import (
	"math"
	"testing"
	"time"
)

// tone is a phase-continuous sine source.
type tone struct {
	freq, amp float64
	phase     float64
}

// next returns n samples of the tone at rate, continuing from the last call.
func (t *tone) next(n, rate int) []int16 {
	out := make([]int16, n)
	t.fill(out, rate)
	return out
}

func (t *tone) fill(out []int16, rate int) {
	step := 2 * math.Pi * t.freq / float64(rate)
	for i := range out {
		out[i] = int16(t.amp * math.Sin(t.phase))
		t.phase += step
	}
	t.phase = math.Mod(t.phase, 2*math.Pi)
}

// toneAmp returns the amplitude of frequency f in x: the magnitude of its
// single-bin discrete Fourier transform, 2/N |sum x[n] e^(-jwn)|.
func toneAmp(x []int16, rate int, f float64) float64 {
	w := 2 * math.Pi * f / float64(rate)
	var re, im float64
	for n, v := range x {
		sin, cos := math.Sincos(w * float64(n))
		re += float64(v) * cos
		im -= float64(v) * sin
	}
	return 2 * math.Hypot(re, im) / float64(len(x))
}

// member is a test participant: a tone source and everything it heard.
type member struct {
	p     *Participant
	rate  int
	src   *tone
	heard []int16
}

// clock is a fake 20 ms clock.
type clock struct{ t time.Time }

func (c *clock) next() time.Time {
	c.t = c.t.Add(FrameDuration)
	return c.t
}

// run drives ticks: each member writes 20 ms of its tone (if it has
// one), the room ticks, each member reads what it heard.
func run(t *testing.T, r *Room, c *clock, ticks int, ms ...*member) {
	t.Helper()
	buf := make([]int16, 960)
	for range ticks {
		for _, m := range ms {
			if m.src != nil {
				m.p.Write(m.src.next(m.rate/50, m.rate), m.rate)
			}
		}
		r.Tick(c.next())
		for _, m := range ms {
			n := m.p.Read(buf)
			m.heard = append(m.heard, buf[:n]...)
		}
	}
}

func join(t *testing.T, r *Room, id string, rate int, freq, amp float64) *member {
	t.Helper()
	p, err := r.Join(ParticipantConfig{ID: id, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	m := &member{p: p, rate: rate}
	if freq > 0 {
		m.src = &tone{freq: freq, amp: amp}
	}
	return m
}

// last returns the last d of what m heard.
func (m *member) last(d time.Duration) []int16 {
	n := int(d.Seconds() * float64(m.rate))
	if n > len(m.heard) {
		n = len(m.heard)
	}
	return m.heard[len(m.heard)-n:]
}

// expectHears checks that m's last 400 ms hold each frequency in hears
// (amplitude above 1000) and none in notHears (below 100).
func expectHears(t *testing.T, name string, m *member, hears, notHears []float64) {
	t.Helper()
	x := m.last(400 * time.Millisecond)
	for _, f := range hears {
		if a := toneAmp(x, m.rate, f); a < 1000 {
			t.Errorf("%s: %v Hz amplitude %.0f, want it heard (> 1000)", name, f, a)
		}
	}
	for _, f := range notHears {
		if a := toneAmp(x, m.rate, f); a > 100 {
			t.Errorf("%s: %v Hz amplitude %.0f, want it absent (< 100)", name, f, a)
		}
	}
}
