package media

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
	"github.com/switchboard/switchboard/rtcpstats"
)

// RTCP termination (doc.go, RTCP). Each endpoint with RTCP enabled
// (SetRTCP) has an rtcpstats.Session fed on the packet path: every RTP
// packet accepted (OnRTP, on the reactor goroutine), every RTP packet sent
// (OnSend) and every RTCP datagram read, on the RTCP socket or muxed on
// the RTP socket (HandleRTCP). The engine's one RTCP goroutine (rtcpClock)
// sends each endpoint's SR or RR with SDES CNAME (and XR when enabled) at
// the RFC 3550 §6.3 interval, and Close sends the BYE.

// rtcpTick is how often the RTCP goroutine looks for reports due. Report
// intervals are seconds (RFC 3550 §6.2), so 100 ms of lateness is noise.
const rtcpTick = 100 * time.Millisecond

// RTCPOptions configures RTCP termination on an endpoint, from the leg's
// negotiated SDP.
type RTCPOptions struct {
	// Remote is the peer's RTCP address from a=rtcp (RFC 3605). When zero,
	// reports go to the RTP address's port + 1 (RFC 3550 §11), or to the
	// RTP address itself with Mux. Once the peer's RTCP arrives on the
	// RTCP socket, reports go to its source address instead (symmetric
	// RTCP, RFC 4961).
	Remote netip.AddrPort
	// Mux sends our RTCP on the RTP port, to the peer's RTP address
	// (rtcp-mux, RFC 5761). RTCP arriving on the RTP port is recognised
	// and terminated whether or not Mux is set.
	Mux bool
	// XR adds RTCP XR blocks (RFC 3611: VoIP Metrics, Statistics Summary,
	// RRTR/DLRR) to our reports; set it when the peer's SDP has
	// a=rtcp-xr (RFC 3611 §5.1).
	XR bool
	// CNAME is our SDES CNAME (RFC 3550 §6.5.1). When empty a random one
	// is used (RFC 7022).
	CNAME string
	// Codec is the leg's SDP encoding name (PCMU, opus...), for the
	// E-model and the quality record; Ptime its packet duration.
	Codec string
	Ptime time.Duration
	// ClockRate is the RTP clock rate of the leg's codec (8000 when 0).
	// Changing it on a later SetRTCP starts a new statistics session.
	ClockRate uint32
}

// rtcpLeg is one endpoint's RTCP state.
type rtcpLeg struct {
	ep   *Endpoint
	sess *rtcpstats.Session

	ssrc atomic.Uint32 // the SSRC of the RTP we send, as last seen
	// from is the source address of the peer's last valid RTCP on the RTCP
	// socket (nil until one arrives); remote is opts.Remote, for the
	// reactor.
	from   atomic.Pointer[netip.AddrPort]
	remote atomic.Pointer[netip.AddrPort]

	sent, received, errors, rejected, noDest atomic.Uint64

	mu      sync.Mutex // guards the fields below; before rtcpClock.mu
	opts    RTCPOptions
	closed  bool
	avgSize float64 // RFC 3550 §6.3.3 avg_rtcp_size
	buf     []byte
	sbuf    []byte // SRTCP output, under mu

	// index is the leg's place in the clock's queue (-1 when not in it)
	// and due when its next report is; both guarded by rtcpClock.mu.
	index int
	due   time.Time
}

// SetRTCP turns on RTCP termination for the endpoint, or updates it: from
// now on received RTP and RTCP feed the leg's statistics, reports are sent
// on the RFC 3550 interval and Close sends a BYE. Call it once the leg's
// SDP is negotiated, before media flows, and again after a re-INVITE. The
// statistics carry over unless ClockRate changes.
func (ep *Endpoint) SetRTCP(o RTCPOptions) {
	if o.ClockRate == 0 {
		o.ClockRate = defaultClock
	}
	o.Remote = netip.AddrPortFrom(o.Remote.Addr().Unmap(), o.Remote.Port())
	if ep.ice.Load() != nil || ep.dtls.Load() != nil {
		o.Mux = true // a WebRTC leg: rtcp-mux is required (RFC 8834 §5.1.1)
	}
	if ep.closed.Load() {
		return
	}
	if l := ep.rtcp.Load(); l != nil && l.sess.ClockRate() == o.ClockRate {
		l.mu.Lock()
		o.CNAME = l.opts.CNAME // RFC 3550 §6.5.1: the CNAME stays fixed
		l.opts = o
		l.from.Store(nil) // the peer may have moved: learn its RTCP source again
		l.remote.Store(&o.Remote)
		l.mu.Unlock()
		l.sess.SetXR(o.XR)
		l.sess.SetCodec(o.Codec, o.Ptime)
		return
	}
	if o.CNAME == "" {
		o.CNAME = fmt.Sprintf("sb-%016x", rand.Uint64())
	}
	l := &rtcpLeg{ep: ep, opts: o, index: -1, sess: rtcpstats.NewSession(rtcpstats.Config{
		SSRC:           rand.Uint32(),
		CNAME:          o.CNAME,
		ClockRate:      o.ClockRate,
		Codec:          o.Codec,
		XR:             o.XR,
		PacketDuration: o.Ptime,
		// The endpoint's latch already keeps stray sources out: count a
		// source from its first packet (RFC 3550 A.1 probation of 1).
		MinSequential: 1,
	})}
	l.remote.Store(&o.Remote)
	if old := ep.rtcp.Swap(l); old != nil {
		old.stop()
	}
	now := ep.engine.cfg.Now()
	l.mu.Lock()
	ep.engine.rtcp.schedule(l, now.Add(l.interval(true)))
	l.mu.Unlock()
	if ep.closed.Load() {
		// Close ran meanwhile: it sets closed before it looks for the leg,
		// so either it stopped this one or this check sees it.
		l.stop()
	}
}

// RTCPSession returns the endpoint's RTCP statistics session, nil before
// SetRTCP. The processing path reports jitter-buffer discards
// (Receiver().Discard), SetPlayout and SetPlayoutStats through it.
func (ep *Endpoint) RTCPSession() *rtcpstats.Session {
	if l := ep.rtcp.Load(); l != nil {
		return l.sess
	}
	return nil
}

// isRTCP tells RTCP from RTP on a muxed port (RFC 5761 §4): the second
// octet of RTCP is its packet type, 192-223 (SR 200, RR 201...), which
// RTP can only show with the marker set and a payload type of 64-95, a
// range RFC 5761 forbids for muxed RTP.
func isRTCP(pkt []byte) bool {
	return len(pkt) >= 8 && pkt[0]>>6 == 2 && pkt[1] >= 192 && pkt[1] <= 223
}

// rtcpOnRTP feeds an accepted RTP packet to the statistics, on the
// reactor goroutine. It does not allocate.
func (ep *Endpoint) rtcpOnRTP(h *rtp.Header, payloadLen int, now int64) {
	if l := ep.rtcp.Load(); l != nil {
		l.sess.OnRTP(*h, payloadLen, time.Unix(0, now))
	}
}

// rtcpOnSend records an RTP packet sent to the peer at now (unix ns). It
// does not allocate.
func (ep *Endpoint) rtcpOnSend(pkt []byte, now int64) {
	l := ep.rtcp.Load()
	if l == nil {
		return
	}
	h, ok := rtp.Parse(pkt)
	if !ok {
		return
	}
	if l.ssrc.Load() != h.SSRC {
		l.ssrc.Store(h.SSRC)
		l.sess.SetSSRC(h.SSRC)
	}
	l.sess.OnSend(h.TS, len(h.Payload(pkt)), time.Unix(0, now))
}

// terminateRTCP hands an RTCP datagram from the peer to the statistics.
// One from another host than the peer's RTP or a=rtcp address (once known)
// is counted as rejected, one that does not parse as an error; both are
// dropped. muxed tells that it came on the RTP socket.
func (ep *Endpoint) terminateRTCP(pkt []byte, src netip.AddrPort, muxed bool) {
	l := ep.rtcp.Load()
	if l == nil {
		return
	}
	if !l.fromPeer(src) {
		l.rejected.Add(1)
		return
	}
	if err := l.sess.HandleRTCP(pkt, ep.engine.cfg.Now()); err != nil {
		if l.errors.Add(1) == 1 {
			ep.logger().Debug("rtcp parse error", "from", src, "err", err)
		}
		return
	}
	l.received.Add(1)
	ep.lastRTCP.Store(ep.engine.cfg.Now().UnixNano())
	if muxed {
		return
	}
	// Symmetric RTCP (RFC 4961): answer where the peer's RTCP comes from.
	if cur := l.from.Load(); cur == nil || *cur != src {
		l.from.Store(&src) // RTCP is rare: one allocation per new source
	}
}

// fromPeer tells whether RTCP from src may be the peer's: from the host
// its RTP goes to or its a=rtcp address, or from anywhere while neither is
// known, as RTP is accepted before the first latch (doc.go).
func (l *rtcpLeg) fromPeer(src netip.AddrPort) bool {
	r := *l.remote.Load()
	rtp, ok := l.ep.destination()
	if !ok && !r.Addr().IsValid() {
		return true
	}
	return (ok && rtp.Addr() == src.Addr()) || (r.Addr().IsValid() && r.Addr() == src.Addr())
}

// destination is where the leg's reports go and through which socket.
// It must be called with l.mu held.
func (l *rtcpLeg) destination() (netip.AddrPort, *udpSocket, bool) {
	ep := l.ep
	if l.opts.Mux {
		dst, ok := ep.destination()
		return dst, ep.rtp, ok
	}
	if from := l.from.Load(); from != nil {
		return *from, ep.pair.rtcp, true
	}
	if r := l.opts.Remote; r.Addr().IsValid() && !r.Addr().IsUnspecified() && r.Port() != 0 {
		return r, ep.pair.rtcp, true
	}
	dst, ok := ep.destination()
	if !ok || dst.Port() == 65535 {
		return netip.AddrPort{}, nil, false
	}
	return netip.AddrPortFrom(dst.Addr(), dst.Port()+1), ep.pair.rtcp, true
}

// send builds and sends a report, or the final report with BYE. It must be
// called with l.mu held.
func (l *rtcpLeg) send(now time.Time, bye bool) {
	var err error
	buf := l.buf[:0]
	if bye {
		buf, err = l.sess.AppendBye(buf, now, "")
	} else {
		buf, err = l.sess.AppendReport(buf, now)
	}
	if err != nil {
		l.ep.logger().Warn("rtcp report not built", "err", err)
		return
	}
	l.buf = buf
	dst, sock, ok := l.destination()
	if !ok {
		l.noDest.Add(1)
		return
	}
	out := buf
	if s := l.ep.srtp.Load(); s != nil { // SRTCP (RFC 3711 §3.4)
		if l.sbuf == nil {
			l.sbuf = make([]byte, srtpMax)
		}
		var ok bool
		if out, ok = s.protectRTCP(buf, l.sbuf); !ok {
			l.ep.stats.sendErrors.Add(1)
			return
		}
	} else if l.ep.needKeys.Load() { // DTLS-SRTP leg not keyed yet (dtls.go)
		l.noDest.Add(1)
		return
	}
	if _, err := sock.sendTo(out, dst); err != nil {
		l.ep.stats.sendErrors.Add(1)
		return
	}
	l.sent.Add(1)
	// RFC 3550 §6.3.3: the size includes the UDP and IP headers.
	l.avgSize = rtcpstats.AvgSize(l.avgSize, len(buf)+udpIPHeaders(dst))
}

func udpIPHeaders(dst netip.AddrPort) int {
	if dst.Addr().Is4() {
		return 28
	}
	return 48
}

// interval is the time to the next report (RFC 3550 §6.3, A.7) for a
// two-party session. It must be called with l.mu held.
func (l *rtcpLeg) interval(initial bool) time.Duration {
	ss := l.sess.Sender().Stats()
	weSent := !ss.LastSend.IsZero() && l.ep.engine.cfg.Now().Sub(ss.LastSend) < 2*rtcpstats.MinInterval
	senders := 0
	if weSent {
		senders++
	}
	if l.ep.lastRx.Load() != 0 {
		senders++
	}
	return rtcpstats.Interval(rtcpstats.IntervalParams{
		Members: 2, Senders: senders, WeSent: weSent, AvgSize: max(l.avgSize, 100), Initial: initial,
	}, rand.Float64())
}

// report sends the leg's periodic report at now and schedules the next.
// It runs on the RTCP goroutine.
func (l *rtcpLeg) report(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.send(now, false)
	l.ep.engine.rtcp.schedule(l, now.Add(l.interval(false)))
}

// stop ends the leg's reports without a BYE (replaced by a new session).
func (l *rtcpLeg) stop() {
	l.mu.Lock()
	l.closed = true
	l.ep.engine.rtcp.remove(l)
	l.mu.Unlock()
}

// closeRTCP ends the endpoint's RTCP with a BYE (RFC 3550 §6.6), sent
// with a last report, unless nothing was ever sent on the leg (§6.3.7).
// No report follows once it returns.
func (ep *Endpoint) closeRTCP() {
	l := ep.rtcp.Load()
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	ep.engine.rtcp.remove(l)
	if l.sent.Load() > 0 || l.sess.Sender().Stats().PacketsSent > 0 {
		l.send(ep.engine.cfg.Now(), true)
	}
}

// rtcpClock is the engine's one RTCP goroutine: a queue of legs ordered by
// next report time, looked at every rtcpTick while it is not empty. An
// engine without RTCP legs has no ticker running.
type rtcpClock struct {
	now  func() time.Time
	stop <-chan struct{}
	done chan struct{}
	wake chan struct{} // a leg was queued: start the ticker

	mu  sync.Mutex // after rtcpLeg.mu
	q   legQueue
	due []*rtcpLeg // reused by tick
}

// startRTCP starts the engine's RTCP goroutine; it ends when e.stop
// closes, and Engine.Close waits for it.
func (e *Engine) startRTCP() *rtcpClock {
	c := &rtcpClock{now: e.cfg.Now, stop: e.stop, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go c.run()
	return c
}

func (c *rtcpClock) run() {
	defer close(c.done)
	var t *time.Ticker
	var tick <-chan time.Time
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
			if t == nil {
				t = time.NewTicker(rtcpTick)
				tick = t.C
			}
		case <-tick:
			if !c.tick(c.now()) {
				t.Stop()
				t, tick = nil, nil
			}
		}
	}
}

// tick sends every report due at now and reports whether legs remain
// queued.
func (c *rtcpClock) tick(now time.Time) bool {
	c.mu.Lock()
	c.due = c.due[:0]
	for c.q.Len() > 0 && !c.q[0].due.After(now) {
		c.due = append(c.due, heap.Pop(&c.q).(*rtcpLeg))
	}
	due := c.due
	c.mu.Unlock()
	for i, l := range due {
		l.report(now)
		due[i] = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.Len() > 0
}

// schedule queues l for a report at at (or moves it there).
func (c *rtcpClock) schedule(l *rtcpLeg, at time.Time) {
	c.mu.Lock()
	l.due = at
	if l.index >= 0 {
		heap.Fix(&c.q, l.index)
	} else {
		heap.Push(&c.q, l)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// remove takes l out of the queue.
func (c *rtcpClock) remove(l *rtcpLeg) {
	c.mu.Lock()
	if l.index >= 0 {
		heap.Remove(&c.q, l.index)
	}
	c.mu.Unlock()
}

// legQueue is a min-heap of legs by due time (container/heap).
type legQueue []*rtcpLeg

func (q legQueue) Len() int           { return len(q) }
func (q legQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q legQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *legQueue) Push(x any) {
	l := x.(*rtcpLeg)
	l.index = len(*q)
	*q = append(*q, l)
}
func (q *legQueue) Pop() any {
	old := *q
	l := old[len(old)-1]
	old[len(old)-1] = nil
	l.index = -1
	*q = old[:len(old)-1]
	return l
}
