package media

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/switchboard/switchboard/media/rtp"
)

// Endpoint is one call leg's media sockets: an RTP socket on an even port and
// an RTCP socket on the next odd port (a port pair, which the engine reuses
// across endpoints), both read by one reactor goroutine. It learns where to
// send by symmetric latching (see doc.go) and hands every accepted RTP
// packet to the bridge direction installed on it.
type Endpoint struct {
	engine  *Engine
	baseLog *slog.Logger // without rtp_port: see logger
	port    int
	local   netip.AddrPort
	pair    *pair
	rtp     *udpSocket // pair.rtp
	latchN  int
	closed  atomic.Bool

	// remote is the SDP address; latched the learned one. gen changes when
	// SetRemote moves the SDP address, which invalidates older latches.
	remoteMu sync.Mutex // serialises SetRemote
	remote   atomic.Pointer[remoteAddr]
	latched  atomic.Pointer[latch]
	gen      atomic.Uint64

	// rx is the bridge direction fed by this endpoint's RTP socket.
	rx atomic.Pointer[direction]
	// rtcpHook receives RTCP packets (nil: count and drop).
	rtcpHook atomic.Pointer[RTCPHandler]
	// rtcpTap sees RTCP packets too, beside the hook (SetRTCPTap).
	rtcpTap atomic.Pointer[RTCPTap]
	rtcp    atomic.Pointer[rtcpLeg] // RTCP termination, nil until SetRTCP (rtcp.go)

	// srtp is the SRTP stage (srtp.go), nil for plain RTP; srtpLast keeps
	// the last one across an SRTP-off re-INVITE so ROC survives it.
	srtp     atomic.Pointer[srtpStage]
	srtpMu   sync.Mutex
	srtpLast *srtpStage
	// ice is the ICE-lite responder (ice.go), dtls the DTLS-SRTP
	// transport (dtls.go); nil on legs without them.
	ice  atomic.Pointer[iceLite]
	dtls atomic.Pointer[dtlsTransport]
	// needKeys is set on a DTLS-SRTP leg: without SRTP keys it sends
	// nothing and accepts no RTP or RTCP (RFC 5764 §5.1.2).
	needKeys atomic.Bool
	rtcpBuf  [2][]byte // SRTCP plaintext: [0] RTCP socket, [1] rtcp-mux on the RTP socket (one reader each)

	lastRx atomic.Int64 // unix ns of the last accepted RTP packet, 0 if none
	// lastRTCP is the unix ns of the last RTCP from the peer that parsed,
	// 0 if none: a peer that sends RTCP is alive (Bridge.idle).
	lastRTCP atomic.Int64
	stats    endpointCounters

	// datagrams, when set, takes every datagram of the RTP socket as it
	// is: a UDPTL stream (udptl.go), no RTP parse.
	datagrams atomic.Pointer[datagramRelay]

	// Candidate state, owned by the reactor serving the RTP socket.
	cand    netip.AddrPort
	candN   int
	candGen uint64

	closeOnce sync.Once
}

// RTCPHandler receives each RTCP packet read on an endpoint's RTCP socket.
// pkt is only valid during the call; the handler runs on the reactor
// goroutine and must not block.
type RTCPHandler func(pkt []byte, from netip.AddrPort)

type remoteAddr struct {
	addr netip.AddrPort
	send bool           // false for the zero or unspecified (hold) address
	spec netip.AddrPort // the last specified address, kept across hold
}

type latch struct {
	addr netip.AddrPort
	gen  uint64
}

// EndpointStats is a snapshot of an endpoint's counters.
type EndpointStats struct {
	PacketsIn, BytesIn   uint64 // RTP packets accepted from the peer
	PacketsOut, BytesOut uint64 // RTP packets sent to the peer
	Invalid              uint64 // datagrams on the RTP port that are not valid RTP
	Rejected             uint64 // valid RTP from a source other than the latched one; DTLS from an address no ICE check validated
	DroppedPT            uint64 // accepted packets whose payload type the bridge does not map
	NoDestination        uint64 // packets not sent because the peer's address is unknown or on hold
	SendErrors           uint64 // failed socket writes
	Latches              uint64 // times the latch moved to a new source address
	SourceChanges        uint64 // incoming SSRC changes or seq/ts jumps smoothed over by the bridge
	RTCPIn, RTCPBytesIn  uint64 // RTCP packets read (not forwarded), on either port
	STUNIn               uint64 // STUN packets on the RTP port (RFC 7983 first byte 0-3): ICE checks, or dropped
	DTLSIn               uint64 // DTLS records on the RTP port (RFC 7983 first byte 20-63): DTLS-SRTP, or dropped
	SRTPFailed           uint64 // SRTP/SRTCP packets that failed authentication, replay or decryption
}

type endpointCounters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	invalid, rejected, droppedPT, noDest     atomic.Uint64
	sendErrors, latches, rtcpIn, rtcpBytesIn atomic.Uint64
	sourceChanges, stunIn, dtlsIn            atomic.Uint64
	srtpFailed, stunOK, stunBad              atomic.Uint64
}

// NewEndpoint takes an RTP/RTCP port pair from the pool: a warm one (still
// bound since an earlier endpoint released it, quarantine served) if there
// is one, else it binds a new pair and adds it to a reactor. Ports that fail
// to bind (used by another process) are skipped.
func (e *Engine) NewEndpoint(log *slog.Logger) (*Endpoint, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := e.takePair()
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{
		engine:  e,
		baseLog: log,
		port:    p.port,
		local:   netip.AddrPortFrom(e.cfg.Advertise, uint16(p.port)),
		pair:    p,
		rtp:     p.rtp,
		latchN:  e.cfg.LatchPackets,
	}
	if !e.register(ep) {
		e.releasePair(p)
		return nil, ErrClosed
	}
	p.attach(ep)
	return ep, nil
}

// logger is the endpoint's logger with its rtp_port. It is built when a
// line is logged, not per endpoint: slog's With formats its attributes at
// once, which would cost every call even when nothing is logged.
func (ep *Endpoint) logger() *slog.Logger { return ep.baseLog.With("rtp_port", ep.port) }

// Local returns the advertised address and RTP port, for SDP.
func (ep *Endpoint) Local() netip.AddrPort { return ep.local }

// SetRemote sets the peer's RTP address from its SDP. Until a source is
// latched packets go there; a zero or unspecified address (0.0.0.0 hold,
// RFC 3264 §8.4) means send nothing. Moving to a different specified address
// (a re-INVITE to another device) drops the latch so that the new peer is
// learned afresh; going on and off hold keeps it.
func (ep *Endpoint) SetRemote(rtp netip.AddrPort) {
	rtp = netip.AddrPortFrom(rtp.Addr().Unmap(), rtp.Port())
	ep.remoteMu.Lock()
	defer ep.remoteMu.Unlock()
	r := &remoteAddr{addr: rtp, send: rtp.Addr().IsValid() && !rtp.Addr().IsUnspecified() && rtp.Port() != 0}
	var prev netip.AddrPort
	if old := ep.remote.Load(); old != nil {
		prev = old.spec
	}
	r.spec = prev
	if r.send {
		r.spec = rtp
		if prev.IsValid() && prev != rtp {
			ep.gen.Add(1) // invalidates the latch and the reactor's candidate
		}
	}
	ep.remote.Store(r)
}

// Remote returns the address packets are sent to now, and false when nothing
// is sent (no SDP address yet, or on hold).
func (ep *Endpoint) Remote() (netip.AddrPort, bool) { return ep.destination() }

// RTCPTap sees each RTCP packet read on an endpoint, after SRTCP is
// removed: the sender, our address it arrived on (the RTCP port, or the
// RTP port when muxed) and the packet, which is reused once it returns. It
// runs on the reactor goroutine and must not block. It is for capture
// (HEP export); it changes nothing of what the handler and the RTCP
// statistics see.
type RTCPTap func(pkt []byte, from, to netip.AddrPort)

// SetRTCPTap installs t (nil removes it) beside the RTCP handler.
func (ep *Endpoint) SetRTCPTap(t RTCPTap) {
	if t == nil {
		ep.rtcpTap.Store(nil)
		return
	}
	ep.rtcpTap.Store(&t)
}

// SetRTCPHandler installs h as the receiver of RTCP packets (nil removes
// it). It is the hook for RTCP termination; without it RTCP is counted and
// dropped.
func (ep *Endpoint) SetRTCPHandler(h RTCPHandler) {
	if h == nil {
		ep.rtcpHook.Store(nil)
		return
	}
	ep.rtcpHook.Store(&h)
}

// Stats returns a snapshot of the endpoint's counters.
func (ep *Endpoint) Stats() EndpointStats {
	c := &ep.stats
	return EndpointStats{
		PacketsIn: c.packetsIn.Load(), BytesIn: c.bytesIn.Load(),
		PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		Invalid: c.invalid.Load(), Rejected: c.rejected.Load(),
		DroppedPT: c.droppedPT.Load(), NoDestination: c.noDest.Load(),
		SendErrors: c.sendErrors.Load(), Latches: c.latches.Load(),
		RTCPIn: c.rtcpIn.Load(), RTCPBytesIn: c.rtcpBytesIn.Load(),
		SourceChanges: c.sourceChanges.Load(),
		STUNIn:        c.stunIn.Load(), DTLSIn: c.dtlsIn.Load(),
		SRTPFailed: c.srtpFailed.Load(),
	}
}

// Close detaches the endpoint from its port pair and releases the pair into
// quarantine; no packet reaches the endpoint after Close returns, and
// nothing is sent from it. The pair's sockets stay bound, draining late
// packets, until the engine reuses or closes them. It is safe to call more
// than once.
func (ep *Endpoint) Close() error {
	ep.closeOnce.Do(func() {
		ep.closed.Store(true)
		ep.closeRTCP() // RTCP BYE (rtcp.go)
		ep.closeDTLS() // dtls.go
		ep.engine.unwatchConsent(ep)
		ep.pair.release(ep)
		ep.engine.unregister(ep)
		ep.engine.releasePair(ep.pair)
	})
	return nil
}

// destination is where RTP for the peer goes: the latched address when one
// is current, else the SDP address.
func (ep *Endpoint) destination() (netip.AddrPort, bool) {
	r := ep.remote.Load()
	if r == nil || !r.send {
		// On an ICE leg c=0.0.0.0 is the placeholder of a peer whose
		// candidates say where it is (RFC 8839 §4.2.1.1), not hold: the
		// nominated pair is the destination (ice.go).
		if l := ep.latched.Load(); l != nil && l.gen == ep.gen.Load() && ep.ice.Load() != nil {
			return l.addr, true
		}
		return netip.AddrPort{}, false
	}
	if l := ep.latched.Load(); l != nil && l.gen == ep.gen.Load() {
		return l.addr, true
	}
	return r.addr, true
}

// WriteRTP sends an RTP packet to the peer (the latched address, else the
// SDP address) and counts it; nothing is sent on hold or after Close.
// It may be called from any goroutine, and does not keep pkt.
func (ep *Endpoint) WriteRTP(pkt []byte) { ep.write(pkt, ep.engine.cfg.Now().UnixNano()) }

// SetHandler makes h the receiver of the RTP packets accepted on the
// endpoint, for media carried outside a Bridge (a conference room, a
// player). Every payload type counts towards latching. A Bridge's Start
// replaces it; nil stops delivery.
func (ep *Endpoint) SetHandler(h RTPHandler) {
	if h == nil {
		ep.rx.Store(nil)
		return
	}
	d := &direction{from: ep}
	d.setHandler(h)
	ep.rx.Store(d)
}

// write sends an RTP packet to the peer and counts it.
// now (unix ns) is the sender's clock: the arrival time of the packet the
// relay forwards, or the playout tick.
func (ep *Endpoint) write(pkt []byte, now int64) {
	if ep.closed.Load() {
		ep.stats.sendErrors.Add(1) // as a write on a closed socket
		return
	}
	dst, ok := ep.destination()
	if !ok {
		ep.stats.noDest.Add(1)
		return
	}
	var n int
	var err error
	if s := ep.srtp.Load(); s != nil {
		n, err = s.sendSRTP(ep.rtp, pkt, dst) // SRTP stage (srtp.go)
	} else if ep.needKeys.Load() { // DTLS-SRTP not keyed yet (dtls.go)
		ep.stats.noDest.Add(1)
		return
	} else {
		n, err = ep.rtp.sendTo(pkt, dst)
	}
	if err != nil {
		ep.stats.sendErrors.Add(1)
		return
	}
	ep.stats.packetsOut.Add(1)
	ep.stats.bytesOut.Add(uint64(n))
	ep.rtcpOnSend(pkt, now) // sender statistics (rtcp.go)
}

// receive handles one datagram from the RTP socket, on the pair's RTP
// reactor goroutine: demultiplex (RFC 7983 §7) → validate → latch →
// direction handler. RTCP multiplexed on the RTP port (RFC 5761 §4:
// packet types 200-207 in the second octet) goes to the RTCP hook; STUN
// goes to the ICE-lite responder and DTLS to the DTLS-SRTP transport of
// a WebRTC leg (counted and dropped on other legs).
func (ep *Endpoint) receive(pkt []byte, src netip.AddrPort, now int64) {
	if r := ep.datagrams.Load(); r != nil {
		r.receive(ep, pkt, src, now) // UDPTL (udptl.go)
		return
	}
	if len(pkt) < 2 {
		ep.stats.invalid.Add(1)
		return
	}
	switch b := pkt[0]; {
	case b >= 128 && b <= 191: // RTP or RTCP
		if isRTCP(pkt) { // rtcp-mux, RFC 5761 §4 (rtcp.go)
			ep.receiveRTCP(pkt, src, true)
			return
		}
		if s := ep.srtp.Load(); s != nil { // SRTP stage (srtp.go)
			var ok bool
			if pkt, ok = s.unprotectRTP(pkt); !ok {
				ep.stats.srtpFailed.Add(1)
				return
			}
		} else if ep.needKeys.Load() { // plain RTP on a DTLS-SRTP leg
			ep.stats.srtpFailed.Add(1)
			return
		}
	case b <= 3:
		ep.receiveSTUN(pkt, src, now) // ICE-lite (ice.go)
		return
	case b >= 20 && b <= 63:
		ep.receiveDTLS(pkt, src) // DTLS-SRTP (dtls.go)
		return
	default:
		ep.stats.invalid.Add(1)
		return
	}
	h, ok := rtp.Parse(pkt)
	if !ok {
		ep.stats.invalid.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	d := ep.rx.Load()
	if !ep.admit(src, d == nil || d.known(h.PT)) {
		ep.stats.rejected.Add(1)
		return
	}
	ep.stats.packetsIn.Add(1)
	ep.stats.bytesIn.Add(uint64(len(pkt)))
	ep.lastRx.Store(now)
	ep.rtcpOnRTP(&h, len(pkt)-h.Size-h.Pad, now) // receiver statistics (rtcp.go)
	if d != nil {
		d.handle(pkt, h, now)
	}
}

// admit applies the latching policy (doc.go) to a valid RTP packet from src
// and reports whether it is accepted. known tells whether its payload type
// is one the bridge maps; only such packets count towards a latch.
func (ep *Endpoint) admit(src netip.AddrPort, known bool) bool {
	gen := ep.gen.Load()
	if gen != ep.candGen {
		ep.candGen, ep.cand, ep.candN = gen, netip.AddrPort{}, 0
	}
	var cur netip.AddrPort
	haveLatch := false
	if l := ep.latched.Load(); l != nil && l.gen == gen {
		cur, haveLatch = l.addr, true
	}
	if haveLatch && src == cur {
		ep.candN = 0
		return true
	}
	if !known {
		return !haveLatch
	}
	if src == ep.cand {
		ep.candN++
	} else {
		ep.cand, ep.candN = src, 1
	}
	if ep.candN < ep.latchN {
		return !haveLatch
	}
	ep.latched.Store(&latch{addr: src, gen: gen})
	ep.stats.latches.Add(1)
	ep.candN = 0
	if haveLatch {
		ep.logger().Info("rtp source re-latched", "from", cur, "to", src)
	} else if ep.baseLog.Enabled(context.Background(), slog.LevelDebug) {
		ep.logger().Debug("rtp source latched", "addr", src)
	}
	return true
}

// receiveRTCP counts an RTCP packet, passes it to the hook and to the
// RTCP statistics, on the pair's reactor goroutine. muxed tells that it
// arrived on the RTP socket.
func (ep *Endpoint) receiveRTCP(pkt []byte, src netip.AddrPort, muxed bool) {
	ep.stats.rtcpIn.Add(1)
	ep.stats.rtcpBytesIn.Add(uint64(len(pkt)))
	if s := ep.srtp.Load(); s != nil { // SRTCP (RFC 3711 §3.4)
		i := 0
		if muxed {
			i = 1
		}
		if ep.rtcpBuf[i] == nil {
			ep.rtcpBuf[i] = make([]byte, srtpMax)
		}
		var ok bool
		if pkt, ok = s.unprotectRTCP(pkt, ep.rtcpBuf[i]); !ok {
			ep.stats.srtpFailed.Add(1)
			return
		}
	} else if ep.needKeys.Load() { // plain RTCP on a DTLS-SRTP leg
		ep.stats.srtpFailed.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if t := ep.rtcpTap.Load(); t != nil {
		to := ep.local
		if !muxed {
			to = netip.AddrPortFrom(to.Addr(), to.Port()+1)
		}
		(*t)(pkt, src, to)
	}
	if h := ep.rtcpHook.Load(); h != nil {
		(*h)(pkt, src)
	}
	ep.terminateRTCP(pkt, src, muxed) // rtcp.go
}

// takePair takes a port pair from the pool: a warm one as it is, else a
// cold port bound now; ports that fail to bind are skipped.
func (e *Engine) takePair() (*pair, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	tries := e.ports.size()
	e.mu.Unlock()
	var lastErr error
	for range tries {
		e.mu.Lock()
		port, warm, err := e.ports.take(e.cfg.Now())
		var p *pair
		if warm {
			p = e.pairs[port]
		}
		e.mu.Unlock()
		if err != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("%w (last bind error: %w)", err, lastErr)
			}
			return nil, err
		}
		if p != nil {
			return p, nil
		}
		p, err = e.openPair(port)
		if err == nil {
			e.mu.Lock()
			e.pairs[port] = p
			e.mu.Unlock()
			return p, nil
		}
		lastErr = err
		e.log.Debug("rtp port unavailable, skipping", "port", port, "err", err)
		e.mu.Lock()
		e.ports.putBack(port)
		e.mu.Unlock()
	}
	return nil, fmt.Errorf("%w in %d-%d: every free port failed to bind: %w",
		ErrPortsExhausted, e.cfg.PortMin, e.cfg.PortMax, lastErr)
}
