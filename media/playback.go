//go:build cgo

package media

import (
	"fmt"
	"sync"

	"github.com/switchboard/switchboard/codecs"
	"github.com/switchboard/switchboard/recorder"
)

// Clip is a sound file loaded for playback (the playback service, music
// on hold): mono PCM at the file's rate, resampled once per rate asked
// for and cached. One Clip serves any number of Players at once.
type Clip struct {
	rate int
	pcm  []int16

	mu    sync.Mutex
	rates map[int][]int16
}

// LoadClip reads a 16-bit PCM WAV file of any rate and channel count
// (channels are mixed to mono).
func LoadClip(path string) (*Clip, error) {
	a, err := recorder.ReadWAV(path)
	if err != nil {
		return nil, fmt.Errorf("media: %s: %w", path, err)
	}
	if a.Rate < 8000 || a.Rate > 192000 || a.Channels < 1 || len(a.Samples) < a.Channels {
		return nil, fmt.Errorf("media: %s: %d Hz, %d channels, %d samples: not playable", path, a.Rate, a.Channels, len(a.Samples))
	}
	mono := make([]int16, len(a.Samples)/a.Channels)
	for i := range mono {
		var sum int32
		for c := range a.Channels {
			sum += int32(a.Samples[i*a.Channels+c])
		}
		mono[i] = int16(sum / int32(a.Channels))
	}
	return &Clip{rate: a.Rate, pcm: mono, rates: map[int][]int16{a.Rate: mono}}, nil
}

// at returns the clip at rate, resampling it the first time.
func (c *Clip) at(rate int) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pcm, ok := c.rates[rate]; ok {
		return pcm
	}
	rs, err := codecs.NewResampler(c.rate, rate)
	if err != nil {
		return nil
	}
	defer rs.Close()
	out := make([]int16, rs.MaxOut(len(c.pcm))+rs.MaxOut(rs.Delay()+1))
	n := rs.Process(c.pcm, out)
	c.rates[rate] = out[:n]
	return out[:n]
}

// Player is a Source playing a Clip from its start, looped or once.
type Player struct {
	clip *Clip
	loop bool
	pos  int
	rate int
	pcm  []int16 // the clip at rate
}

// NewPlayer returns a player of c; loop repeats it without end.
func NewPlayer(c *Clip, loop bool) *Player { return &Player{clip: c, loop: loop} }

// Done reports whether a player that does not loop has played its clip.
func (p *Player) Done() bool { return !p.loop && p.pcm != nil && p.pos >= len(p.pcm) }

// ReadPCM implements Source. The first read at a new rate resamples the
// clip (once per rate for all players), later ones copy.
func (p *Player) ReadPCM(pcm []int16, rate int) bool {
	if rate != p.rate || p.pcm == nil {
		old := len(p.pcm)
		p.rate, p.pcm = rate, p.clip.at(rate)
		p.pos = p.pos * len(p.pcm) / max(old, 1) // the same instant at the new rate
	}
	if len(p.pcm) == 0 || p.Done() {
		return false
	}
	for n := 0; n < len(pcm); {
		if p.pos >= len(p.pcm) {
			if !p.loop {
				clear(pcm[n:])
				break
			}
			p.pos = 0
		}
		k := copy(pcm[n:], p.pcm[p.pos:])
		n += k
		p.pos += k
	}
	return true
}

var _ Source = (*Player)(nil)
