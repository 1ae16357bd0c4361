package media

import (
	"errors"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// ErrClosed is returned when the Engine has been closed.
var ErrClosed = errors.New("media: engine closed")

// Engine owns the RTP port pool, the bound port pairs, the open endpoints
// and one sweeper goroutine that runs the inactivity checks of every
// started bridge, ends port quarantines and closes pairs left unused.
type Engine struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex // guards the fields below; see doc.go for lock order
	ports     *portPool
	pairs     map[int]*pair // every bound pair (in use, quarantined, warm) by RTP port
	endpoints map[*Endpoint]struct{}
	bridges   map[*Bridge]struct{} // started bridges with a timeout to watch
	closed    bool

	// reactors serve every pair's sockets, one goroutine each, as many as
	// GOMAXPROCS; a pair stays on the one openPair chose.
	reactors []*reactor

	// playout is the one clock of every processing stream.
	playout *playout

	stop chan struct{}
	done chan struct{}
	rtcp *rtcpClock // the RTCP goroutine (rtcp.go), stopped by stop

	// consent holds the ICE legs whose consent the sweeper checks (ice.go).
	consentMu sync.Mutex
	consent   map[*Endpoint]struct{}
}

// NewEngine validates cfg, fills in defaults and starts the sweeper.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:       cfg,
		log:       log,
		ports:     newPortPool(cfg.PortMin, cfg.PortMax, cfg.Quarantine),
		pairs:     make(map[int]*pair),
		endpoints: make(map[*Endpoint]struct{}),
		bridges:   make(map[*Bridge]struct{}),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	e.playout = newPlayout(cfg.Now, log)
	for range max(1, runtime.GOMAXPROCS(0)) {
		r, err := newReactor()
		if err != nil {
			for _, r := range e.reactors {
				r.close()
			}
			return nil, err
		}
		e.reactors = append(e.reactors, r)
	}
	go e.sweeper(cfg.sweepInterval())
	e.rtcp = e.startRTCP()
	return e, nil
}

// Close stops the sweeper and closes every endpoint still open. Bridges
// stop relaying as their endpoints close; no timeout callback runs after
// Close returns.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	eps := make([]*Endpoint, 0, len(e.endpoints))
	for ep := range e.endpoints {
		eps = append(eps, ep)
	}
	clear(e.bridges)
	e.mu.Unlock()
	close(e.stop)
	<-e.done
	e.playout.close()
	<-e.rtcp.done
	var errs []error
	for _, ep := range eps {
		errs = append(errs, ep.Close())
	}
	// Endpoints closed after e.closed close their own pairs
	// (releasePair); what is left is quarantined or warm.
	e.mu.Lock()
	pairs := make([]*pair, 0, len(e.pairs))
	for _, p := range e.pairs {
		pairs = append(pairs, p)
	}
	clear(e.pairs)
	e.mu.Unlock()
	for _, p := range pairs {
		errs = append(errs, p.close())
	}
	for _, r := range e.reactors {
		r.close()
	}
	return errors.Join(errs...)
}

// Active returns the number of open endpoints.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.endpoints)
}

// Pairs returns the size of the RTP port pool in port pairs (RTP on the
// even port, RTCP on the odd one above).
func (e *Engine) Pairs() int { return (e.cfg.PortMax - e.cfg.PortMin + 1) / 2 }

// PortUse returns how many port pairs a new endpoint could take now (free
// and warm ones, after expiring quarantines that have ended) and how many
// pairs are bound (each holds two sockets: in use, quarantined or warm).
// Admission control (b2bua overload) asks it for each new call.
func (e *Engine) PortUse() (free, bound int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ports.expire(e.cfg.Now())
	return len(e.ports.free) + len(e.ports.warm), len(e.pairs)
}

// Processing returns how many streams run through the processing path
// (each direction of a processed call is one), on the playout clock.
func (e *Engine) Processing() int {
	e.playout.mu.Lock()
	defer e.playout.mu.Unlock()
	return len(e.playout.of)
}

// Advertise returns the address endpoints advertise in SDP.
func (e *Engine) Advertise() netip.Addr { return e.cfg.Advertise }

func (e *Engine) register(ep *Endpoint) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.endpoints[ep] = struct{}{}
	return true
}

func (e *Engine) unregister(ep *Endpoint) {
	e.mu.Lock()
	delete(e.endpoints, ep)
	e.mu.Unlock()
}

// releasePair returns a pair no endpoint uses any more to the pool, still
// bound, or closes it once the engine is closed.
func (e *Engine) releasePair(p *pair) {
	e.mu.Lock()
	if e.closed {
		e.ports.release(p.port, false, e.cfg.Now())
		delete(e.pairs, p.port)
		e.mu.Unlock()
		_ = p.close()
		return
	}
	e.ports.release(p.port, true, e.cfg.Now())
	e.mu.Unlock()
}

// closeCold closes the pairs that have been warm (quarantine served, no
// endpoint) for longer than keep at now.
func (e *Engine) closeCold(now time.Time, keep time.Duration) {
	e.mu.Lock()
	e.ports.expire(now)
	ports := e.ports.cool(now.Add(-keep))
	pairs := make([]*pair, 0, len(ports))
	for _, port := range ports {
		if p := e.pairs[port]; p != nil {
			pairs = append(pairs, p)
			delete(e.pairs, port)
		}
	}
	e.mu.Unlock()
	for _, p := range pairs {
		_ = p.close()
	}
}

func (e *Engine) watch(br *Bridge) {
	if e.cfg.Inactivity <= 0 {
		return
	}
	e.mu.Lock()
	if !e.closed {
		e.bridges[br] = struct{}{}
	}
	e.mu.Unlock()
}

func (e *Engine) unwatch(br *Bridge) {
	e.mu.Lock()
	delete(e.bridges, br)
	e.mu.Unlock()
}

// sweeper runs sweep every interval until Close.
func (e *Engine) sweeper(interval time.Duration) {
	defer close(e.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			now := e.cfg.Now()
			e.sweep(now)
			e.sweepConsent(now) // ICE consent freshness (ice.go)
			e.closeCold(now, warmKeep)
		}
	}
}

// sweep ends expired quarantines and fires the timeout of every started,
// unpaused bridge idle for Config.Inactivity. Callbacks run after e.mu is
// released, so they may call Bridge.Stop or Endpoint.Close.
func (e *Engine) sweep(now time.Time) {
	type firing struct {
		br     *Bridge
		reason string
	}
	var fired []firing
	e.mu.Lock()
	e.ports.expire(now)
	limit := int64(e.cfg.Inactivity)
	for br := range e.bridges {
		if limit <= 0 {
			break
		}
		a, b := br.idle(now.UnixNano())
		if r := timeoutReason(a, b, limit); r != "" && br.fired.CompareAndSwap(false, true) {
			fired = append(fired, firing{br, r})
			delete(e.bridges, br)
		}
	}
	e.mu.Unlock()
	for _, f := range fired {
		f.br.log.Info("media timeout", "reason", f.reason, "after", e.cfg.Inactivity)
		if f.br.onTimeout != nil {
			f.br.onTimeout(f.reason)
		}
	}
}
