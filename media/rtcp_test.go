package media

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/switchboard/switchboard/rtcpstats"
)

// rtcpCall is a started PCMU call a ↔ b on a fake clock, with a plain UDP
// socket per leg standing in for each phone's RTCP port.
type rtcpCall struct {
	*call
	clk    *fakeClock
	ra, rb *peer  // the phones' RTCP sockets
	lastB  []byte // the last RTP packet phone B received
}

func newRTCPCall(t *testing.T, mux bool) *rtcpCall {
	t.Helper()
	addr := netip.MustParseAddr("127.0.0.1")
	clk := newFakeClock()
	e := newTestEngine(t, addr, 2, func(c *Config) { c.Now = clk.Now })
	c := &rtcpCall{call: newCall(t, e, addr), clk: clk, ra: newPeer(t, addr), rb: newPeer(t, addr)}
	pm := PayloadMap{0: {PT: 0, Name: "PCMU", Clock: 8000}}
	c.br.SetPayloadMap(c.a, pm)
	c.br.SetPayloadMap(c.b, pm)
	oa := RTCPOptions{Remote: c.ra.addr(), CNAME: "leg-a@switchboard", Codec: "PCMU", Ptime: 20 * time.Millisecond, Mux: mux}
	ob := RTCPOptions{Remote: c.rb.addr(), CNAME: "leg-b@switchboard", Codec: "PCMU", Ptime: 20 * time.Millisecond}
	if mux {
		oa.Remote = netip.AddrPort{}
	}
	c.a.SetRTCP(oa)
	c.b.SetRTCP(ob)
	c.br.Start(nil)
	return c
}

// stream has phone A send n PCMU packets of 160 octets to endpoint a, 20 ms
// apart on the fake clock, in lockstep with the reactor, skipping the
// sequence numbers in lose.
func (c *rtcpCall) stream(t *testing.T, ssrc uint32, n int, lose func(seq uint16) bool) {
	t.Helper()
	pkt := append(rtpPacket(0, 0, 0, ssrc, false)[:12], make([]byte, 160)...)
	for i := range n {
		seq := uint16(1000 + i)
		c.clk.Advance(20 * time.Millisecond)
		if lose != nil && lose(seq) {
			continue
		}
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		want := c.a.Stats().PacketsIn + 1
		c.pa.send(c.a.Local(), pkt)
		eventually(t, func() bool { return c.a.Stats().PacketsIn == want })
		c.lastB = c.pb.recv()
	}
}

// recvRTCP reads compound packets on p until one holds a packet accepted
// by want, failing after 5 s.
func recvRTCP(t *testing.T, p *peer, want func(rtcp.Packet) bool) []rtcp.Packet {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		buf, ok := p.recvWithin(time.Until(deadline))
		if !ok {
			break
		}
		pkts, err := rtcp.Unmarshal(buf)
		if err != nil {
			t.Fatalf("peer got unparsable RTCP %x: %v", buf, err)
		}
		for _, pk := range pkts {
			if want(pk) {
				return pkts
			}
		}
	}
	t.Fatalf("peer %s: no RTCP of the kind wanted", p.addr())
	return nil
}

func isSR(p rtcp.Packet) bool  { _, ok := p.(*rtcp.SenderReport); return ok }
func isRR(p rtcp.Packet) bool  { _, ok := p.(*rtcp.ReceiverReport); return ok }
func isBye(p rtcp.Packet) bool { _, ok := p.(*rtcp.Goodbye); return ok }

func cnameOf(t *testing.T, pkts []rtcp.Packet) string {
	t.Helper()
	for _, p := range pkts {
		if sd, ok := p.(*rtcp.SourceDescription); ok {
			for _, ch := range sd.Chunks {
				for _, it := range ch.Items {
					if it.Type == rtcp.SDESCNAME {
						return it.Text
					}
				}
			}
		}
	}
	t.Fatalf("no SDES CNAME in %v", pkts)
	return ""
}

// TestRTCPReportsPerLeg: leg a only receives (phone A talks), so it sends
// an RR about phone A's stream; leg b only sends, so it sends an SR with
// our packet count. Both carry the leg's SDES CNAME, and the first comes
// within RFC 3550's initial interval (at most 1.5 × 2.5 s / 1.218).
func TestRTCPReportsPerLeg(t *testing.T) {
	c := newRTCPCall(t, false)
	const ssrcA = 0x5EED0001
	c.stream(t, ssrcA, 50, nil)
	c.clk.Advance(3100 * time.Millisecond)

	rr := recvRTCP(t, c.ra, isRR)
	if got := cnameOf(t, rr); got != "leg-a@switchboard" {
		t.Errorf("leg a CNAME %q", got)
	}
	r := rr[0].(*rtcp.ReceiverReport)
	if len(r.Reports) != 1 || r.Reports[0].SSRC != ssrcA {
		t.Fatalf("leg a RR blocks %+v, want one about %#x", r.Reports, ssrcA)
	}
	if b := r.Reports[0]; b.TotalLost != 0 || b.FractionLost != 0 || b.LastSequenceNumber != 1049 {
		t.Errorf("leg a block %+v: want no loss, highest seq 1049", b)
	}

	sr := recvRTCP(t, c.rb, isSR)
	if got := cnameOf(t, sr); got != "leg-b@switchboard" {
		t.Errorf("leg b CNAME %q", got)
	}
	s := sr[0].(*rtcp.SenderReport)
	if s.PacketCount != 50 || s.OctetCount != 50*160 {
		t.Errorf("leg b SR counts %d packets %d octets, want 50, 8000", s.PacketCount, s.OctetCount)
	}
	if got := rtcpstats.NTPToTime(s.NTPTime); got.Sub(c.clk.Now()).Abs() > 200*time.Millisecond {
		t.Errorf("SR NTP time %v, clock %v", got, c.clk.Now())
	}
	if want := binary.BigEndian.Uint32(c.lastB[8:]); s.SSRC != want {
		t.Errorf("SR SSRC %#x is not the SSRC of the RTP sent on the leg %#x", s.SSRC, want)
	}
}

// TestRTCPRoundTripTime measures RTT both ways with an injected delay on
// the fake clock: the phone's RR answering our SR gives our RTT (RFC 3550
// §6.4.1: A − LSR − DLSR), and our RR answering the phone's SR lets the
// phone compute the same.
func TestRTCPRoundTripTime(t *testing.T) {
	c := newRTCPCall(t, false)
	c.stream(t, 0x5EED0002, 10, nil)
	c.clk.Advance(3100 * time.Millisecond)
	sr := recvRTCP(t, c.rb, isSR)[0].(*rtcp.SenderReport)

	// Phone B holds our SR for 1 s (DLSR), and the network adds 2 × 40 ms.
	const injected = 80 * time.Millisecond
	c.clk.Advance(time.Second + injected)
	rr := &rtcp.ReceiverReport{SSRC: 0xB0B, Reports: []rtcp.ReceptionReport{{
		SSRC: sr.SSRC, LastSenderReport: uint32(sr.NTPTime >> 16), Delay: 1 << 16,
	}}}
	buf, err := rr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c.rb.send(netip.AddrPortFrom(c.b.Local().Addr(), c.b.Local().Port()+1), buf)
	eventually(t, func() bool { return c.b.Quality("b").RTTSamples > 0 })
	q := c.b.Quality("b")
	if d := time.Duration(q.RTTMs*float64(time.Millisecond)) - injected; d.Abs() > time.Millisecond {
		t.Errorf("leg b RTT %.3f ms, want %v", q.RTTMs, injected)
	}
	if !q.Sent.Reported || q.RTCPReceived != 1 {
		t.Errorf("leg b: reported %v, RTCP received %d", q.Sent.Reported, q.RTCPReceived)
	}

	// Phone A sends an SR that takes 30 ms to reach us; our next RR echoes
	// it (LSR) with our hold time (DLSR), and phone A, reading it 30 ms
	// after we sent it, gets 60 ms.
	phoneNTP := rtcpstats.NTPTime(c.clk.Now().Add(-30 * time.Millisecond))
	srA := &rtcp.SenderReport{SSRC: 0x5EED0002, NTPTime: phoneNTP, PacketCount: 10}
	buf, err = srA.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c.ra.send(netip.AddrPortFrom(c.a.Local().Addr(), c.a.Local().Port()+1), buf)
	eventually(t, func() bool { return c.a.Quality("a").RTCPReceived == 1 })
	for range 3 { // the initial RR may have gone before the SR
		c.clk.Advance(7 * time.Second)
		got := recvRTCP(t, c.ra, isRR)[0].(*rtcp.ReceiverReport)
		if len(got.Reports) == 1 && got.Reports[0].LastSenderReport != 0 {
			arrival := c.clk.Now().Add(30 * time.Millisecond)
			rtt, ok := rtcpstats.RTTFromReport(got.Reports[0], arrival)
			if !ok || (rtt-60*time.Millisecond).Abs() > time.Millisecond {
				t.Errorf("phone A's RTT from our RR: %v (%v), want 60ms", rtt, ok)
			}
			return
		}
	}
	t.Fatal("no RR echoed phone A's SR")
}

// TestRTCPByeOnClose: closing an endpoint that sent media sends a final
// report and an RTCP BYE for its SSRC (RFC 3550 §6.6).
func TestRTCPByeOnClose(t *testing.T) {
	c := newRTCPCall(t, false)
	c.stream(t, 0x5EED0003, 5, nil)
	ssrc := c.b.RTCPSession().SSRC()
	c.b.Close()
	pkts := recvRTCP(t, c.rb, isBye)
	if !isSR(pkts[0]) {
		t.Errorf("BYE compound starts with %T, want the final SR", pkts[0])
	}
	for _, p := range pkts {
		if bye, ok := p.(*rtcp.Goodbye); ok && (len(bye.Sources) != 1 || bye.Sources[0] != ssrc) {
			t.Errorf("BYE sources %x, want %x", bye.Sources, ssrc)
		}
	}
	// Nothing follows the BYE.
	c.clk.Advance(10 * time.Second)
	if buf, ok := c.rb.recvWithin(300 * time.Millisecond); ok {
		t.Errorf("RTCP after BYE: %x", buf)
	}
}

// TestRTCPMux: with rtcp-mux (RFC 5761) leg a sends its reports to phone
// A's RTP address from the RTP port, and RTCP phone A sends to our RTP port
// is terminated, not taken for RTP.
func TestRTCPMux(t *testing.T) {
	c := newRTCPCall(t, true)
	c.stream(t, 0x5EED0004, 10, nil)
	sr := &rtcp.SenderReport{SSRC: 0x5EED0004, NTPTime: rtcpstats.NTPTime(c.clk.Now()), PacketCount: 10}
	buf, err := rtcp.CompoundPacket{sr, rtcp.NewCNAMESourceDescription(0x5EED0004, "phone-a")}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c.pa.send(c.a.Local(), buf)
	eventually(t, func() bool { return c.a.Quality("a").RTCPReceived == 1 })
	st := c.a.Stats()
	if st.Invalid != 0 || st.PacketsIn != 10 || st.RTCPIn != 1 {
		t.Errorf("muxed RTCP counted as %+v", st)
	}
	if q := c.a.Quality("a"); q.RemoteCNAME != "phone-a" {
		t.Errorf("remote CNAME %q", q.RemoteCNAME)
	}
	c.clk.Advance(3100 * time.Millisecond)
	rr := recvRTCP(t, c.pa, isRR) // on phone A's RTP socket
	if got := cnameOf(t, rr); got != "leg-a@switchboard" {
		t.Errorf("CNAME %q", got)
	}
	if b := rr[0].(*rtcp.ReceiverReport).Reports; len(b) != 1 || b[0].LastSenderReport != uint32(sr.NTPTime>>16) {
		t.Errorf("RR blocks %+v do not echo the muxed SR", b)
	}
	if _, ok := c.ra.recvWithin(100 * time.Millisecond); ok {
		t.Error("muxed leg also sent to the RTCP address")
	}
}

// TestRTCPDestination covers where reports go without a=rtcp: the RTP
// port + 1, then the source of the peer's RTCP once it arrives; RTCP that
// does not parse, or comes from another host, moves nothing.
func TestRTCPDestination(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(t, addr, 1, nil)
	ep := newTestEndpoint(t, e)
	ep.SetRTCP(RTCPOptions{})
	l := ep.rtcp.Load()
	check := func(want netip.AddrPort, ok bool) {
		t.Helper()
		l.mu.Lock()
		got, _, gotOK := l.destination()
		l.mu.Unlock()
		if got != want || gotOK != ok {
			t.Errorf("destination %v %v, want %v %v", got, gotOK, want, ok)
		}
	}
	check(netip.AddrPort{}, false)
	ep.SetRemote(netip.MustParseAddrPort("192.0.2.1:4000"))
	check(netip.MustParseAddrPort("192.0.2.1:4001"), true)
	rr, _ := (&rtcp.ReceiverReport{SSRC: 7}).Marshal()
	from := netip.MustParseAddrPort("192.0.2.1:5555")
	ep.terminateRTCP([]byte{0x80, 201}, from, false) // does not parse: ignored
	check(netip.MustParseAddrPort("192.0.2.1:4001"), true)
	ep.terminateRTCP(rr, from, false)
	check(from, true)
	ep.terminateRTCP(rr, netip.MustParseAddrPort("198.51.100.7:4001"), false) // another host
	check(from, true)
	if q := ep.Quality("a"); q.RTCPErrors != 1 || q.RTCPReceived != 1 || q.RTCPRejected != 1 {
		t.Errorf("errors %d received %d rejected %d, want 1 1 1", q.RTCPErrors, q.RTCPReceived, q.RTCPRejected)
	}
}

// TestQualityLoss: the quality record counts the loss introduced (skipped
// sequence numbers) and rates the lossy stream lower than a clean one.
func TestQualityLoss(t *testing.T) {
	run := func(lose func(uint16) bool) rtcpstats.CallQuality {
		c := newRTCPCall(t, false)
		c.stream(t, 0x5EED0005, 200, lose)
		c.clk.Advance(3100 * time.Millisecond)
		recvRTCP(t, c.ra, isRR)
		return CallQuality(c.a, c.b)
	}
	clean := run(nil)
	lossy := run(func(seq uint16) bool { return seq%10 == 3 }) // 10 %
	ca, la := clean.Legs[0], lossy.Legs[0]
	if ca.Received.Lost != 0 || ca.Received.Packets != 200 {
		t.Errorf("clean leg a: %+v", ca.Received)
	}
	if la.Received.Lost != 20 || la.Received.Packets != 180 || la.Received.LossRate != 0.1 {
		t.Errorf("lossy leg a: lost %d of %d, rate %v; want 20 of 200, 0.1", la.Received.Lost, la.Received.Expected, la.Received.LossRate)
	}
	if !(la.Received.MOS > 1 && la.Received.MOS < ca.Received.MOS-0.5) {
		t.Errorf("MOS with 10%% loss %.2f, clean %.2f: want clearly lower", la.Received.MOS, ca.Received.MOS)
	}
	if ca.Received.JitterMaxMs != 0 || ca.Codec != "PCMU" || ca.PtimeMs != 20 {
		t.Errorf("clean leg a: jitter %v codec %q ptime %v", ca.Received.JitterMaxMs, ca.Codec, ca.PtimeMs)
	}
	if lb := lossy.Legs[1]; lb.Leg != "b" || lb.Sent.Packets != 180 {
		t.Errorf("leg b sent %d, want the 180 relayed", lb.Sent.Packets)
	}
	kv := lossy.Summary()
	m := map[any]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	if m["loss_a"] != 0.1 || m["mos_a"] != la.Received.MOS || m["jitter_ms"] == nil {
		t.Errorf("summary %v", kv)
	}
}

// BenchmarkOnRTP is the per-packet cost of RTCP statistics on the reactor
// path: Endpoint.receive (validate, latch, count, rtcpstats OnRTP) with
// the relay's send on hold, with and without RTCP enabled.
func BenchmarkOnRTP(b *testing.B) {
	addr := netip.MustParseAddr("127.0.0.1")
	for _, on := range []bool{false, true} {
		name := "rtcp=off"
		if on {
			name = "rtcp=on"
		}
		b.Run(name, func(b *testing.B) {
			e := newTestEngine(b, addr, 2, nil)
			c := newBenchCall(b, e, addr)
			if on {
				c.a.SetRTCP(RTCPOptions{Codec: "PCMU"})
				c.b.SetRTCP(RTCPOptions{Codec: "PCMU"})
			}
			c.b.SetRemote(netip.AddrPort{}) // hold: no sendto
			pkt := append(rtpPacket(0, 0, 0, 0x1234, false)[:12], make([]byte, 160)...)
			src := netip.MustParseAddrPort("127.0.0.1:40000")
			now := time.Now().UnixNano()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
				binary.BigEndian.PutUint32(pkt[8:], 0x1234)
				c.a.receive(pkt, src, now+int64(i)*20e6)
				i++
			}
		})
	}
}

// BenchmarkRelayPacketRTCP is BenchmarkRelayPacket with RTCP enabled on
// both endpoints: receiver statistics on a, sender statistics on b.
func BenchmarkRelayPacketRTCP(b *testing.B) {
	benchRelayPacket(b, func(c *call) {
		c.a.SetRTCP(RTCPOptions{Codec: "PCMU"})
		c.b.SetRTCP(RTCPOptions{Codec: "PCMU"})
	})
}

// FuzzEndpointRTCP feeds arbitrary datagrams to an endpoint with RTCP
// enabled, on its RTP port (the rtcp-mux demux, RFC 5761 §4, then RTP or
// RTCP termination) and on its RTCP port: nothing panics, and a report
// can still be built and its quality taken.
func FuzzEndpointRTCP(f *testing.F) {
	sr, _ := rtcp.CompoundPacket{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 32, Reports: []rtcp.ReceptionReport{{SSRC: 2, LastSenderReport: 5}}},
		rtcp.NewCNAMESourceDescription(1, "x"),
	}.Marshal()
	xr, _ := (&rtcp.ExtendedReport{SenderSSRC: 1, Reports: []rtcp.ReportBlock{rtcpstats.RRTRBlock(time.Unix(1, 0))}}).Marshal()
	bye, _ := (&rtcp.Goodbye{Sources: []uint32{1}, Reason: "x"}).Marshal()
	for _, s := range [][]byte{sr, xr, bye, rtpPacket(0, 1, 160, 1, false), {0x80, 200}} {
		f.Add(s, false)
		f.Add(s, true)
	}
	addr := netip.MustParseAddr("127.0.0.1")
	e := newTestEngine(f, addr, 1, nil)
	ep := newTestEndpoint(f, e)
	ep.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"))
	ep.SetRTCP(RTCPOptions{XR: true, Mux: true})
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	f.Fuzz(func(t *testing.T, data []byte, rtcpPort bool) {
		if len(data) > readBufferSize {
			return // more than a reactor reads
		}
		if rtcpPort {
			ep.receiveRTCP(data, src, false)
		} else {
			ep.receive(data, src, time.Now().UnixNano())
		}
		l := ep.rtcp.Load()
		l.mu.Lock()
		l.send(time.Now(), false)
		l.mu.Unlock()
		_ = ep.Quality("a")
	})
}

// TestRTCPXR: with XR (RFC 3611) a receive-only leg adds an RRTR, a
// Statistics Summary and VoIP Metrics for the stream it receives; the
// phone's DLRR answering the RRTR gives our RTT (§4.5), and the phone's
// own VoIP Metrics about our stream reach the record as the far MOS.
func TestRTCPXR(t *testing.T) {
	c := newRTCPCall(t, false)
	c.a.SetRTCP(RTCPOptions{Remote: c.ra.addr(), XR: true, Codec: "PCMU", Ptime: 20 * time.Millisecond})
	const phone = 0x5EED0006
	c.stream(t, phone, 100, func(seq uint16) bool { return seq%20 == 7 }) // 5 %
	c.clk.Advance(3100 * time.Millisecond)
	isXR := func(p rtcp.Packet) bool { _, ok := p.(*rtcp.ExtendedReport); return ok }
	pkts := recvRTCP(t, c.ra, isXR)
	// A report may also have gone out while the stream played (the fake
	// clock moved 2 s): answer the latest RRTR, as a phone would.
	for {
		buf, ok := c.ra.recvWithin(300 * time.Millisecond)
		if !ok {
			break
		}
		if ps, err := rtcp.Unmarshal(buf); err == nil && slices.ContainsFunc(ps, isXR) {
			pkts = ps
		}
	}
	ours := pkts[0].(*rtcp.ReceiverReport).SSRC
	var rrtr *rtcp.ReceiverReferenceTimeReportBlock
	var voip *rtcp.VoIPMetricsReportBlock
	for _, p := range pkts {
		if xr, ok := p.(*rtcp.ExtendedReport); ok {
			for _, b := range xr.Reports {
				switch b := b.(type) {
				case *rtcp.ReceiverReferenceTimeReportBlock:
					rrtr = b
				case *rtcp.VoIPMetricsReportBlock:
					voip = b
				}
			}
		}
	}
	if rrtr == nil || voip == nil {
		t.Fatalf("XR lacks RRTR or VoIP Metrics: %v", pkts)
	}
	if voip.SSRC != phone || voip.LossRate != 12 || voip.MOSCQ < 30 || voip.MOSCQ > 45 {
		t.Errorf("VoIP Metrics %+v: want phone's SSRC, loss 5 %% (12/256), a MOS-CQ near 4", voip)
	}

	const injected = 50 * time.Millisecond
	c.clk.Advance(500*time.Millisecond + injected)
	answer := &rtcp.ExtendedReport{SenderSSRC: phone, Reports: []rtcp.ReportBlock{
		&rtcp.DLRRReportBlock{Reports: []rtcp.DLRRReport{{SSRC: ours, LastRR: uint32(rrtr.NTPTimestamp >> 16), DLRR: 1 << 15}}},
		rtcpstats.VoIPMetrics{SSRC: ours, MOSCQ: 4.1, MOSLQ: 4.2, RFactor: 85, Gmin: 16}.Block(),
	}}
	buf, err := answer.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c.ra.send(netip.AddrPortFrom(c.a.Local().Addr(), c.a.Local().Port()+1), buf)
	eventually(t, func() bool { return c.a.Quality("a").RTTSamples > 0 })
	q := c.a.Quality("a")
	if d := time.Duration(q.RTTMs*float64(time.Millisecond)) - injected; d.Abs() > time.Millisecond {
		t.Errorf("RTT from DLRR %.3f ms, want %v", q.RTTMs, injected)
	}
	if q.Sent.FarMOS != 4.1 || q.Sent.FarRFactor != 85 {
		t.Errorf("far view %+v, want MOS 4.1, R 85", q.Sent)
	}
	if q.Received.Lost != 5 {
		t.Errorf("lost %d, want 5", q.Received.Lost)
	}
}

// TestRTCPClockRateChange: SetRTCP again with the same clock keeps the
// statistics; another clock rate starts a new session, and the replaced
// one sends nothing more.
func TestRTCPClockRateChange(t *testing.T) {
	c := newRTCPCall(t, false)
	c.stream(t, 0x5EED0007, 10, nil)
	first := c.a.RTCPSession()
	c.a.SetRTCP(RTCPOptions{Remote: c.ra.addr(), Codec: "PCMA"})
	if c.a.RTCPSession() != first || c.a.Quality("a").Codec != "PCMA" || c.a.Quality("a").Received.Packets != 10 {
		t.Fatalf("same clock: session replaced or statistics lost: %+v", c.a.Quality("a"))
	}
	c.a.SetRTCP(RTCPOptions{Remote: c.ra.addr(), Codec: "opus", ClockRate: 48000})
	if c.a.RTCPSession() == first || c.a.RTCPSession().ClockRate() != 48000 {
		t.Fatal("new clock rate kept the old session")
	}
	if n := c.e.rtcp.queued(); n != 2 {
		t.Errorf("%d legs queued, want 2 (a's new one and b)", n)
	}
}

// queued returns (for tests) the number of legs waiting for a report.
func (c *rtcpClock) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.Len()
}

// TestRTCPEngineClose: Engine.Close stops the RTCP goroutine and the
// endpoints it closes still send their BYE. (An endpoint that never sent
// RTP or RTCP sends none: TestRTCPNoByeWithoutSending.)
func TestRTCPEngineClose(t *testing.T) {
	c := newRTCPCall(t, false)
	c.stream(t, 0x5EED0008, 5, nil)
	c.clk.Advance(3100 * time.Millisecond)
	recvRTCP(t, c.ra, isRR) // leg a sent RTCP, so it says BYE too (RFC 3550 §6.3.7)
	if err := c.e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.e.rtcp.done:
	default:
		t.Error("RTCP goroutine still running after Close")
	}
	recvRTCP(t, c.rb, isBye)
	recvRTCP(t, c.ra, isBye)
}

// TestRTCPNoByeWithoutSending: RFC 3550 §6.3.7 — a participant that never
// sent an RTP or RTCP packet must not send a BYE.
func TestRTCPNoByeWithoutSending(t *testing.T) {
	c := newRTCPCall(t, false)
	c.stream(t, 0x5EED0009, 5, nil) // leg a receives, sends nothing
	c.a.Close()
	if buf, ok := c.ra.recvWithin(300 * time.Millisecond); ok {
		t.Errorf("leg a sent %x", buf)
	}
}

// BenchmarkOnSend is the per-packet cost of the sender statistics on the
// send path (SSRC check, clock read, rtcpstats OnSend).
func BenchmarkOnSend(b *testing.B) {
	e := newTestEngine(b, netip.MustParseAddr("127.0.0.1"), 1, nil)
	ep := newTestEndpoint(b, e)
	ep.SetRTCP(RTCPOptions{Codec: "PCMU"})
	pkt := append(rtpPacket(0, 0, 0, 0x1234, false)[:12], make([]byte, 160)...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		ep.rtcpOnSend(pkt, int64(i)*int64(20*time.Millisecond))
		i++
	}
}
