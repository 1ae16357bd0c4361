package mixer

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchboard/switchboard/codecs"
)

// bufferFrames is how many 20 ms frames each input and output ring holds
// (100 ms): enough to absorb a tap and a clock that drift by a frame or
// two, short enough to bound the delay a backlog adds.
const bufferFrames = 5

// maxRate is the highest participant rate; rings are sized for it.
const maxRate = 48000

// ParticipantConfig configures one participant.
type ParticipantConfig struct {
	// ID names the participant in events (e.g. the call id and leg).
	ID string
	// Rate is the participant's PCM rate in Hz, for output and, until
	// Write says otherwise, input: 8000, 16000 or 48000 (any rate
	// codecs.Resampler accepts).
	Rate int
	// Output, if set, receives each mixed frame (20 ms at Rate) on the
	// Tick goroutine; it may encode and send it but must not block or
	// keep pcm after returning. When nil, frames wait in a 100 ms ring
	// for Read.
	Output func(pcm []int16)
}

// Stats counts a participant's buffer trouble.
type Stats struct {
	// InputDropped is the samples lost because Write outran the room's
	// clock (or came at an unsupported rate).
	InputDropped uint64
	// InputDry is the ticks at which less than a frame of input was
	// waiting, so the participant contributed nothing.
	InputDry uint64
	// OutputDropped is the samples lost because Read fell behind.
	OutputDropped uint64
}

// Participant is one member of a Room. Write, Read, SetMuted, Muted, Leave
// and Stats are safe from any goroutine.
type Participant struct {
	cfg  ParticipantConfig
	room *Room

	inMu   sync.Mutex // guards in, inRate
	in     ring
	inRate int

	outMu sync.Mutex // guards out
	out   ring

	muted      atomic.Bool
	left       sync.Once
	gone       atomic.Bool
	inDropped  atomic.Uint64
	inDry      atomic.Uint64
	outDropped atomic.Uint64

	// Owned by the room's Tick goroutine.
	inFrame    []int16 // one input frame at the input rate
	frameRate  int     // rate vad and inRes were built for
	vad        *codecs.VAD
	inRes      *codecs.Resampler // input rate -> room rate
	outRes     *codecs.Resampler // room rate -> cfg.Rate
	roomIn     []int16           // this tick's input at the room rate (if mixed)
	roomOut    []int16           // this tick's N-1 mix at the room rate (if mixed)
	outFrame   []int16           // this tick's output at cfg.Rate
	hasInput   bool              // contributed a frame this tick
	talking    bool              // VAD decision this tick
	wasTalking bool              // decision reported in the last event
	score      float64           // smoothed level, dBov
	rank       float64
	mixed      bool // selected this tick
	prevMixed  bool // selected last tick
}

func newParticipant(r *Room, pc ParticipantConfig) (*Participant, error) {
	if pc.Rate <= 0 || pc.Rate > maxRate {
		return nil, fmt.Errorf("mixer: participant %q rate %d Hz unsupported", pc.ID, pc.Rate)
	}
	outRes, err := codecs.NewResampler(r.cfg.Rate, pc.Rate)
	if err != nil {
		return nil, fmt.Errorf("mixer: participant %q: %w", pc.ID, err)
	}
	p := &Participant{
		cfg: pc, room: r,
		in:       newRing(bufferFrames * maxRate / 50),
		inRate:   pc.Rate,
		out:      newRing(bufferFrames * pc.Rate / 50),
		inFrame:  make([]int16, maxRate/50),
		roomIn:   make([]int16, r.frame),
		roomOut:  make([]int16, r.frame),
		outFrame: make([]int16, outRes.MaxOut(r.frame)),
		outRes:   outRes,
		score:    -100,
	}
	if err := p.rebuildInput(pc.Rate); err != nil {
		outRes.Close()
		return nil, err
	}
	return p, nil
}

// ID returns ParticipantConfig.ID.
func (p *Participant) ID() string { return p.cfg.ID }

// Write queues pcm, mono samples at rate Hz, as the participant's input.
// A change of rate discards what was queued at the old rate. Write never
// blocks on the room; when more than 100 ms is queued the oldest samples
// are dropped (Stats.InputDropped). After Leave it does nothing.
func (p *Participant) Write(pcm []int16, rate int) {
	if p.gone.Load() || len(pcm) == 0 {
		return
	}
	if rate <= 0 || rate > maxRate || rate%50 != 0 {
		p.inDropped.Add(uint64(len(pcm)))
		return
	}
	p.inMu.Lock()
	if rate != p.inRate {
		p.inDropped.Add(uint64(p.in.len()))
		p.in.reset()
		p.inRate = rate
	}
	limit := bufferFrames * rate / 50
	dropped := p.in.push(pcm)
	if over := p.in.len() - limit; over > 0 {
		p.in.discard(over)
		dropped += over
	}
	p.inMu.Unlock()
	if dropped > 0 {
		p.inDropped.Add(uint64(dropped))
	}
}

// Read moves up to len(dst) samples of mixed output (at
// ParticipantConfig.Rate) into dst and returns how many; 0 when none is
// waiting. It is not used when ParticipantConfig.Output is set.
func (p *Participant) Read(dst []int16) int {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	return p.out.pop(dst)
}

// SetMuted mutes or unmutes the participant's input; a muted participant
// still hears the room.
func (p *Participant) SetMuted(muted bool) { p.muted.Store(muted) }

// Muted reports whether the participant is muted.
func (p *Participant) Muted() bool { return p.muted.Load() }

// Leave removes the participant from its room at the next Tick. It is
// idempotent.
func (p *Participant) Leave() {
	p.left.Do(func() {
		p.gone.Store(true)
		p.room.leave(p)
	})
}

// Stats returns the participant's counters.
func (p *Participant) Stats() Stats {
	return Stats{InputDropped: p.inDropped.Load(), InputDry: p.inDry.Load(), OutputDropped: p.outDropped.Load()}
}

// rebuildInput makes the VAD and input resampler for a new input rate.
// Only at Join and on a rate change: it allocates.
func (p *Participant) rebuildInput(rate int) error {
	vc := p.room.cfg.VAD
	vc.SampleRate = rate
	vad, err := codecs.NewVAD(vc)
	if err != nil {
		return fmt.Errorf("mixer: participant %q: %w", p.cfg.ID, err)
	}
	res, err := codecs.NewResampler(rate, p.room.cfg.Rate)
	if err != nil {
		return fmt.Errorf("mixer: participant %q: %w", p.cfg.ID, err)
	}
	if p.inRes != nil {
		p.inRes.Close()
	}
	p.vad, p.inRes, p.frameRate = vad, res, rate
	return nil
}

// pull takes this tick's input frame and runs talker detection on it.
func (p *Participant) pull() {
	p.inMu.Lock()
	rate := p.inRate
	n := rate / 50
	ok := p.in.len() >= n
	if ok {
		p.in.pop(p.inFrame[:n])
	}
	p.inMu.Unlock()
	if !ok {
		p.inDry.Add(1)
	}
	if ok && rate != p.frameRate {
		if err := p.rebuildInput(rate); err != nil {
			ok = false // unsupported rate: the frame is dropped
			p.inDropped.Add(uint64(n))
		}
	}
	p.hasInput = ok && !p.muted.Load()
	if !p.hasInput {
		p.talking = false
		p.score = -100
		return
	}
	p.talking = p.vad.Process(p.inFrame[:n])
	p.score = 0.5*p.score + 0.5*p.vad.Level()
}

// toRoomRate fills roomIn with this tick's input at the room rate. The
// input resampler only runs for mixed participants; it restarts clean
// when a participant enters the mix.
func (p *Participant) toRoomRate(frame int) {
	n := p.frameRate / 50
	if p.frameRate == p.room.cfg.Rate {
		copy(p.roomIn, p.inFrame[:n])
		return
	}
	if !p.prevMixed {
		p.inRes.Reset()
	}
	got := p.inRes.Process(p.inFrame[:n], p.roomIn)
	clear(p.roomIn[got:frame])
}

// deliver converts mix to the participant's rate and hands it over.
func (p *Participant) deliver(mix []int16) {
	out := mix
	if p.cfg.Rate != p.room.cfg.Rate {
		out = p.outFrame[:p.outRes.Process(mix, p.outFrame)]
	}
	if p.cfg.Output != nil {
		p.cfg.Output(out)
		return
	}
	p.outMu.Lock()
	dropped := p.out.push(out)
	p.outMu.Unlock()
	if dropped > 0 {
		p.outDropped.Add(uint64(dropped))
	}
}

// free releases the C state of the resamplers.
func (p *Participant) free() {
	p.gone.Store(true)
	if p.inRes != nil {
		p.inRes.Close()
	}
	p.outRes.Close()
}
