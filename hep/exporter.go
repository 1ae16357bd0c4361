package hep

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// Exporter sends captured packets to one collector over UDP.
type Exporter struct {
	conn  net.Conn
	agent uint32
	key   string
	log   *slog.Logger

	mu      sync.RWMutex // RLock: Capture queueing; Lock: Close closing q
	closed  bool
	q       chan []byte
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
	e := &Exporter{conn: conn, agent: agent, key: key, log: log, q: make(chan []byte, queueLen), done: make(chan struct{})}
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
	case e.q <- b:
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

func (e *Exporter) run() {
	defer close(e.done)
	warned := false
	for b := range e.q {
		if _, err := e.conn.Write(b); err != nil {
			e.dropped.Add(1)
			if !warned {
				e.log.Warn("hep: send failed (further failures counted, not logged)", "error", err)
				warned = true
			}
		} else {
			e.sent.Add(1)
		}
		b = b[:0]
		e.bufs.Put(&b)
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
