//go:build linux && !portablesockets

package media

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The relay's sockets and their readers are hand-written on epoll rather
// than built on net.UDPConn: with one goroutine blocked in ReadFrom per
// socket, every packet costs a netpoll wake-up, a goroutine switch and a
// second recvfrom that answers EAGAIN before the reader parks again, a
// fifth of the relay's CPU at 50,000 packets/s (perf, make bench), and a
// goroutine stack per socket. A
// reactor waits on many sockets in one level-triggered epoll set and reads
// each ready socket once per wake-up; the sockets are invisible to the Go
// netpoller. Reads and sends are raw system calls on stack sockaddrs, so
// the path allocates nothing.

// udpSocket is a bound, non-blocking UDP socket. Sends may come from any
// goroutine; reads come from its reactor only.
type udpSocket struct {
	fd     int
	family int // syscall.AF_INET or AF_INET6
	local  netip.AddrPort

	// inflight counts sends in progress, so that close can wait for them
	// before it releases the descriptor number for reuse.
	inflight atomic.Int32
	closed   atomic.Bool
	once     sync.Once
}

// bindUDP opens a non-blocking UDP socket bound to addr. An IPv6 address
// (including ::) gives a dual-stack socket, as net.ListenUDP does. Socket,
// bind and close are raw system calls: they never block, and a call through the
// runtime's syscall path wakes sysmon into its 20 µs polling whenever the
// process was idle (see rawUDPConn in package b2bua).
func bindUDP(addr netip.AddrPort) (*udpSocket, error) {
	family := syscall.AF_INET
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	var errno syscall.Errno
	if family == syscall.AF_INET {
		sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: ntohs(addr.Port()), Addr: addr.Addr().Unmap().As4()}
		_, _, errno = syscall.RawSyscall(syscall.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet4)
	} else {
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
			closeFD(fd)
			return nil, fmt.Errorf("IPV6_V6ONLY: %w", err)
		}
		sa := syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: ntohs(addr.Port()), Addr: addr.Addr().As16()}
		_, _, errno = syscall.RawSyscall(syscall.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet6)
	}
	if errno != 0 {
		closeFD(fd)
		return nil, errno
	}
	return &udpSocket{fd: fd, family: family, local: addr}, nil
}

// recvFrom reads one datagram without blocking; syscall.EAGAIN when none
// is queued.
func (s *udpSocket) recvFrom(buf []byte) (int, netip.AddrPort, error) {
	var rsa syscall.RawSockaddrAny
	rsaLen := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(s.fd),
		uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), syscall.MSG_DONTWAIT,
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&rsaLen)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return int(n), rawToAddrPort(&rsa), nil
}

// rawToAddrPort converts a kernel socket address; IPv4-mapped IPv6
// addresses stay mapped (callers unmap).
func rawToAddrPort(rsa *syscall.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), ntohs(sa.Port))
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), ntohs(sa.Port))
	}
	return netip.AddrPort{}
}

// closeFD closes a descriptor without the runtime's syscall path.
func closeFD(fd int) { _, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0) }

func ntohs(p uint16) uint16 { return p>>8 | p<<8 }

// errClosedSocket is what a send on a closed socket returns.
var errClosedSocket = errors.New("media: use of closed socket")

// sendTo sends pkt to dst. An IPv4 destination on an IPv6 socket is sent
// to its IPv4-mapped form.
func (s *udpSocket) sendTo(pkt []byte, dst netip.AddrPort) (int, error) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.closed.Load() {
		return 0, errClosedSocket
	}
	var (
		n     uintptr
		errno syscall.Errno
	)
	if s.family == syscall.AF_INET {
		a := dst.Addr().Unmap()
		if !a.Is4() {
			return 0, syscall.EAFNOSUPPORT
		}
		sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: ntohs(dst.Port()), Addr: a.As4()}
		n, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd),
			uintptr(unsafe.Pointer(unsafe.SliceData(pkt))), uintptr(len(pkt)), 0,
			uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet4)
	} else {
		sa := syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: ntohs(dst.Port()), Addr: dst.Addr().As16()}
		n, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd),
			uintptr(unsafe.Pointer(unsafe.SliceData(pkt))), uintptr(len(pkt)), 0,
			uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet6)
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// close marks the socket closed, waits for sends in progress and closes
// the descriptor. The socket must already be out of its reactor.
func (s *udpSocket) close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		for s.inflight.Load() != 0 {
			runtime.Gosched()
		}
		if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(s.fd), 0, 0); errno != 0 {
			err = errno
		}
	})
	return err
}

// reactor is one epoll set and the goroutine that serves it. Each socket
// belongs to one reactor for its whole life, so its reads, and the
// endpoint state they drive, stay on one goroutine.
//
// The goroutine never blocks in epoll_wait: a thread blocked in a system
// call keeps the Go runtime's sysmon polling every 20 µs to hand its P
// on, which cost an eighth of the relay's CPU. Instead the epoll set's own
// descriptor sits in the Go netpoller (an epoll set is readable while any
// of its sockets is): the loop collects what is ready with a zero-timeout
// epoll_wait and parks in the netpoller when nothing is.
type reactor struct {
	epfd *os.File
	conn syscall.RawConn

	// mu guards serve, which maps a socket's descriptor to what the loop
	// does when it is ready: read it once and handle the datagram. The
	// loop holds mu for reading while it looks sockets up and serves them;
	// remove takes it for writing, so once remove returns the loop is not
	// inside that socket and never will be again.
	mu    sync.RWMutex
	serve map[int32]func(buf []byte)
	done  chan struct{}
}

// reactorEvents is how many ready sockets one epoll_wait can return.
const reactorEvents = 256

func newReactor() (*reactor, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("media: epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("media: epoll set non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "media-epoll") // non-blocking: goes to the netpoller
	conn, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("media: epoll set: %w", err)
	}
	r := &reactor{epfd: f, conn: conn, serve: make(map[int32]func([]byte)), done: make(chan struct{})}
	go r.run()
	return r, nil
}

// ctl runs epoll_ctl on the set.
func (r *reactor) ctl(op int, s *udpSocket) error {
	var err error
	cerr := r.conn.Control(func(epfd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.fd)}
		err = syscall.EpollCtl(int(epfd), op, s.fd, &ev)
	})
	return cmp.Or(cerr, err)
}

// add starts serving s: serve runs on the reactor's goroutine each time s
// has a datagram queued.
func (r *reactor) add(s *udpSocket, serve func(buf []byte)) error {
	r.mu.Lock()
	r.serve[int32(s.fd)] = serve
	r.mu.Unlock()
	if err := r.ctl(syscall.EPOLL_CTL_ADD, s); err != nil {
		r.mu.Lock()
		delete(r.serve, int32(s.fd))
		r.mu.Unlock()
		return fmt.Errorf("media: epoll_ctl add: %w", err)
	}
	return nil
}

// remove stops serving s and returns once the loop is not serving it.
func (r *reactor) remove(s *udpSocket) {
	_ = r.ctl(syscall.EPOLL_CTL_DEL, s)
	r.mu.Lock()
	delete(r.serve, int32(s.fd))
	r.mu.Unlock()
}

// close stops the loop and closes the epoll set; sockets still in it are
// left to their owners.
func (r *reactor) close() {
	_ = r.epfd.Close() // wakes the parked loop with an error
	<-r.done
}

// run is the loop: collect the ready sockets, then serve each once.
// Level-triggered epoll reports a socket again if it still has datagrams,
// so one read per readiness never strands a packet and never pays for an
// EAGAIN read.
func (r *reactor) run() {
	defer close(r.done)
	events := make([]syscall.EpollEvent, reactorEvents)
	buf := make([]byte, readBufferSize)
	var n int
	collect := func(epfd uintptr) bool {
		var err error
		n, err = syscall.EpollWait(int(epfd), events, 0)
		return n > 0 || (err != nil && err != syscall.EINTR)
	}
	for {
		if err := r.conn.Read(collect); err != nil {
			return // the set was closed
		}
		r.mu.RLock()
		for i := range max(n, 0) {
			if serve := r.serve[events[i].Fd]; serve != nil {
				serve(buf)
			}
		}
		r.mu.RUnlock()
		n = 0
	}
}
