package media

import (
	"errors"
	"fmt"
	"time"
)

// ErrPortsExhausted is returned (wrapped) by Engine.NewEndpoint when no RTP
// port pair is free.
var ErrPortsExhausted = errors.New("media: no free RTP port pair")

// portPool hands out even RTP ports (RTCP = RTP+1) from a range. A port is
// in exactly one of four states: cold (free, no socket), in use, in
// quarantine (released; its sockets may still be open and draining) or warm
// (quarantine served, sockets still open). take prefers warm ports, so that
// a busy engine reuses bound sockets instead of closing and binding new
// ones; within each list ports are used in FIFO order, so that a released
// port is reused as late as possible. It is guarded by Engine.mu.
type portPool struct {
	min, max   int
	free       []int // cold, FIFO: take from the front, return to the back
	warm       []warmPort
	quarantine []quarantined
	quarDur    time.Duration
	inUse      int
}

type quarantined struct {
	port  int
	until time.Time
	open  bool // the pair's sockets stay open: warm after quarantine
}

type warmPort struct {
	port  int
	since time.Time // when it became warm
}

func newPortPool(lo, hi int, quarantine time.Duration) *portPool {
	p := &portPool{min: lo, max: hi, quarDur: quarantine}
	for port := lo; port+1 <= hi; port += 2 {
		p.free = append(p.free, port)
	}
	return p
}

// expire moves ports whose quarantine has ended to the warm or free list.
// Quarantine entries are appended in release order with one fixed duration,
// so they expire in order.
func (p *portPool) expire(now time.Time) {
	n := 0
	for n < len(p.quarantine) && !now.Before(p.quarantine[n].until) {
		q := p.quarantine[n]
		if q.open {
			p.warm = append(p.warm, warmPort{port: q.port, since: q.until})
		} else {
			p.free = append(p.free, q.port)
		}
		n++
	}
	if n > 0 {
		p.quarantine = append(p.quarantine[:0], p.quarantine[n:]...)
	}
}

// take removes the next free port, warm ones first, or reports exhaustion.
// warm tells whether the port's sockets are still open.
func (p *portPool) take(now time.Time) (port int, warm bool, err error) {
	p.expire(now)
	if len(p.warm) > 0 {
		port = p.warm[0].port
		p.warm = p.warm[1:]
		p.inUse++
		return port, true, nil
	}
	if len(p.free) == 0 {
		return 0, false, fmt.Errorf("%w in %d-%d (%d in use, %d quarantined)",
			ErrPortsExhausted, p.min, p.max, p.inUse, len(p.quarantine))
	}
	port = p.free[0]
	p.free = p.free[1:]
	p.inUse++
	return port, false, nil
}

// putBack returns a port that could not be bound to the back of the free
// list, so that the next allocation tries another one first.
func (p *portPool) putBack(port int) {
	p.inUse--
	p.free = append(p.free, port)
}

// release quarantines a port that was in use. open says its sockets stay
// open (the engine keeps the pair to reuse it).
func (p *portPool) release(port int, open bool, now time.Time) {
	p.inUse--
	if p.quarDur <= 0 {
		if open {
			p.warm = append(p.warm, warmPort{port: port, since: now})
		} else {
			p.free = append(p.free, port)
		}
		return
	}
	p.quarantine = append(p.quarantine, quarantined{port: port, until: now.Add(p.quarDur), open: open})
}

// cool moves warm ports that have been warm since before cutoff to the free
// list and returns them: their sockets are to be closed.
func (p *portPool) cool(cutoff time.Time) []int {
	n := 0
	for n < len(p.warm) && p.warm[n].since.Before(cutoff) {
		n++
	}
	if n == 0 {
		return nil
	}
	ports := make([]int, n)
	for i := range n {
		ports[i] = p.warm[i].port
	}
	p.free = append(p.free, ports...)
	p.warm = append(p.warm[:0], p.warm[n:]...)
	return ports
}

// size is the number of port pairs in the range.
func (p *portPool) size() int { return len(p.free) + len(p.warm) + len(p.quarantine) + p.inUse }
