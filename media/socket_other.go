//go:build !linux || portablesockets

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// The portable socket path, for systems without epoll: each socket is a
// net.UDPConn read by its own goroutine, blocking in the Go netpoller. It
// costs a goroutine per socket and a wake-up per packet (socket_linux.go
// says why Linux avoids that), but it keeps the reactor's contract: one
// goroutine serves each socket, serve runs there with a reused buffer,
// and remove returns once that goroutine has let go of the socket.

// udpSocket is a bound UDP socket. Sends may come from any goroutine.
type udpSocket struct {
	conn  *net.UDPConn
	local netip.AddrPort
	once  sync.Once
}

// bindUDP opens a UDP socket bound to addr (dual-stack for an IPv6
// address, as net.ListenUDP does).
func bindUDP(addr netip.AddrPort) (*udpSocket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return &udpSocket{conn: c, local: addr}, nil
}

// recvFrom reads one datagram, blocking; syscall.EAGAIN when the read was
// woken by remove.
func (s *udpSocket) recvFrom(buf []byte) (int, netip.AddrPort, error) {
	n, src, err := s.conn.ReadFromUDPAddrPort(buf)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, netip.AddrPort{}, syscall.EAGAIN
	}
	return n, src, err
}

// sendTo sends pkt to dst.
func (s *udpSocket) sendTo(pkt []byte, dst netip.AddrPort) (int, error) {
	return s.conn.WriteToUDPAddrPort(pkt, dst)
}

// close closes the socket; it must already be out of its reactor.
func (s *udpSocket) close() error {
	var err error
	s.once.Do(func() { err = s.conn.Close() })
	return err
}

// reactor stands for the epoll reactor: a set of reader goroutines, one
// per socket.
type reactor struct {
	mu      sync.Mutex
	readers map[*udpSocket]*reader
}

type reader struct {
	stop chan struct{}
	done chan struct{}
}

func newReactor() (*reactor, error) {
	return &reactor{readers: make(map[*udpSocket]*reader)}, nil
}

// add starts a goroutine that runs serve each time s has a datagram (serve
// does the read).
func (r *reactor) add(s *udpSocket, serve func(buf []byte)) error {
	rd := &reader{stop: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.readers[s]; ok {
		return fmt.Errorf("media: socket %s added twice", s.local)
	}
	r.readers[s] = rd
	go func() {
		defer close(rd.done)
		buf := make([]byte, readBufferSize)
		for {
			select {
			case <-rd.stop:
				return
			default:
			}
			serve(buf)
		}
	}()
	return nil
}

// remove stops serving s and returns once its goroutine has exited.
func (r *reactor) remove(s *udpSocket) {
	r.mu.Lock()
	rd := r.readers[s]
	delete(r.readers, s)
	r.mu.Unlock()
	if rd == nil {
		return
	}
	close(rd.stop)
	_ = s.conn.SetReadDeadline(time.Now()) // wakes the blocked read
	<-rd.done
}

// close stops every reader still registered.
func (r *reactor) close() {
	r.mu.Lock()
	socks := make([]*udpSocket, 0, len(r.readers))
	for s := range r.readers {
		socks = append(socks, s)
	}
	r.mu.Unlock()
	for _, s := range socks {
		r.remove(s)
	}
}
