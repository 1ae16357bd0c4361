package mixer

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/codecs"
)

// FrameDuration is the length of the frame one Tick mixes.
const FrameDuration = 20 * time.Millisecond

// DefaultMaxTalkers is how many speakers are mixed when Config.MaxTalkers
// is zero.
const DefaultMaxTalkers = 3

// ErrClosed is returned by Join on a closed room.
var ErrClosed = errors.New("mixer: room closed")

// Config configures a Room.
type Config struct {
	// Name identifies the room in events and logs (e.g. its number).
	Name string
	// Rate is the internal mixing rate: 16000 (default) or 48000 Hz.
	Rate int
	// MaxTalkers is how many participants are mixed at most: the ones
	// the VAD finds talking, loudest first, then the loudest others
	// above the VAD's minimum level. Zero selects DefaultMaxTalkers.
	MaxTalkers int
	// VAD tunes talker detection; SampleRate is ignored (each
	// participant's detector runs at its input rate). Zero fields take
	// codecs' defaults (200 ms hangover).
	VAD codecs.VADConfig
	// Events, if set, receives room events on the Tick goroutine. It
	// must not block and must not call Tick; it may call Join or Leave
	// (they take effect on the next Tick).
	Events func(Event)
	// Logger receives join/leave lines; nil discards them.
	Logger *slog.Logger
}

// Room mixes the audio of its participants on one clock: each Tick mixes
// one 20 ms frame and hands each participant the mix of the others.
// Join, Leave, Write, Read and SetMuted may be called from any goroutine;
// Tick and Close from one goroutine (the room's clock) only.
type Room struct {
	cfg      Config
	frame    int // samples per frame at cfg.Rate
	minLevel float64
	log      *slog.Logger

	mu      sync.Mutex // guards joining, leaving, closed, count
	joining []*Participant
	leaving []*Participant
	closed  bool
	count   int // members plus joining, minus leaving

	// Spare backing arrays swapped with joining and leaving by each
	// Tick, so that applying them neither allocates nor races a Join.
	spareJoin, spareLeave []*Participant

	// tap, if set, receives the room's whole mix each Tick (SetTap).
	tap atomic.Pointer[Tap]

	// Owned by the Tick goroutine.
	members  []*Participant
	selected []*Participant // this tick's mixed talkers, loudest first
	sum      []int32
	mixAll   []int16 // clip(sum): what a participant that is not mixed hears
	events   []Event
	empty    bool
}

// NewRoom returns an empty room. Its owner calls Tick every 20 ms until
// it reports the room empty (or for as long as it wants the room), then
// Close.
func NewRoom(cfg Config) (*Room, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 16000
	}
	if cfg.Rate != 16000 && cfg.Rate != 48000 {
		return nil, fmt.Errorf("mixer: room rate %d Hz: want 16000 or 48000", cfg.Rate)
	}
	if cfg.MaxTalkers == 0 {
		cfg.MaxTalkers = DefaultMaxTalkers
	}
	if cfg.MaxTalkers < 0 {
		return nil, fmt.Errorf("mixer: MaxTalkers %d must not be negative", cfg.MaxTalkers)
	}
	// Validate the VAD settings once, at a rate every participant may use.
	vc := cfg.VAD
	vc.SampleRate = 8000
	if _, err := codecs.NewVAD(vc); err != nil {
		return nil, fmt.Errorf("mixer: %w", err)
	}
	minLevel := cfg.VAD.MinLevelDBov
	if minLevel == 0 {
		minLevel = -55 // codecs' VAD default
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := cfg.Rate / 50
	return &Room{
		cfg: cfg, frame: n, minLevel: minLevel,
		log:      log.With("room", cfg.Name),
		selected: make([]*Participant, 0, cfg.MaxTalkers),
		sum:      make([]int32, n),
		mixAll:   make([]int16, n),
		events:   make([]Event, 0, 16),
		empty:    true,
	}, nil
}

// Tap receives a room's whole mix (the sum of the mixed talkers,
// clipped) once per Tick: a recording of the room. WritePCM runs on the
// Tick goroutine and must not block; pcm is only valid during the call.
type Tap interface {
	WritePCM(pcm []int16, rate int, at time.Time)
}

// SetTap sets (nil: removes) the room's tap; safe from any goroutine.
func (r *Room) SetTap(t Tap) {
	if t == nil {
		r.tap.Store(nil)
		return
	}
	r.tap.Store(&t)
}

// Rate returns the room's mixing rate in Hz.
func (r *Room) Rate() int { return r.cfg.Rate }

// Len returns the number of participants, counting joins and leaves not
// yet applied by a Tick.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Empty reports whether the last Tick left the room without participants
// and none is waiting to join: the owner may then Close it.
func (r *Room) Empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count == 0
}

// Join adds a participant; it enters the mix on the next Tick.
func (r *Room) Join(pc ParticipantConfig) (*Participant, error) {
	p, err := newParticipant(r, pc)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		p.free()
		return nil, ErrClosed
	}
	r.joining = append(r.joining, p)
	r.count++
	return p, nil
}

// leave queues p's removal; called by Participant.Leave once.
func (r *Room) leave(p *Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.leaving = append(r.leaving, p)
	r.count--
}

// Tick mixes one 20 ms frame: it applies pending joins and leaves, takes
// one frame of each participant's input, picks the talkers, and delivers
// to each participant the mix of the talkers other than itself. now stamps
// the events. Tick does not allocate in steady state.
func (r *Room) Tick(now time.Time) {
	r.events = r.events[:0]
	r.applyMembership(now)

	// Input: one frame each, level and voice activity at the input rate.
	for _, p := range r.members {
		p.pull()
		if p.talking != p.wasTalking {
			kind := EventTalkStop
			if p.talking {
				kind = EventTalkStart
			}
			r.event(kind, p.cfg.ID, now)
			p.wasTalking = p.talking
		}
	}
	r.pickTalkers()

	// Mix: the selected talkers summed in int32.
	clear(r.sum)
	for _, p := range r.selected {
		p.toRoomRate(r.frame)
		for i, s := range p.roomIn {
			r.sum[i] += int32(s)
		}
	}
	for i, s := range r.sum {
		r.mixAll[i] = clip(s)
	}
	if t := r.tap.Load(); t != nil && len(r.members) > 0 {
		(*t).WritePCM(r.mixAll, r.cfg.Rate, now)
	}

	// Output: N-1 for talkers, the whole mix for everyone else.
	for _, p := range r.members {
		mix := r.mixAll
		if p.mixed {
			for i, s := range r.sum {
				p.roomOut[i] = clip(s - int32(p.roomIn[i]))
			}
			mix = p.roomOut
		}
		p.deliver(mix)
	}

	for _, e := range r.events {
		if r.cfg.Events != nil {
			r.cfg.Events(e)
		}
	}
}

// applyMembership moves joining participants in and leaving ones out.
func (r *Room) applyMembership(now time.Time) {
	r.mu.Lock()
	joining, leaving := r.joining, r.leaving
	r.joining, r.leaving = r.spareJoin[:0], r.spareLeave[:0]
	r.mu.Unlock()
	defer func() {
		clear(joining)
		clear(leaving)
		r.spareJoin, r.spareLeave = joining[:0], leaving[:0]
	}()
	if len(joining) == 0 && len(leaving) == 0 {
		return
	}
	for _, p := range joining {
		r.members = append(r.members, p)
		r.log.Info("participant joined", "participant", p.cfg.ID, "rate", p.cfg.Rate)
		r.event(EventJoin, p.cfg.ID, now)
	}
	for _, p := range leaving {
		for i, m := range r.members {
			if m == p {
				r.members = append(r.members[:i], r.members[i+1:]...)
				break
			}
		}
		if p.wasTalking {
			r.event(EventTalkStop, p.cfg.ID, now)
		}
		r.log.Info("participant left", "participant", p.cfg.ID)
		r.event(EventLeave, p.cfg.ID, now)
		p.free()
	}
	if len(r.members) == 0 && !r.empty {
		r.event(EventEmpty, "", now)
	}
	r.empty = len(r.members) == 0
}

func (r *Room) event(kind EventKind, id string, now time.Time) {
	r.events = append(r.events, Event{Kind: kind, Room: r.cfg.Name, Participant: id, At: now, Participants: len(r.members)})
}

// pickTalkers selects up to MaxTalkers participants: talking ones first,
// then by smoothed level; a participant mixed last tick gets a 3 dB
// advantage so two similar voices do not flap in and out.
func (r *Room) pickTalkers() {
	r.selected = r.selected[:0]
	k := r.cfg.MaxTalkers
	for _, p := range r.members {
		p.prevMixed, p.mixed = p.mixed, false
		if !p.hasInput || p.score < r.minLevel || k == 0 {
			continue
		}
		p.rank = p.score
		if p.talking {
			p.rank += 1000
		}
		if p.prevMixed {
			p.rank += 3
		}
		// Insertion into the short selection, kept sorted loudest first.
		if len(r.selected) == k {
			if r.selected[k-1].rank >= p.rank {
				continue
			}
			r.selected[k-1] = p
		} else {
			r.selected = append(r.selected, p)
		}
		for i := len(r.selected) - 1; i > 0 && r.selected[i-1].rank < r.selected[i].rank; i-- {
			r.selected[i-1], r.selected[i] = r.selected[i], r.selected[i-1]
		}
	}
	for _, p := range r.selected {
		p.mixed = true
	}
}

// Close removes every participant and frees their resamplers. Call it
// from the Tick goroutine, after the last Tick. Join then fails with
// ErrClosed.
func (r *Room) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	pending := append(r.joining, r.leaving...)
	r.joining, r.leaving, r.count = nil, nil, 0
	r.mu.Unlock()
	for _, p := range append(r.members, pending...) {
		p.free()
	}
	r.members = nil
	return nil
}

// clip saturates an int32 sum to int16.
func clip(s int32) int16 {
	if s > 32767 {
		return 32767
	}
	if s < -32768 {
		return -32768
	}
	return int16(s)
}
