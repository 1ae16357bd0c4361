package recorder

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/codecs"
)

const (
	maxFrame     = 2880                   // samples per queued frame: 60 ms at 48 kHz
	defaultQueue = 500                    // frames: 5 s of both channels at 20 ms
	window       = 4 * time.Second        // alignment window held by the writer
	lag          = 200 * time.Millisecond // a channel this far behind the other is silent
	tolerance    = 40 * time.Millisecond  // timestamp slack taken as continuous audio
	flushEvery   = 100 * time.Millisecond // write batches of at least this much audio
)

// Config configures a Recorder.
type Config struct {
	// Path is the recording's file, ending in ".wav" (16-bit PCM WAV) or
	// ".ogg" (Ogg/Opus, stereo); the sidecar is the same path ending in
	// ".json". The file must not exist.
	Path string
	// Rate is the recording's rate: 8000 (default) or 16000 Hz.
	Rate int
	// Channels is 2 (the default: caller left, callee right) or 1 (a
	// conference room's mix, written through Left; Right is ignored).
	Channels int
	// Queue is how many frames may wait for the writer (default 500,
	// 5 s of both channels at 20 ms); beyond it frames are dropped.
	Queue int
	// HeaderEvery is how much audio is written between header updates
	// (default 1 s): a killed process leaves a file playable up to about
	// this long before its end, and Repair restores the rest.
	HeaderEvery time.Duration
	// Meta is the sidecar's initial content (call id, parties, codecs,
	// CDR id); the recorder fills in the file, rate, times and status.
	Meta Metadata
	// Now returns the current time (default time.Now); the recording
	// starts at Now() when New is called.
	Now func() time.Time
	// Logger receives a line when a recording is cut; nil discards.
	Logger *slog.Logger

	// beforeWrite, in tests, runs before each disk write; an error
	// stands for a failed write.
	beforeWrite func() error
}

// Stats is a recording's state.
type Stats struct {
	// Dropped counts frames lost to a full queue, an unsupported rate,
	// or a cut.
	Dropped uint64
	// Cut reports that a disk error stopped the recording.
	Cut bool
}

// frame is one queued piece of one channel's PCM.
type frame struct {
	ch   int
	rate int
	at   time.Time
	n    int
	pcm  [maxFrame]int16
}

// Recorder records one call as a stereo WAV: the caller (Left) on the
// left channel, the callee (Right) on the right. Input writes go through a
// bounded queue to one writer goroutine; they never block.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	f     *os.File
	sink  sink // the file format (wav.go, ogg.go)
	left  Input
	right Input

	mu     sync.RWMutex // guards closed against Write's send
	closed bool
	queue  chan *frame
	free   chan *frame  // frames back from the writer, for reuse
	made   atomic.Int64 // frames allocated so far, at most Config.Queue
	done   chan struct{}

	dropped atomic.Uint64

	partyMu sync.Mutex // guards parties
	parties []Party    // a room's participants (AddParticipant)
	cut     atomic.Bool
	result  error

	// Owned by the writer goroutine.
	meta     Metadata
	start    time.Time
	chans    [2]channel
	base     int64 // absolute sample index of bufs[*][0]
	bufs     [2][]int16
	tmp      []int16
	inter    []int16 // interleaved samples of one flush
	data     int64   // bytes of 16-bit stereo PCM written (the audio's length)
	lastHead int64
}

// channel is the writer's state for one side.
type channel struct {
	res    *codecs.Resampler
	cursor int64 // absolute sample index after the last placed sample
}

// Input is one side of a recording.
type Input struct {
	r  *Recorder
	ch int
}

// New creates the recording file (mode 0600) and its initial sidecar, and
// starts the writer goroutine.
func New(cfg Config) (*Recorder, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 8000
	}
	if cfg.Rate != 8000 && cfg.Rate != 16000 {
		return nil, fmt.Errorf("recorder: rate %d Hz: want 8000 or 16000", cfg.Rate)
	}
	if cfg.Channels == 0 {
		cfg.Channels = 2
	}
	if cfg.Channels != 1 && cfg.Channels != 2 {
		return nil, fmt.Errorf("recorder: %d channels: want 1 or 2", cfg.Channels)
	}
	format := strings.TrimPrefix(filepath.Ext(cfg.Path), ".")
	if format != "wav" && format != "ogg" {
		return nil, fmt.Errorf("recorder: path %q must end in .wav or .ogg", cfg.Path)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultQueue
	}
	if cfg.HeaderEvery <= 0 {
		cfg.HeaderEvery = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	snk, err := newSink(format, f, cfg.Rate, cfg.Channels)
	if err != nil {
		f.Close()
		os.Remove(cfg.Path)
		return nil, fmt.Errorf("recorder: %w", err)
	}
	r := &Recorder{
		cfg: cfg, f: f, sink: snk, log: log.With("call_id", cfg.Meta.CallID, "file", cfg.Path),
		queue: make(chan *frame, cfg.Queue),
		free:  make(chan *frame, cfg.Queue),
		done:  make(chan struct{}),
		start: cfg.Now(),
		tmp:   make([]int16, maxFrame*cfg.Rate/8000+1),
		inter: make([]int16, 0, 2*int(window.Seconds())*cfg.Rate),
	}
	// Frames are made as the queue first needs them: with the writer
	// keeping up, a few cycle, and a recording holds kilobytes, not the
	// whole queue's megabytes.
	n := int(window.Seconds() * float64(cfg.Rate))
	r.bufs = [2][]int16{make([]int16, n), make([]int16, n)}
	r.left, r.right = Input{r, 0}, Input{r, 1}
	r.meta = cfg.Meta
	r.meta.Channels = map[string]string{"left": "caller", "right": "callee"}
	if cfg.Channels == 1 {
		r.meta.Channels = map[string]string{"mono": "room"}
	}
	r.meta.File = filepath.Base(cfg.Path)
	r.meta.Format = format
	r.meta.SampleRate = cfg.Rate
	r.meta.Start = r.start.UTC()
	r.meta.Status = StatusRecording
	if err := writeSidecar(sidecarPath(cfg.Path), r.meta); err != nil {
		f.Close()
		os.Remove(cfg.Path)
		return nil, fmt.Errorf("recorder: sidecar: %w", err)
	}
	go r.run()
	return r, nil
}

// Path returns the recording's file.
func (r *Recorder) Path() string { return r.cfg.Path }

// Left returns the caller's input (the left channel).
func (r *Recorder) Left() *Input { return &r.left }

// Right returns the callee's input (the right channel).
func (r *Recorder) Right() *Input { return &r.right }

// AddParticipant adds a conference participant to the sidecar's list
// (written when the recording ends). Safe from any goroutine.
func (r *Recorder) AddParticipant(p Party) {
	r.partyMu.Lock()
	defer r.partyMu.Unlock()
	r.parties = append(r.parties, p)
}

// Stats returns the recording's counters; safe from any goroutine.
func (r *Recorder) Stats() Stats { return Stats{Dropped: r.dropped.Load(), Cut: r.cut.Load()} }

// Write queues pcm (mono, rate Hz, first sample at time at) for this
// side. It never blocks and does not allocate: when the queue is full the
// frame is dropped and counted. Safe from any goroutine; after Close it
// does nothing.
func (in *Input) Write(pcm []int16, rate int, at time.Time) {
	for len(pcm) > 0 {
		k := min(len(pcm), maxFrame)
		in.r.enqueue(in.ch, pcm[:k], rate, at)
		at = at.Add(time.Duration(k) * time.Second / time.Duration(max(rate, 1)))
		pcm = pcm[k:]
	}
}

// WritePCM is Write under the name of a media tap (media.Tap), so that
// an Input attaches to a bridge direction or a terminal as it is.
func (in *Input) WritePCM(pcm []int16, rate int, at time.Time) { in.Write(pcm, rate, at) }

func (r *Recorder) enqueue(ch int, pcm []int16, rate int, at time.Time) {
	if ch >= r.cfg.Channels {
		return // Right of a mono recording
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return
	}
	var fr *frame
	select {
	case fr = <-r.free:
	default:
		if r.made.Add(1) > int64(r.cfg.Queue) {
			r.made.Add(-1)
			r.dropped.Add(1)
			return
		}
		fr = new(frame)
	}
	fr.ch, fr.rate, fr.at, fr.n = ch, rate, at, copy(fr.pcm[:], pcm)
	r.queue <- fr // never blocks: the queue holds as many frames as exist
}

// Close stops the inputs, writes what is queued, finalises the header and
// the sidecar, and waits for the writer goroutine. It returns the disk
// error that cut the recording, if any. It is idempotent.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	<-r.done
	return r.result
}

// run is the writer goroutine: it places frames on the timeline and
// writes them out, then finishes the file when the queue is closed.
func (r *Recorder) run() {
	defer close(r.done)
	for fr := range r.queue {
		if r.cut.Load() {
			r.dropped.Add(1)
		} else {
			r.place(fr)
		}
		r.free <- fr
	}
	r.flushTo(r.head())
	r.finish()
}

// head is the timeline's end: the furthest a channel has reached.
func (r *Recorder) head() int64 {
	hi := r.chans[0].cursor
	if r.cfg.Channels == 2 {
		hi = max(hi, r.chans[1].cursor)
	}
	return hi
}

// samples converts a duration to samples at the recording rate.
func (r *Recorder) samples(d time.Duration) int64 {
	return int64(d.Seconds()*float64(r.cfg.Rate) + 0.5)
}

// place resamples fr and puts it on its channel's timeline: at its
// timestamp after a gap (the gap stays silent), else right after the
// channel's previous audio.
func (r *Recorder) place(fr *frame) {
	c := &r.chans[fr.ch]
	if c.res == nil || c.res.FromRate() != fr.rate {
		res, err := codecs.NewResampler(fr.rate, r.cfg.Rate)
		if err != nil {
			r.dropped.Add(1)
			return
		}
		if c.res != nil {
			c.res.Close()
		}
		c.res = res
	}
	n := int64(c.res.Process(fr.pcm[:fr.n], r.tmp))
	pos := r.samples(fr.at.Sub(r.start))
	if pos < c.cursor+r.samples(tolerance) {
		pos = c.cursor
	}
	pos = max(pos, r.base)
	if over := pos + n - r.base - int64(len(r.bufs[0])); over > 0 {
		r.flushTo(r.base + over)
		pos = max(pos, r.base)
	}
	copy(r.bufs[fr.ch][pos-r.base:], r.tmp[:n])
	c.cursor = pos + n

	hi := r.head()
	upto := hi
	for i := range r.cfg.Channels {
		upto = min(upto, max(r.chans[i].cursor, hi-r.samples(lag)))
	}
	if upto-r.base >= r.samples(flushEvery) {
		r.flushTo(upto)
	}
}

// flushTo writes the timeline from base up to upto, interleaved, and
// moves base there; a channel that has not reached upto is silent.
func (r *Recorder) flushTo(upto int64) {
	for upto-r.base > int64(len(r.bufs[0])) { // a long gap: in window-sized steps
		r.flushTo(r.base + int64(len(r.bufs[0])))
	}
	n := upto - r.base
	if n <= 0 {
		return
	}
	if !r.cut.Load() {
		inter := r.inter[:0]
		if r.cfg.Channels == 1 {
			inter = append(inter, r.bufs[0][:n]...)
		} else {
			for i := range n {
				inter = append(inter, r.bufs[0][i], r.bufs[1][i])
			}
		}
		r.inter = inter[:0]
		if err := r.write(inter); err != nil {
			r.cutOff(err)
		} else {
			r.data += 2 * int64(len(inter))
			if r.data-r.lastHead >= int64(2*r.cfg.Channels)*r.samples(r.cfg.HeaderEvery) {
				if err := r.writeHeader(); err != nil {
					r.cutOff(err)
				}
			}
		}
	}
	for i := range r.bufs {
		copy(r.bufs[i], r.bufs[i][n:])
		clear(r.bufs[i][int64(len(r.bufs[i]))-n:])
		r.chans[i].cursor = max(r.chans[i].cursor, upto)
	}
	r.base = upto
}

func (r *Recorder) write(inter []int16) error {
	if r.cfg.beforeWrite != nil {
		if err := r.cfg.beforeWrite(); err != nil {
			return err
		}
	}
	return r.sink.write(inter)
}

// writeHeader brings the file's own bookkeeping up to what was written
// (a WAV header's sizes; nothing for Ogg, whose pages stand alone).
func (r *Recorder) writeHeader() error {
	r.lastHead = r.data
	return r.sink.checkpoint(r.data)
}

// cutOff stops the recording after a disk error; the call goes on.
func (r *Recorder) cutOff(err error) {
	r.cut.Store(true)
	r.result = fmt.Errorf("recorder: %s: %w", r.cfg.Path, err)
	r.meta.CutReason = err.Error()
	r.log.Warn("recording cut", "err", err)
}

// finish writes the final header and sidecar and closes the file.
func (r *Recorder) finish() {
	if err := r.writeHeader(); err != nil && !r.cut.Load() {
		r.cutOff(err)
	}
	if err := r.sink.close(); err != nil && !r.cut.Load() {
		r.cutOff(err)
	}
	if err := r.f.Close(); err != nil && !r.cut.Load() {
		r.cutOff(err)
	}
	for i := range r.chans {
		if r.chans[i].res != nil {
			r.chans[i].res.Close()
		}
	}
	r.meta.End = r.cfg.Now().UTC()
	r.meta.Seconds = float64(r.data) / float64(2*r.cfg.Channels*r.cfg.Rate)
	r.partyMu.Lock()
	r.meta.Participants = append(r.meta.Participants, r.parties...)
	r.partyMu.Unlock()
	r.meta.DroppedFrames = r.dropped.Load()
	r.meta.Status = StatusComplete
	if r.cut.Load() {
		r.meta.Status = StatusCut
	}
	if err := writeSidecar(sidecarPath(r.cfg.Path), r.meta); err != nil && r.result == nil {
		r.result = fmt.Errorf("recorder: sidecar: %w", err)
	}
}
