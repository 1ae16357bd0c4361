package test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This kernel (Firecracker, no sch_netem) refuses `tc qdisc ... netem`, so
// the network impairments the media tests need are applied in user space:
// an impairer stands in front of Switchboard's media ports. Switchboard
// binds 127.0.0.1 and advertises 127.0.0.9 in SDP; the impairer binds
// 127.0.0.9 on every even port (RTP) and odd port (RTCP) of the media
// range and forwards each datagram to the same port on 127.0.0.1, and what
// Switchboard sends back (to 127.0.0.9, the address it latched) to the
// peer that last sent on that port. Datagrams from an impaired source
// (chosen by address) are delayed by Delay plus a uniform jitter of
// ±Jitter (packets overtake each other when the jitter exceeds the packet
// interval, as with netem's default) and dropped with probability Loss;
// everything else passes at once. This is netem's model for
// "delay D J loss L" with uniform jitter and no correlation.
type impairer struct {
	t      testing.TB
	front  netip.Addr // advertised address the impairer binds
	back   netip.Addr // Switchboard's real bind address
	match  func(netip.Addr) bool
	delay  time.Duration
	jitter time.Duration
	loss   float64
	rng    *rand.Rand
	rngMu  sync.Mutex

	conns   []*net.UDPConn
	wg      sync.WaitGroup
	stopped atomic.Bool

	Forwarded, Dropped atomic.Int64

	// The RFC 3550 A.8 interarrival jitter of the impaired RTP as it left
	// the impairer (8000 Hz clock), and its mean over the call: what the
	// impairment did to the stream, measured where it was applied.
	jMu    sync.Mutex
	jPrev  float64 // previous transit, ms
	jHave  bool
	j      float64
	jSum   float64
	jCount int
}

// jitterSent updates the jitter of the impaired stream with one RTP
// packet sent at t.
func (im *impairer) jitterSent(pkt []byte, t time.Time) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || pkt[1]&0x7f >= 72 && pkt[1]&0x7f <= 95 {
		return
	}
	ts := binary.BigEndian.Uint32(pkt[4:])
	transit := float64(t.UnixNano())/1e6 - float64(ts)/8
	im.jMu.Lock()
	defer im.jMu.Unlock()
	if im.jHave {
		d := math.Abs(transit - im.jPrev)
		im.j += (d - im.j) / 16
		im.jCount++
		if im.jCount > 50 { // past the estimator's start-up
			im.jSum += im.j
		}
	}
	im.jPrev, im.jHave = transit, true
}

// MeanJitterMs is the mean RFC 3550 jitter (ms) of the impaired stream.
func (im *impairer) MeanJitterMs() float64 {
	im.jMu.Lock()
	defer im.jMu.Unlock()
	if im.jCount <= 50 {
		return 0
	}
	return im.jSum / float64(im.jCount-50)
}

// LossRate is the share of impaired datagrams dropped.
func (im *impairer) LossRate() float64 {
	f, d := im.Forwarded.Load(), im.Dropped.Load()
	if f+d == 0 {
		return 0
	}
	return float64(d) / float64(f+d)
}

// impairment is what an impairer applies to matching sources.
type impairment struct {
	Delay, Jitter time.Duration
	Loss          float64
}

// startImpairer binds front on every port of [lo, hi] and relays to back.
func startImpairer(t testing.TB, front, back netip.Addr, lo, hi int, match func(netip.Addr) bool, imp impairment) *impairer {
	t.Helper()
	im := &impairer{t: t, front: front, back: back, match: match, delay: imp.Delay, jitter: imp.Jitter, loss: imp.Loss,
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	for port := lo; port <= hi; port++ {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(front, uint16(port))))
		if err != nil {
			im.stop()
			t.Fatalf("impairer: bind %s:%d: %v", front, port, err)
		}
		im.conns = append(im.conns, c)
		im.wg.Add(1)
		go im.serve(c, netip.AddrPortFrom(back, uint16(port)))
	}
	t.Cleanup(im.stop)
	return im
}

func (im *impairer) stop() {
	if im.stopped.Swap(true) {
		return
	}
	for _, c := range im.conns {
		c.Close()
	}
	im.wg.Wait()
}

// serve relays one port: from a peer to Switchboard (impaired when the
// peer matches), and from Switchboard back to the last peer.
func (im *impairer) serve(c *net.UDPConn, sb netip.AddrPort) {
	defer im.wg.Done()
	var peer atomic.Pointer[netip.AddrPort]
	buf := make([]byte, 2048)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if src == sb {
			if p := peer.Load(); p != nil {
				_, _ = c.WriteToUDPAddrPort(buf[:n], *p)
			}
			continue
		}
		peer.Store(&src)
		pkt := append([]byte(nil), buf[:n]...)
		if !im.match(src.Addr()) {
			_, _ = c.WriteToUDPAddrPort(pkt, sb)
			continue
		}
		im.rngMu.Lock()
		lost := im.rng.Float64() < im.loss
		d := im.delay
		if im.jitter > 0 {
			d += time.Duration((im.rng.Float64()*2 - 1) * float64(im.jitter))
		}
		im.rngMu.Unlock()
		if lost {
			im.Dropped.Add(1)
			continue
		}
		im.Forwarded.Add(1)
		time.AfterFunc(max(d, 0), func() {
			if !im.stopped.Load() {
				im.jitterSent(pkt, time.Now())
				_, _ = c.WriteToUDPAddrPort(pkt, sb)
			}
		})
	}
}

// String describes the impairment, netem style.
func (im *impairer) String() string {
	return fmt.Sprintf("delay %v %v loss %.1f%%", im.delay, im.jitter, 100*im.loss)
}
