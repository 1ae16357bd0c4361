package b2bua

import (
	"crypto/subtle"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/mixer"
	"github.com/switchboard/switchboard/recorder"
)

// Conference rooms: a route to: conference joins the room named by the
// dialled number (after rewrite). Each participant's leg ends in a
// media.Terminal (service_call.go) wired to its mixer.Participant; the
// room mixes on the engine's playout clock, one frame per tick:
//
//	leg RTP ─► Terminal: decode ─► roomInput.WritePCM ─► Participant.Write ─┐
//	                                                        Room.Tick (playout clock):
//	                                                        N-1 mix, talkers ┘
//	leg RTP ◄─ Terminal: encode ◄─ roomOutput.ReadPCM ◄─ Participant.Read ◄──┘
//
// Rooms are created on the first join and closed when the last
// participant leaves. With services.conference_pin, a caller first hears
// a prompt tone and keys the PIN and # (three wrong tries hang up).

// conferences is the server's set of rooms, shared by every call.
type conferences struct {
	e   *media.Engine
	log *slog.Logger

	mu    sync.Mutex // guards rooms
	rooms map[string]*confRoom
}

// confRoom is one open room and its place on the playout clock.
type confRoom struct {
	room    *mixer.Room
	off     func() // takes the room off the clock
	members int    // guarded by conferences.mu
	// rec is the room's recording (conference_recording.go), guarded by
	// conferences.mu.
	rec *recorder.Recorder

	// mu guards listeners; a leaf, taken on the room's Tick (Events) and
	// never held while the room leaves the clock.
	mu        sync.Mutex
	listeners map[string]func(mixer.Event)
}

// event hands a room event to every participant's call.
func (r *confRoom) event(ev mixer.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.listeners {
		l(ev)
	}
}

func newConferences(e *media.Engine, log *slog.Logger) *conferences {
	return &conferences{e: e, log: log, rooms: map[string]*confRoom{}}
}

// joinRoom implements mediaPath: the engine's rooms, made on first use.
func (m *engineMedia) joinRoom(name string, rate int, pc mixer.ParticipantConfig, events func(mixer.Event), rr *roomRecord) (*mixer.Participant, func(), error) {
	m.roomsOnce.Do(func() { m.rooms = newConferences(m.e, m.log) })
	return m.rooms.join(name, rate, pc, events, rr)
}

// join adds a participant to room name (creating the room at rate), and
// returns it with the function that takes it out again (closing the room
// when it was the last). events, if set, receives the room's events on
// the room's clock while the participant is in it; it must not block.
// rr, if set, is the participant's part in the room's recording.
func (cs *conferences) join(name string, rate int, pc mixer.ParticipantConfig, events func(mixer.Event), rr *roomRecord) (*mixer.Participant, func(), error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	r := cs.rooms[name]
	if r == nil {
		log := cs.log.With("room", name)
		r = &confRoom{listeners: map[string]func(mixer.Event){}}
		room, err := mixer.NewRoom(mixer.Config{Name: name, Rate: rate, Logger: log, Events: func(ev mixer.Event) {
			log.Info("room event", "event", ev.Kind.String(), "participant", ev.Participant, "participants", ev.Participants)
			r.event(ev)
		}})
		if err != nil {
			return nil, nil, err
		}
		r.room, r.off = room, cs.e.AddClock(room)
		cs.rooms[name] = r
	}
	p, err := r.room.Join(pc)
	if err != nil {
		return nil, nil, err
	}
	r.members++
	r.recordRoom(name, rr, cs.log.With("room", name).Error)
	if events != nil {
		r.mu.Lock()
		r.listeners[pc.ID] = events
		r.mu.Unlock()
	}
	var once sync.Once
	leave := func() {
		once.Do(func() {
			p.Leave()
			r.mu.Lock()
			delete(r.listeners, pc.ID)
			r.mu.Unlock()
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if r.members--; r.members > 0 {
				return
			}
			delete(cs.rooms, name)
			r.off()
			r.stopRoomRecording(cs.log.With("room", name).Error)
			_ = r.room.Close()
		})
	}
	return p, leave, nil
}

// roomInput is a Tap feeding a participant's input.
type roomInput struct {
	p atomic.Pointer[mixer.Participant]
}

// WritePCM implements media.Tap.
func (in *roomInput) WritePCM(pcm []int16, rate int, _ time.Time) {
	if p := in.p.Load(); p != nil {
		p.Write(pcm, rate)
	}
}

// roomOutput is a Source reading a participant's mix (before the join,
// or while a PIN is asked, it plays its prompt instead).
type roomOutput struct {
	p      atomic.Pointer[mixer.Participant]
	rate   int // the participant's output rate
	prompt media.Source
	cue    cue // a join, leave or mute tone over the mix (conference_controls.go)
}

// ReadPCM implements media.Source.
func (out *roomOutput) ReadPCM(pcm []int16, rate int) bool {
	p := out.p.Load()
	if p == nil {
		if out.prompt != nil {
			return out.prompt.ReadPCM(pcm, rate)
		}
		return false
	}
	if rate != out.rate {
		return false
	}
	n := p.Read(pcm)
	clear(pcm[n:])
	out.cue.mix(pcm, rate)
	return true
}

// conference is a participant's state in its call.
type conference struct {
	self  string // the participant's id (the call's)
	in    *roomInput
	out   *roomOutput
	leave func()
	p     *mixer.Participant // once joined
	pin   string
	typed []byte
	tries int
	// recording is the room's recording, if the room is recorded.
	recording *recorder.Recorder

	// mu guards events: the room's, for the CDR (from the room's clock).
	mu     sync.Mutex
	events []cdr.RoomEvent
}

// roomEvent keeps ev for the call's record (at most cdr.MaxRoomEvents).
func (conf *conference) roomEvent(ev mixer.Event) {
	conf.cueFor(ev) // conference_controls.go
	conf.mu.Lock()
	defer conf.mu.Unlock()
	if len(conf.events) < cdr.MaxRoomEvents {
		conf.events = append(conf.events, cdr.RoomEvent{Event: ev.Kind.String(), Participant: ev.Participant, At: ev.At.UTC(), Participants: ev.Participants})
	}
}

// conferenceMedia prepares a to: conference call's source and tap; the
// join waits for the PIN when one is configured.
func (c *Call) conferenceMedia(svc *service) {
	pol := c.host.currentPolicy()
	conf := &conference{self: c.id, in: &roomInput{}, out: &roomOutput{}, pin: pol.cfg.Services.ConferencePIN}
	if conf.pin != "" {
		conf.out.prompt = &pinPrompt{}
	}
	svc.src, svc.tap, svc.conf = conf.out, conf.in, conf
	c.rec.Room = c.target.Number
}

// joinConference puts the caller in its room (after the PIN, if any);
// false when the room cannot take it (the call is failed or hung up).
func (c *Call) joinConference() bool {
	conf := c.svc.conf
	rate := c.svc.term.SendRate()
	if rate == 0 {
		c.abort(500, "conference: no send rate")
		return false
	}
	pol := c.host.currentPolicy()
	rr := &roomRecord{open: c.roomRecorder(), party: recorder.Party{Name: c.rec.From, Codec: codecName(c.a.Codecs)}}
	p, leave, err := c.media.joinRoom(c.target.Number, pol.cfg.Services.ConferenceRate, mixer.ParticipantConfig{ID: c.id, Rate: rate}, conf.roomEvent, rr)
	if err != nil {
		c.log.Error("conference join", "leg", "a", "room", c.target.Number, "error", err)
		c.abort(503, "conference unavailable")
		return false
	}
	conf.leave = leave
	conf.recording = rr.rec
	conf.out.rate = rate
	conf.p = p
	conf.in.p.Store(p)
	conf.out.p.Store(p)
	c.log.Info("joined conference", "leg", "a", "room", c.target.Number, "rate", rate)
	return true
}

// leaveConference takes the call out of its room as it ends.
func (c *Call) leaveConference() {
	if c.svc == nil || c.svc.conf == nil || c.svc.conf.leave == nil {
		return
	}
	conf := c.svc.conf
	conf.leave()
	conf.leave = nil
	c.roomRecordingState(conf.recording) // conference_recording.go
	conf.mu.Lock()
	c.rec.RoomEvents = conf.events
	conf.mu.Unlock()
}

// conferenceDigit takes a key of the PIN: # ends it; three wrong PINs
// hang up. It reports whether the digit was the conference's.
func (c *Call) conferenceDigit(key byte) bool {
	if c.svc == nil || c.svc.conf == nil {
		return false
	}
	if c.svc.conf.leave != nil {
		return c.conferenceControl(key) // in the room (conference_controls.go)
	}
	if c.svc.conf.pin == "" {
		return false
	}
	conf := c.svc.conf
	if key != '#' {
		if len(conf.typed) < 32 {
			conf.typed = append(conf.typed, key)
		}
		return true
	}
	ok := subtle.ConstantTimeCompare(conf.typed, []byte(conf.pin)) == 1
	conf.typed = conf.typed[:0]
	if ok {
		c.joinConference()
		return true
	}
	conf.tries++
	c.log.Info("conference: wrong PIN", "leg", "a", "room", c.target.Number, "tries", conf.tries)
	if conf.tries >= 3 {
		c.hangup(nil, cdr.HangupSwitchboard, "conference: wrong PIN")
	}
	return true
}

// pinPrompt is the tone asking for the PIN: 400 ms of 440 Hz every 2 s.
type pinPrompt struct {
	tone media.Tone
	pos  int // samples into the 2 s cycle
}

// ReadPCM implements media.Source.
func (p *pinPrompt) ReadPCM(pcm []int16, rate int) bool {
	p.tone.Frequency = 440
	if p.pos < rate*2/5 {
		p.tone.ReadPCM(pcm, rate)
	} else {
		clear(pcm)
	}
	p.pos = (p.pos + len(pcm)) % (2 * rate)
	return true
}

var (
	_ media.Tap    = (*roomInput)(nil)
	_ media.Source = (*roomOutput)(nil)
)
