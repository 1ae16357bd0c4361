package b2bua

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/mixer"
)

// Conference controls and cues: what a participant hears besides the mix.
//
//	room event join/leave of another ─► cue: 200 ms of 880 Hz (join) or
//	                                    660 Hz (leave) over its mix
//	key 0 in the room (RFC 4733 or INFO) ─► mute / unmute its input
//	                                    (mixer.Participant.SetMuted),
//	                                    cue 300 Hz (muted) or 1200 Hz
//	                                    (live), a mute/unmute room event
//	                                    in its record
//
// The cue is mixed into the participant's output on the playout clock
// (roomOutput.ReadPCM); room events arrive on the room's clock, so the
// two meet under cue.mu, a leaf.

// Cue tones.
const (
	cueJoinHz   = 880
	cueLeaveHz  = 660
	cueMuteHz   = 300
	cueUnmuteHz = 1200
	cueLength   = 200 * time.Millisecond
	muteKey     = '0'
)

// cue is a short tone mixed over a participant's audio.
type cue struct {
	on   atomic.Bool // a cue is playing: the frame path takes mu only then
	mu   sync.Mutex
	tone media.Tone
	left time.Duration // still to play
	buf  []int16
}

// start plays freq for d from the next frame on (replacing a cue playing).
func (c *cue) start(freq float64, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tone = media.Tone{Frequency: freq, Level: 0.2}
	c.left = d
	c.on.Store(true)
}

// mix adds the cue, if one plays, to pcm (saturating).
func (c *cue) mix(pcm []int16, rate int) {
	if !c.on.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 || rate <= 0 {
		c.on.Store(false)
		return
	}
	n := min(len(pcm), int(c.left.Seconds()*float64(rate)+0.5))
	if cap(c.buf) < n {
		c.buf = make([]int16, n)
	}
	b := c.buf[:n]
	c.tone.ReadPCM(b, rate)
	for i, v := range b {
		pcm[i] = int16(max(-32768, min(32767, int32(pcm[i])+int32(v))))
	}
	c.left -= time.Duration(len(pcm)) * time.Second / time.Duration(rate)
}

// cueFor cues the participant for another's join or leave.
func (conf *conference) cueFor(ev mixer.Event) {
	if ev.Participant == conf.self {
		return
	}
	switch ev.Kind {
	case mixer.EventJoin:
		conf.out.cue.start(cueJoinHz, cueLength)
	case mixer.EventLeave:
		conf.out.cue.start(cueLeaveHz, cueLength)
	}
}

// conferenceControl takes a key pressed in the room: 0 toggles mute. It
// reports whether the key was a control (other keys are only recorded).
func (c *Call) conferenceControl(key byte) bool {
	conf := c.svc.conf
	if key != muteKey || conf.p == nil {
		return false
	}
	muted := !conf.p.Muted()
	conf.p.SetMuted(muted)
	ev, hz := "unmute", float64(cueUnmuteHz)
	if muted {
		ev, hz = "mute", cueMuteHz
	}
	conf.out.cue.start(hz, 300*time.Millisecond)
	conf.mu.Lock()
	if len(conf.events) < cdr.MaxRoomEvents {
		conf.events = append(conf.events, cdr.RoomEvent{Event: ev, Participant: conf.self, At: c.now().UTC()})
	}
	conf.mu.Unlock()
	c.log.Info("conference: "+ev, "leg", "a", "room", c.target.Number)
	return true
}
