package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pair is one bound RTP/RTCP port pair, served by one of the engine's
// reactors. A pair outlives the endpoints that use it: when an endpoint
// closes, its pair stays bound through the port's quarantine and for
// warmKeep after it, its sockets still read and whatever still arrives
// discarded (late packets of the old call never reach a new one), and the
// next endpoint reuses it without closing, binding and registering it
// again. The sweeper closes pairs that stay unused longer (Engine.sweep).
type pair struct {
	port      int
	rtp, rtcp *udpSocket
	reactor   *reactor
	now       func() time.Time
	log       *slog.Logger // the engine's

	// owner is the endpoint the reactor hands packets to (nil: discard).
	owner atomic.Pointer[Endpoint]
	// busy is set by the reactor around each hand-over to owner, so that
	// release can wait until no packet is inside the old owner (see
	// release).
	busy [2]atomic.Bool
	// drained counts packets read while no endpoint owned the pair.
	drained atomic.Uint64

	closeOnce sync.Once
}

// warmKeep is how long a pair stays bound after its quarantine, waiting to
// be reused, before the sweeper closes it. It bounds the sockets an idle
// engine keeps.
const warmKeep = 5 * time.Second

// openPair binds an RTP/RTCP pair on port and port+1 and adds both sockets
// to a reactor (chosen by port, so that pairs spread over them).
func (e *Engine) openPair(port int) (*pair, error) {
	rtp, err := e.listen(port)
	if err != nil {
		return nil, err
	}
	rtcp, err := e.listen(port + 1)
	if err != nil {
		_ = rtp.close()
		return nil, err
	}
	p := &pair{port: port, rtp: rtp, rtcp: rtcp, now: e.cfg.Now, log: e.log,
		reactor: e.reactors[(port/2)%len(e.reactors)]}
	if err := p.reactor.add(rtp, p.serveRTP); err != nil {
		return nil, errors.Join(err, rtp.close(), rtcp.close())
	}
	if err := p.reactor.add(rtcp, p.serveRTCP); err != nil {
		p.reactor.remove(rtp)
		return nil, errors.Join(err, rtp.close(), rtcp.close())
	}
	return p, nil
}

// attach makes ep the receiver of the pair's packets.
func (p *pair) attach(ep *Endpoint) { p.owner.Store(ep) }

// release detaches ep and returns once the reactor is not handing a packet
// to it any more. The reactor marks the socket busy before it loads owner
// and clears the mark after the hand-over; release clears owner before it
// checks the marks. With sequentially consistent atomics either the
// reactor sees the nil owner or release sees the mark, so no packet
// reaches ep after release returns.
func (p *pair) release(ep *Endpoint) {
	p.owner.CompareAndSwap(ep, nil)
	for i := range p.busy {
		for p.busy[i].Load() {
			runtime.Gosched()
		}
	}
}

// waitIdle returns once the reactor is not inside a hand-over of an RTP
// packet: whatever handler that packet found has returned. A handler
// swapped before waitIdle is the only one later packets see (the same
// argument as release's).
func (p *pair) waitIdle() {
	for p.busy[0].Load() {
		runtime.Gosched()
	}
}

// close takes both sockets out of the reactor and closes them.
func (p *pair) close() error {
	var err error
	p.closeOnce.Do(func() {
		p.reactor.remove(p.rtp)
		p.reactor.remove(p.rtcp)
		err = errors.Join(p.rtp.close(), p.rtcp.close())
	})
	return err
}

// serveRTP reads one datagram from the RTP socket and hands it to the
// owner's receive (validate → latch → direction handler), on the reactor's
// goroutine, in the reactor's buffer.
func (p *pair) serveRTP(buf []byte) {
	n, src, err := p.rtp.recvFrom(buf)
	if err != nil {
		p.readError("rtp", err)
		return
	}
	p.busy[0].Store(true)
	if ep := p.owner.Load(); ep != nil {
		ep.receive(buf[:n], src, p.now().UnixNano())
	} else {
		p.drained.Add(1)
	}
	p.busy[0].Store(false)
}

// serveRTCP reads one RTCP packet and hands it to the owner, which counts
// it and passes it to its hook. RTCP is never forwarded: the B2BUA
// terminates it per leg.
func (p *pair) serveRTCP(buf []byte) {
	n, src, err := p.rtcp.recvFrom(buf)
	if err != nil {
		p.readError("rtcp", err)
		return
	}
	p.busy[1].Store(true)
	if ep := p.owner.Load(); ep != nil {
		ep.receiveRTCP(buf[:n], src, false)
	} else {
		p.drained.Add(1)
	}
	p.busy[1].Store(false)
}

// readError logs a read error other than "nothing queued" (a stale
// readiness). Level-triggered epoll reports the socket again only when it
// has something to read, so an error cannot spin the reactor.
func (p *pair) readError(socket string, err error) {
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	p.log.Debug("read error", "socket", socket, "rtp_port", p.port, "err", err)
}

// listen binds one UDP socket of a pair.
func (e *Engine) listen(port int) (*udpSocket, error) {
	addr := netip.AddrPortFrom(e.cfg.Bind, uint16(port))
	s, err := bindUDP(addr)
	if err != nil {
		return nil, fmt.Errorf("media: bind %s: %w", addr, err)
	}
	return s, nil
}
