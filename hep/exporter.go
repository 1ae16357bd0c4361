package hep

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Exporter sends captured packets to one collector over UDP.
type Exporter struct {
	conn  net.Conn
	agent uint32
	key   string
	log   *slog.Logger

	mu      sync.RWMutex // RLock: Capture queueing; Lock: Close closing q
	closed  bool
	q       chan *[]byte // pooled buffers, back to bufs once sent
	bufs    sync.Pool
	sent    atomic.Uint64
	dropped atomic.Uint64
	done    chan struct{}
}

// queueLen bounds packets waiting for the sender.
const queueLen = 4096

// NewExporter dials the collector (host:port, UDP) and starts the sender.
// agent is the capture agent id shown in Homer; key its auth key (may be
// empty).
func NewExporter(collector string, agent uint32, key string, log *slog.Logger) (*Exporter, error) {
	conn, err := net.Dial("udp", collector)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{conn: conn, agent: agent, key: key, log: log, q: make(chan *[]byte, queueLen), done: make(chan struct{})}
	e.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	go e.run()
	return e, nil
}

// Capture encodes p and queues it; it never blocks. p.Payload may be
// reused by the caller once Capture returns.
func (e *Exporter) Capture(p *Packet) {
	bp := e.bufs.Get().(*[]byte)
	b := Encode((*bp)[:0], p, e.agent, e.key)
	if len(b) == 0 {
		e.bufs.Put(bp)
		e.dropped.Add(1)
		return
	}
	*bp = b
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.bufs.Put(bp)
		return
	}
	select {
	case e.q <- bp:
	default:
		e.bufs.Put(bp)
		e.dropped.Add(1)
	}
}

// Sent and Dropped count packets sent and those lost to a full queue or
// a failed send.
func (e *Exporter) Sent() uint64 { return e.sent.Load() }

// Dropped counts packets not sent.
func (e *Exporter) Dropped() uint64 { return e.dropped.Load() }

// batchLen bounds the packets sent in one sendmmsg(2).
const batchLen = 64

// linger is how long the sender waits after a batch that was not full,
// letting the next one gather (at most linger × the message rate waits,
// well inside queueLen at any rate Switchboard signals).
const linger = 2 * time.Millisecond

// batchWriter is what x/net's ipv4 and ipv6 PacketConns offer.
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// run sends queued packets, as many as are waiting in one system call
// (sendmmsg on Linux): at a thousand calls a second a call's twenty
// messages then cost a few system calls instead of twenty.
func (e *Exporter) run() {
	defer close(e.done)
	var bw batchWriter
	if uc, ok := e.conn.(*net.UDPConn); ok {
		if ra, ok := uc.RemoteAddr().(*net.UDPAddr); ok && ra.IP.To4() == nil {
			bw = ipv6.NewPacketConn(uc)
		} else {
			bw = ipv4.NewPacketConn(uc)
		}
	}
	msgs := make([]ipv4.Message, batchLen)
	bufs := make([]*[]byte, 0, batchLen)
	one := make([][]byte, batchLen) // msgs[i].Buffers is one[i : i+1]
	for i := range msgs {
		msgs[i].Buffers = one[i : i+1]
	}
	warned := false
	fail := func(n int, err error) {
		e.dropped.Add(uint64(n))
		if !warned {
			e.log.Warn("hep: send failed (further failures counted, not logged)", "error", err)
			warned = true
		}
	}
	for b := range e.q {
		bufs = append(bufs[:0], b)
	more:
		for len(bufs) < batchLen {
			select {
			case b, ok := <-e.q:
				if !ok {
					break more
				}
				bufs = append(bufs, b)
			default:
				break more
			}
		}
		if bw == nil || len(bufs) == 1 {
			for _, b := range bufs {
				if _, err := e.conn.Write(*b); err != nil {
					fail(1, err)
				} else {
					e.sent.Add(1)
				}
			}
		} else {
			for i, b := range bufs {
				one[i] = *b
			}
			for sent := 0; sent < len(bufs); {
				n, err := bw.WriteBatch(msgs[sent:len(bufs)], 0)
				if err != nil {
					fail(len(bufs)-sent, err)
					break
				}
				sent += n
				e.sent.Add(uint64(n))
			}
		}
		full := len(bufs) == batchLen
		for _, b := range bufs {
			*b = (*b)[:0]
			e.bufs.Put(b)
		}
		if !full {
			// Let messages gather: a parked reader is woken by every
			// Capture, and a datagram sent alone costs a syscall. A
			// collector does not need them sooner.
			time.Sleep(linger)
		}
	}
}

// Close sends what is queued and stops; later captures are ignored.
func (e *Exporter) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.q)
	e.mu.Unlock()
	<-e.done
	return e.conn.Close()
}
