package media

import (
	"log/slog"
	"runtime"
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

// playout is the engine's playout clock: one 20 ms tick for every
// processing stream, instead of a timer per call. It is sharded across
// GOMAXPROCS ticker goroutines (a stream joins the shard with the fewest
// streams), so transcoding is not held to one core; each shard runs only
// while it has a stream, so an engine that only relays never wakes up for
// it.
//
// remove returns only once no tick is inside the stream (the shard's tick
// holds its mu), which is what lets Bridge.Configure take a stream's
// outgoing state back without a race (process.go, "Handover").
type playout struct {
	mu     sync.Mutex // guards of; before playoutShard.mu
	shards []*playoutShard
	of     map[playoutStream]*playoutShard
	// manual: tests call tick themselves with a fake clock.
	manual bool
}

func newPlayout(now func() time.Time, log *slog.Logger) *playout {
	c := &playout{of: make(map[playoutStream]*playoutShard)}
	for range max(1, runtime.GOMAXPROCS(0)) {
		c.shards = append(c.shards, &playoutShard{now: now, log: log})
	}
	return c
}

// add registers s on the least loaded shard; its tick runs from that
// shard's next tick on.
func (c *playout) add(s playoutStream) {
	c.mu.Lock()
	sh := c.of[s]
	if sh == nil {
		sh = c.shards[0]
		for _, o := range c.shards[1:] {
			if o.load() < sh.load() {
				sh = o
			}
		}
		c.of[s] = sh
	}
	manual := c.manual
	c.mu.Unlock()
	sh.add(s, manual)
}

// remove unregisters s and returns once no tick is running it.
func (c *playout) remove(s playoutStream) {
	c.mu.Lock()
	sh := c.of[s]
	delete(c.of, s)
	c.mu.Unlock()
	if sh != nil {
		sh.remove(s)
	}
}

// tick runs every shard's streams for the playout instant now (tests with
// a manual clock).
func (c *playout) tick(now time.Time) {
	for _, sh := range c.shards {
		sh.tick(now)
	}
}

// close stops every shard for good and waits for their goroutines.
func (c *playout) close() {
	for _, sh := range c.shards {
		sh.close()
	}
}

// playoutShard is one ticker goroutine of the playout clock and the
// streams it runs in turn.
type playoutShard struct {
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex // guards the fields below; held while a tick runs
	streams []playoutStream
	stop    chan struct{} // closes the running ticker goroutine; nil when none
	done    chan struct{}
	manual  bool // tests call tick themselves with a fake clock
	closed  bool
}

// load is the number of streams on the shard.
func (c *playoutShard) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams)
}

// add registers s; its tick runs from the next tick of the clock on.
func (c *playoutShard) add(s playoutStream, manual bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.manual = manual
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
func (c *playoutShard) remove(s playoutStream) {
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
func (c *playoutShard) tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < len(c.streams); i++ {
		if !c.safeTick(c.streams[i], now) {
			c.streams = slices.Delete(c.streams, i, i+1)
			i--
		}
	}
}

func (c *playoutShard) safeTick(s playoutStream, now time.Time) (ok bool) {
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
func (c *playoutShard) run(stop, done chan struct{}) {
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
func (c *playoutShard) close() {
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

// Clocked is work that runs on the engine's playout clock beside the
// processing streams: a conference room mixing one frame per tick. Tick
// runs on a playout goroutine every PlayoutInterval; it must not block.
type Clocked interface {
	Tick(now time.Time)
}

// clocked adapts a Clocked to the playout clock's stream.
type clocked struct{ c Clocked }

func (c *clocked) tick(now time.Time) { c.c.Tick(now) }

// AddClock puts c on the playout clock and returns the function that
// takes it off again, which returns once no Tick of c is running.
func (e *Engine) AddClock(c Clocked) (remove func()) {
	s := &clocked{c: c}
	e.playout.add(s)
	return func() { e.playout.remove(s) }
}
