package b2bua

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/config"
)

// Overload control: admission of new calls, decided in the read filter
// (the earliest point, before sipgo parses the message, before any
// transaction, dialog or media state) from load measured as it happens:
//
//	UDP socket ─ recvmsg + kernel receive time (SO_TIMESTAMPNS)
//	     │  queue delay of each datagram; the least of each 100 ms
//	     │  window, 0 whenever the reader found the queue empty, is the
//	     │  standing delay (CoDel's measure: a burst or a stall is not one)
//	     ▼
//	readFilter ─ new INVITE? (start line, no To tag, not a retransmission
//	     │       of a call in progress) ── and overloaded() says why:
//	     │         standing queue delay > overload.max_queue_delay
//	     │         INVITEs in flight (admitted, no final response) ≥ max_setups
//	     │         open descriptors (media sockets counted exactly, the
//	     │           rest sampled every 5 s) + a call's 4 > limit − fd_reserve
//	     │         fewer than 2 free RTP port pairs
//	     ├─ yes ─► stateless 503 + Retry-After, counted by reason, logged
//	     └─ no ──► sipgo parser ─► transactions ─► handler
//
// Everything else (ACK, BYE, CANCEL, in-dialog requests, responses,
// retransmissions of INVITEs that started a call) is never refused here.
// The per-message cost when not overloaded is a prefix compare for every
// message and a few atomic loads (and one engine lock for the port count)
// for each INVITE.
//
// The descriptor budget is fixed at start: RLIMIT_NOFILE's soft limit is
// raised to its hard limit, and config.CheckDescriptors refuses a
// configuration whose calls cannot fit.

// shedReason says why a new call was refused.
type shedReason uint8

const (
	shedNone shedReason = iota
	shedQueue
	shedSetups
	shedFDs
	shedPorts
	nShedReasons
)

// shedReasonNames are the reasons as logs and metrics name them.
var shedReasonNames = [nShedReasons]string{"", "queue_delay", "setups", "descriptors", "ports"}

func (r shedReason) String() string { return shedReasonNames[r] }

// queueWindow is one UDP reader's window of queue delays (owned by the
// reader goroutine): the least delay seen since start, 0 once the reader
// found the queue empty.
type queueWindow struct {
	start, min int64 // Unix ns; ns
}

// queueInterval is the window over which a standing queue is judged.
const queueInterval = int64(100 * time.Millisecond)

// observe takes one datagram's delay d at now and publishes the finished
// window's least delay to standing when a window ends.
func (w *queueWindow) observe(now, d int64, standing *atomic.Int64) {
	if d < 0 {
		d = 0 // clock stepped back
	}
	if now-w.start >= queueInterval {
		standing.Store(w.min)
		w.start, w.min = now, d
		return
	}
	w.min = min(w.min, d)
}

// empty notes that the reader found the queue empty: no standing queue in
// this window.
func (w *queueWindow) empty() { w.min = 0 }

// overload is the server's admission control.
type overload struct {
	log        *slog.Logger
	maxDelay   int64 // ns
	maxSetups  int64 // 0: unbounded
	retryAfter string
	fdLimit    int64 // soft RLIMIT_NOFILE after raising it
	fdReserve  int64
	ports      func() (free, bound int) // media.Engine.PortUse

	standing atomic.Int64 // ns, published by the UDP readers (queueWindow)
	setups   atomic.Int64 // INVITEs admitted without a final response yet
	// other is the open descriptors that are no media socket, sampled
	// every otherSample: media sockets (two per bound port pair) are
	// counted exactly for each decision, the rest changes slowly.
	other    atomic.Int64
	fds      atomic.Int64 // open descriptors at the last decision or sample
	rejected [nShedReasons]atomic.Uint64
	oc       ocCounter // RFC 7339 toward upstream clients (overload_oc.go)

	stop chan struct{}
	wg   sync.WaitGroup
}

// fdsPerCall is one bridged call's media sockets (config.CheckDescriptors
// uses the same figure).
const fdsPerCall = 4

// overloadSample is how often refusals are logged, otherSample how often
// the descriptors that are no media socket are counted (reading
// /proc/self/fd costs about a microsecond per descriptor: at tens of
// thousands of sockets, too much to do often).
const (
	overloadSample = time.Second
	otherSample    = 5 * time.Second
)

// newOverload raises the descriptor limit, checks the configuration
// against it and starts the sampler; nil (admission control off) when
// overload.enabled is false. The descriptor check applies either way.
func newOverload(cfg *config.Config, ports func() (free, bound int), log *slog.Logger) (*overload, error) {
	limit, err := raiseDescriptorLimit()
	if err != nil {
		log.Warn("descriptor limit unknown", "error", err)
	}
	if limit > 0 {
		warn, err := cfg.CheckDescriptors(limit)
		if err != nil {
			return nil, err
		}
		if warn != "" {
			log.Warn("descriptor budget", "detail", warn)
		}
	}
	o := &cfg.Overload
	if !o.On() {
		return nil, nil
	}
	ov := &overload{
		log:        log,
		maxDelay:   int64(o.MaxQueueDelay),
		maxSetups:  int64(o.MaxSetups),
		retryAfter: fmt.Sprint(int(o.RetryAfter / time.Second)),
		fdLimit:    int64(limit),
		fdReserve:  int64(o.FDReserve),
		ports:      ports,
		stop:       make(chan struct{}),
	}
	ov.sampleOther()
	ov.wg.Add(1)
	go ov.sampler()
	return ov, nil
}

// overloaded says whether a new call would be refused now, and why.
func (o *overload) overloaded() shedReason {
	if o.standing.Load() > o.maxDelay {
		return shedQueue
	}
	setups := o.setups.Load()
	if o.maxSetups > 0 && setups >= o.maxSetups {
		return shedSetups
	}
	free, bound := 1<<30, 0
	if o.ports != nil {
		free, bound = o.ports()
	}
	if o.fdLimit > 0 {
		// Calls in setup may not have bound their sockets yet: counted
		// in full, which errs on the safe side.
		fds := o.other.Load() + 2*int64(bound)
		o.fds.Store(fds)
		if fds+fdsPerCall*(setups+1) > o.fdLimit-o.fdReserve {
			return shedFDs
		}
	}
	if free < 2 {
		return shedPorts
	}
	return shedNone
}

// sampleOther counts the open descriptors that are no media socket.
func (o *overload) sampleOther() {
	n := int64(countFDs())
	bound := 0
	if o.ports != nil {
		_, bound = o.ports()
	}
	o.other.Store(max(n-2*int64(bound), 0))
	o.fds.Store(n)
}

// refused counts one refused call.
func (o *overload) refused(r shedReason) { o.rejected[r].Add(1) }

// OverloadStats are admission control's counters and measures.
type OverloadStats struct {
	// Rejected counts new calls refused with 503, by reason
	// (queue_delay, setups, descriptors, ports).
	Rejected map[string]uint64
	// QueueDelay is the standing delay of the SIP UDP receive queue.
	QueueDelay time.Duration
	// Setups counts INVITEs admitted and not yet finally answered.
	Setups int64
	// FDs is the open descriptors at the last sample, FDLimit the limit.
	FDs, FDLimit int64
}

func (o *overload) stats() OverloadStats {
	st := OverloadStats{Rejected: map[string]uint64{}}
	if o == nil {
		return st
	}
	for r := shedQueue; r < nShedReasons; r++ {
		st.Rejected[r.String()] = o.rejected[r].Load()
	}
	st.QueueDelay = time.Duration(o.standing.Load())
	st.Setups = o.setups.Load()
	st.FDs, st.FDLimit = o.fds.Load(), o.fdLimit
	return st
}

// sampler counts descriptors and logs refusals: one line per second while
// calls are refused, and one when refusing stops.
func (o *overload) sampler() {
	defer o.wg.Done()
	tick := time.NewTicker(overloadSample)
	defer tick.Stop()
	var last [nShedReasons]uint64
	var lastOffered uint64
	lastOther := time.Now()
	refusing := false
	for {
		select {
		case <-o.stop:
			return
		case <-tick.C:
		}
		if time.Since(lastOther) >= otherSample {
			lastOther = time.Now()
			o.sampleOther()
		}
		var total, since uint64
		attrs := []any{}
		for r := shedQueue; r < nShedReasons; r++ {
			n := o.rejected[r].Load()
			total += n
			if d := n - last[r]; d > 0 {
				since += d
				attrs = append(attrs, r.String(), d)
			}
			last[r] = n
		}
		offered := o.oc.offered.Load()
		o.oc.sample(offered-lastOffered, since)
		lastOffered = offered
		switch {
		case since > 0:
			refusing = true
			o.log.Warn("overload: new calls refused with 503", append(attrs, "refused", since, "refused_total", total,
				"standing_delay", time.Duration(o.standing.Load()), "setups", o.setups.Load(), "fds", o.fds.Load(), "fd_limit", o.fdLimit)...)
		case refusing:
			refusing = false
			o.log.Info("overload: accepting new calls again", "refused_total", total)
		}
	}
}

// close stops the sampler.
func (o *overload) close() {
	if o == nil {
		return
	}
	close(o.stop)
	o.wg.Wait()
}

// raiseDescriptorLimit raises the soft RLIMIT_NOFILE to the hard limit
// (Go's runtime does the same at start since Go 1.19; this also covers a
// limit lowered since) and returns the soft limit in force.
func raiseDescriptorLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		want := l
		want.Cur = want.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			l = want
		}
	}
	return l.Cur, nil
}
