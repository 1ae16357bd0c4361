package faxgw

import (
	"time"

	"github.com/switchboard/switchboard/media"
)

// PCM puts a Gateway on the audio leg's media.Terminal, which decodes
// the leg's G.711 and encodes toward it on the engine's playout clock:
// the terminal's tap (WritePCM) gives the frame the leg sent this tick,
// its source (ReadPCM) runs the gateway on it and returns the frame to
// send. Both run on the playout goroutine, tap first, in the same tick.
type PCM struct {
	gw   *Gateway
	in   [FrameSamples]int16
	have bool
}

var (
	_ media.Tap    = (*PCM)(nil)
	_ media.Source = (*PCM)(nil)
)

// NewPCM adapts gw to a terminal.
func NewPCM(gw *Gateway) *PCM { return &PCM{gw: gw} }

// WritePCM implements media.Tap: the leg's decoded audio (8 kHz: a
// gateway leg is G.711).
func (p *PCM) WritePCM(pcm []int16, rate int, _ time.Time) {
	if rate != 8000 {
		return
	}
	n := copy(p.in[:], pcm)
	clear(p.in[n:])
	p.have = true
}

// ReadPCM implements media.Source: one 20 ms tick of the gateway (with
// silence when the leg sent nothing this tick, so its timers run on).
func (p *PCM) ReadPCM(pcm []int16, rate int) bool {
	if rate != 8000 {
		return false
	}
	if !p.have {
		clear(p.in[:])
	}
	p.gw.Audio(p.in[:], pcm)
	p.have = false
	return true
}
