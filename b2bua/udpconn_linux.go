package b2bua

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// rawUDPConn is a SIP UDP listener as sipgo sees it, with raw system calls:
// WriteTo sends with a raw sendto(2) instead of Go's net.UDPConn.WriteTo.
//
// Why: net's write enters the runtime's syscall state, and a sendto on
// loopback runs the receiver's whole network stack before it returns. When
// that outlasts a sysmon tick (20 µs) while goroutines wait, the runtime
// hands the P to another thread (futex wake, context switch), and sysmon
// itself keeps polling every 20 µs. Under a high call rate that cost about
// a tenth of Switchboard's signaling CPU. A datagram send never blocks on
// a non-blocking socket, so the raw call is safe; when the kernel queue is
// full (EAGAIN) the send falls back to the ordinary, netpoller-aware write.
//
// Reads are raw for the same reason: ReadFrom takes a queued datagram with
// a raw recvfrom(2) and parks in the netpoller (RawConn.Read) only when
// nothing is queued. Go's own read enters the syscall state, and the first
// syscall after the process went idle wakes sysmon and resets it to its
// 20 µs period, which at a few thousand datagrams a second means it never
// settles.
type rawUDPConn struct {
	*net.UDPConn
	fd     uintptr
	family int
	rc     syscall.RawConn

	// ReadFrom state: sipgo reads from one goroutine per listener. The
	// read closure is built once, so a read allocates only its address.
	rbuf   []byte
	rn     int
	rsa    syscall.RawSockaddrAny
	rerr   syscall.Errno
	readFn func(fd uintptr) bool

	// Queue delay (overload.go), when measureQueue enabled it: reads use
	// recvmsg(2) for the kernel's receive time of each datagram.
	standing *atomic.Int64
	qw       queueWindow
	msg      syscall.Msghdr
	iov      syscall.Iovec
	ctl      [32]byte // one SCM_TIMESTAMPNS: CmsgSpace(sizeof(timespec))
}

// measureQueue turns on SO_TIMESTAMPNS and makes every read publish the
// standing queue delay to standing. False if the socket refused it (reads
// go on without).
func (c *rawUDPConn) measureQueue(standing *atomic.Int64) bool {
	var err error
	_ = c.rc.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if err != nil {
		return false
	}
	c.msg.Name = (*byte)(unsafe.Pointer(&c.rsa))
	c.msg.Iov = &c.iov
	c.msg.Iovlen = 1
	c.msg.Control = &c.ctl[0]
	c.standing = standing
	c.readFn = c.recvMsgOnce
	return true
}

// recvMsgOnce is recvOnce with recvmsg(2): the datagram, its source and
// the kernel's receive time, turned into its queue delay.
func (c *rawUDPConn) recvMsgOnce(fd uintptr) bool {
	c.iov.Base = unsafe.SliceData(c.rbuf)
	c.iov.SetLen(len(c.rbuf))
	c.msg.Namelen = syscall.SizeofSockaddrAny
	c.msg.SetControllen(len(c.ctl))
	c.msg.Flags = 0
	n, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&c.msg)), syscall.MSG_DONTWAIT)
	switch errno {
	case syscall.EAGAIN:
		c.qw.empty() // the queue is empty: no standing delay
		return false
	case syscall.EINTR:
		return c.recvMsgOnce(fd)
	}
	c.rn, c.rerr = int(n), errno
	if errno == 0 && c.msg.Controllen >= uint64(syscall.CmsgLen(16)) {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&c.ctl[0]))
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS {
			ts := (*syscall.Timespec)(unsafe.Pointer(&c.ctl[syscall.CmsgLen(0)]))
			now := time.Now().UnixNano()
			c.qw.observe(now, now-ts.Nano(), c.standing)
		}
	}
	return true
}

// newRawUDPConn wraps pc; anything but a *net.UDPConn on an IPv4/IPv6
// socket comes back unchanged.
func newRawUDPConn(pc net.PacketConn) net.PacketConn {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return pc
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return pc
	}
	var fd uintptr
	family := -1
	_ = rc.Control(func(f uintptr) {
		fd = f
		sa, err := syscall.Getsockname(int(f))
		if err != nil {
			return
		}
		switch sa.(type) {
		case *syscall.SockaddrInet4:
			family = syscall.AF_INET
		case *syscall.SockaddrInet6:
			family = syscall.AF_INET6
		}
	})
	if family < 0 {
		return pc
	}
	// The descriptor stays valid while uc is open; a send after Close
	// fails with EBADF (or reaches a reused descriptor number only if the
	// process opened another socket in between, which is why Close below
	// is the only way the listener ends and sends stop with it).
	c := &rawUDPConn{UDPConn: uc, fd: fd, family: family, rc: rc}
	c.readFn = c.recvOnce
	return c
}

// recvOnce is RawConn.Read's callback: false asks it to wait until the
// socket is readable and call again.
func (c *rawUDPConn) recvOnce(fd uintptr) bool {
	rsaLen := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
		uintptr(unsafe.Pointer(unsafe.SliceData(c.rbuf))), uintptr(len(c.rbuf)), syscall.MSG_DONTWAIT,
		uintptr(unsafe.Pointer(&c.rsa)), uintptr(unsafe.Pointer(&rsaLen)))
	switch errno {
	case syscall.EAGAIN:
		return false
	case syscall.EINTR:
		return c.recvOnce(fd)
	}
	c.rn, c.rerr = int(n), errno
	return true
}

// ReadFrom reads one datagram. Only one goroutine may call it at a time
// (sipgo's listener loop).
func (c *rawUDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if len(b) == 0 {
		return c.UDPConn.ReadFrom(b)
	}
	c.rbuf = b
	err := c.rc.Read(c.readFn)
	c.rbuf = nil
	if err != nil {
		return 0, nil, err // net.ErrClosed once the listener is closed
	}
	if c.rerr != 0 {
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: c.rerr}
	}
	var from *net.UDPAddr
	switch c.rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&c.rsa))
		from = &net.UDPAddr{IP: net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), Port: int(htons(int(sa.Port)))}
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&c.rsa))
		ip := make(net.IP, net.IPv6len)
		copy(ip, sa.Addr[:])
		from = &net.UDPAddr{IP: ip, Port: int(htons(int(sa.Port)))}
		if sa.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				from.Zone = ifi.Name
			}
		}
	default:
		return c.rn, &net.UDPAddr{}, nil
	}
	return c.rn, from, nil
}

// WriteTo sends b to addr (a *net.UDPAddr, as sipgo passes).
func (c *rawUDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || len(b) == 0 {
		return c.UDPConn.WriteTo(b, addr)
	}
	var (
		n     uintptr
		errno syscall.Errno
	)
	ip4 := ua.IP.To4()
	switch {
	case c.family == syscall.AF_INET && ip4 != nil:
		sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: htons(ua.Port)}
		copy(sa.Addr[:], ip4)
		n, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, c.fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet4)
	case c.family == syscall.AF_INET6 && ua.Zone == "" && (len(ua.IP) == net.IPv6len || ip4 != nil):
		sa := syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: htons(ua.Port)}
		copy(sa.Addr[:], ua.IP.To16())
		n, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, c.fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(&sa)), syscall.SizeofSockaddrInet6)
	default:
		// Zones, family mismatches: let net decide (and word the error).
		return c.UDPConn.WriteTo(b, addr)
	}
	switch errno {
	case 0:
		return int(n), nil
	case syscall.EAGAIN, syscall.EINTR, syscall.ENOBUFS:
		return c.UDPConn.WriteTo(b, addr)
	}
	return 0, &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Addr: addr, Err: errno}
}

func htons(p int) uint16 { return uint16(p)>>8 | uint16(p)<<8 }
