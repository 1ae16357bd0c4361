package media

import (
	"log/slog"
	"slices"
	"sync"
	"time"
)

// PlayoutInterval is the period of the engine's playout clock: every
// processing stream pops, decodes, encodes and sends on each tick.
const PlayoutInterval = 20 * time.Millisecond

// playoutStream is what the playout clock drives: one processing
// direction of a bridge.
type playoutStream interface {
	tick(now time.Time)
}

// playout is the engine's one playout clock: a single ticker goroutine
// that runs the tick of every processing stream in turn, instead of a
// timer per call. It runs only while at least one stream is registered,
// so an engine that only relays never wakes up for it.
//
// remove returns only once no tick is inside the stream (the tick holds
// mu), which is what lets Bridge.Configure take a stream's outgoing state
// back without a race (process.go, "Handover").
type playout struct {
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex // guards the fields below; held while a tick runs
	streams []playoutStream
	stop    chan struct{} // closes the running ticker goroutine; nil when none
	done    chan struct{}
	manual  bool // tests call tick themselves with a fake clock
	closed  bool
}

func newPlayout(now func() time.Time, log *slog.Logger) *playout {
	return &playout{now: now, log: log}
}

// add registers s; its tick runs from the next tick of the clock on.
func (c *playout) add(s playoutStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.streams = append(c.streams, s)
	if c.stop == nil && !c.manual {
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.run(c.stop, c.done)
	}
}

// remove unregisters s and returns once no tick is running it.
func (c *playout) remove(s playoutStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.streams, s); i >= 0 {
		c.streams = slices.Delete(c.streams, i, i+1)
	}
	if len(c.streams) == 0 && c.stop != nil {
		close(c.stop) // the goroutine exits at its next wake-up
		c.stop, c.done = nil, nil
	}
}

// tick runs every registered stream's tick for the playout instant now.
// A panic in one stream is logged and that stream dropped; the others
// keep playing.
func (c *playout) tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < len(c.streams); i++ {
		if !c.safeTick(c.streams[i], now) {
			c.streams = slices.Delete(c.streams, i, i+1)
			i--
		}
	}
}

func (c *playout) safeTick(s playoutStream, now time.Time) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("media processing panic; stream stopped", "panic", r)
			ok = false
		}
	}()
	s.tick(now)
	return true
}

// run is the ticker goroutine.
func (c *playout) run(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(PlayoutInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.tick(c.now())
		}
	}
}

// close stops the clock for good and waits for its goroutine.
func (c *playout) close() {
	c.mu.Lock()
	c.closed = true
	c.streams = nil
	stop, done := c.stop, c.done
	c.stop, c.done = nil, nil
	c.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
