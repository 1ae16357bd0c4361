package media

import (
	"errors"
	"fmt"
	"time"
)

// ErrPortsExhausted is returned (wrapped) by Engine.NewEndpoint when no RTP
// port pair is free.
var ErrPortsExhausted = errors.New("media: no free RTP port pair")

// portPool hands out even RTP ports (RTCP = RTP+1) from a range. Free ports
// are used in FIFO order so that a released port is reused as late as
// possible; released ports first wait out a quarantine. It is guarded by
// Engine.mu.
type portPool struct {
	min, max   int
	free       []int // FIFO: take from the front, return to the back
	quarantine []quarantined
	quarDur    time.Duration
	inUse      int
}

type quarantined struct {
	port  int
	until time.Time
}

func newPortPool(lo, hi int, quarantine time.Duration) *portPool {
	p := &portPool{min: lo, max: hi, quarDur: quarantine}
	for port := lo; port+1 <= hi; port += 2 {
		p.free = append(p.free, port)
	}
	return p
}

// expire moves ports whose quarantine has ended back to the free list.
// Quarantine entries are appended in release order with one fixed duration,
// so they expire in order.
func (p *portPool) expire(now time.Time) {
	n := 0
	for n < len(p.quarantine) && !now.Before(p.quarantine[n].until) {
		p.free = append(p.free, p.quarantine[n].port)
		n++
	}
	if n > 0 {
		p.quarantine = append(p.quarantine[:0], p.quarantine[n:]...)
	}
}

// take removes the next free port, or reports exhaustion.
func (p *portPool) take(now time.Time) (int, error) {
	p.expire(now)
	if len(p.free) == 0 {
		return 0, fmt.Errorf("%w in %d-%d (%d in use, %d quarantined)",
			ErrPortsExhausted, p.min, p.max, p.inUse, len(p.quarantine))
	}
	port := p.free[0]
	p.free = p.free[1:]
	p.inUse++
	return port, nil
}

// putBack returns a port that could not be bound to the back of the free
// list, so that the next allocation tries another one first.
func (p *portPool) putBack(port int) {
	p.inUse--
	p.free = append(p.free, port)
}

// release quarantines a port that was in use.
func (p *portPool) release(port int, now time.Time) {
	p.inUse--
	if p.quarDur <= 0 {
		p.free = append(p.free, port)
		return
	}
	p.quarantine = append(p.quarantine, quarantined{port: port, until: now.Add(p.quarDur)})
}

// size is the number of port pairs in the range.
func (p *portPool) size() int { return len(p.free) + len(p.quarantine) + p.inUse }
