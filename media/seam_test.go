package media

import (
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// handlerFunc adapts a function to RTPHandler.
type handlerFunc func(pkt []byte, h rtp.Header, now int64)

func (f handlerFunc) HandleRTP(pkt []byte, h rtp.Header, now int64) { f(pkt, h, now) }

// TestEndpointSeam: an endpoint outside a bridge hands RTP to its handler,
// sends with WriteRTP, and passes RTCP multiplexed on the RTP port
// (RFC 5761) to the RTCP hook.
func TestEndpointSeam(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 1, nil)
	ep := newTestEndpoint(t, e)
	p := newPeer(t, addr)
	ep.SetRemote(p.addr())
	var got atomic.Int64
	ep.SetHandler(handlerFunc(func(pkt []byte, h rtp.Header, now int64) {
		if h.PT == 96 && string(h.Payload(pkt)) == "abcd" {
			got.Add(1)
		}
	}))
	var rtcp atomic.Int64
	ep.SetRTCPHandler(func(pkt []byte, from netip.AddrPort) { rtcp.Add(1) })
	p.send(ep.Local(), rtpPacket(96, 1, 0, 7, false))
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 7} // RTCP RR, no report blocks
	p.send(ep.Local(), rr)
	eventually(t, func() bool { return got.Load() == 1 && rtcp.Load() == 1 })
	if got.Load() != 1 || rtcp.Load() != 1 {
		t.Fatalf("handler saw %d RTP, hook %d RTCP", got.Load(), rtcp.Load())
	}
	ep.WriteRTP(rtpPacket(0, 5, 6, 7, false))
	if h, _ := p.recvRTP(); h.Seq != 5 || h.SSRC != 7 {
		t.Errorf("WriteRTP sent %+v", h)
	}
	if s := ep.Stats(); s.RTCPIn != 1 || s.PacketsOut != 1 {
		t.Errorf("stats %+v", s)
	}
}

type countStream struct{ n atomic.Int64 }

func (s *countStream) tick(time.Time) { s.n.Add(1) }

// TestPlayoutClock: one ticker goroutine runs while streams are
// registered, every PlayoutInterval, and stops with the last one.
func TestPlayoutClock(t *testing.T) {
	c := newPlayout(time.Now, testLogger(t))
	defer c.close()
	s1, s2 := &countStream{}, &countStream{}
	c.add(s1)
	c.add(s2)
	time.Sleep(10 * PlayoutInterval)
	c.remove(s1)
	n1 := s1.n.Load()
	if n1 < 3 || s2.n.Load() < 3 {
		t.Fatalf("ticks in 200 ms: %d and %d", n1, s2.n.Load())
	}
	time.Sleep(3 * PlayoutInterval)
	if s1.n.Load() != n1 {
		t.Errorf("a removed stream was ticked")
	}
	if c.of[s1] != nil || c.of[s2] == nil {
		t.Errorf("shard map: s1 %v s2 %v", c.of[s1], c.of[s2])
	}
	c.remove(s2)
	for i, sh := range c.shards {
		sh.mu.Lock()
		running := sh.stop != nil
		sh.mu.Unlock()
		if running {
			t.Errorf("shard %d runs with no stream", i)
		}
	}
	if runtime.GOMAXPROCS(0) > 1 && len(c.shards) < 2 {
		t.Errorf("%d shards on %d procs", len(c.shards), runtime.GOMAXPROCS(0))
	}
}
