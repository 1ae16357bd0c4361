package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pair is one bound RTP/RTCP port pair and its two reader goroutines. A
// pair outlives the endpoints that use it: when an endpoint closes, its
// pair stays bound through the port's quarantine and for warmKeep after it,
// its readers reading and discarding whatever still arrives (late packets
// of the old call never reach a new one), and the next endpoint reuses it
// without closing, binding and starting readers again. The sweeper closes
// pairs that stay unused longer (Engine.sweep).
type pair struct {
	port      int
	rtp, rtcp *net.UDPConn
	log       *slog.Logger // the engine's

	// owner is the endpoint the readers hand packets to (nil: discard).
	owner atomic.Pointer[Endpoint]
	// busy is set by a reader around each hand-over to owner, so that
	// release can wait until no packet is inside the old owner (see
	// release).
	busy [2]atomic.Bool
	// drained counts packets read while no endpoint owned the pair.
	drained atomic.Uint64

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// warmKeep is how long a pair stays bound after its quarantine, waiting to
// be reused, before the sweeper closes it. It bounds the sockets and reader
// goroutines an idle engine keeps.
const warmKeep = 5 * time.Second

// openPair binds an RTP/RTCP pair on port and port+1 and starts its readers.
func (e *Engine) openPair(port int) (*pair, error) {
	rtp, err := e.listen(port)
	if err != nil {
		return nil, err
	}
	rtcp, err := e.listen(port + 1)
	if err != nil {
		_ = rtp.Close()
		return nil, err
	}
	p := &pair{port: port, rtp: rtp, rtcp: rtcp, log: e.log}
	p.wg.Add(2)
	go p.readRTP(e.cfg.Now)
	go p.readRTCP()
	return p, nil
}

// attach makes ep the receiver of the pair's packets.
func (p *pair) attach(ep *Endpoint) { p.owner.Store(ep) }

// release detaches ep and returns once neither reader is handing a packet
// to it any more. A reader marks itself busy before it loads owner and
// clears the mark after the hand-over; release clears owner before it
// checks the marks. With sequentially consistent atomics either the reader
// sees the nil owner or release sees the mark, so no packet reaches ep
// after release returns.
func (p *pair) release(ep *Endpoint) {
	p.owner.CompareAndSwap(ep, nil)
	for i := range p.busy {
		for p.busy[i].Load() {
			runtime.Gosched()
		}
	}
}

// close closes both sockets and waits for the readers to stop.
func (p *pair) close() error {
	var err error
	p.closeOnce.Do(func() {
		err = errors.Join(p.rtp.Close(), p.rtcp.Close())
		p.wg.Wait()
	})
	return err
}

// readRTP is the RTP reader: socket → owner's receive (validate → latch →
// direction handler), all on this goroutine with one preallocated buffer.
func (p *pair) readRTP(now func() time.Time) {
	defer p.wg.Done()
	buf := make([]byte, rtpBufferSize)
	for {
		n, src, err := p.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.readError("rtp", err)
			continue
		}
		p.busy[0].Store(true)
		if ep := p.owner.Load(); ep != nil {
			ep.receive(buf[:n], src, now().UnixNano())
		} else {
			p.drained.Add(1)
		}
		p.busy[0].Store(false)
	}
}

// readRTCP reads RTCP packets and hands them to the owner, which counts them
// and passes them to its hook. RTCP is never forwarded: the B2BUA
// terminates it per leg.
func (p *pair) readRTCP() {
	defer p.wg.Done()
	buf := make([]byte, rtcpBufferSize)
	for {
		n, src, err := p.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.readError("rtcp", err)
			continue
		}
		p.busy[1].Store(true)
		if ep := p.owner.Load(); ep != nil {
			ep.receiveRTCP(buf[:n], src)
		} else {
			p.drained.Add(1)
		}
		p.busy[1].Store(false)
	}
}

// readError logs a read error other than close and pauses briefly so that a
// persistent error cannot spin the reader.
func (p *pair) readError(socket string, err error) {
	p.log.Debug("read error", "socket", socket, "rtp_port", p.port, "err", err)
	time.Sleep(readErrorPause)
}

// listen binds one UDP socket of a pair.
func (e *Engine) listen(port int) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(e.cfg.Bind, uint16(port))))
	if err != nil {
		return nil, fmt.Errorf("media: bind %s: %w", netip.AddrPortFrom(e.cfg.Bind, uint16(port)), err)
	}
	return c, nil
}
