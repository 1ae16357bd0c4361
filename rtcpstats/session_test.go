package rtcpstats

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/switchboard/switchboard/media/rtp"
)

const (
	ssrcA = 0xAAAA0001
	ssrcB = 0xBBBB0002
)

func newPair(xr bool) (a, b *Session) {
	a = NewSession(Config{SSRC: ssrcA, CNAME: "a@switchboard", ClockRate: 8000, Codec: "PCMU", XR: xr, MinSequential: 1})
	b = NewSession(Config{SSRC: ssrcB, CNAME: "b@switchboard", ClockRate: 8000, Codec: "PCMU", XR: xr, MinSequential: 1})
	return a, b
}

// sendRTP has a send n packets of 160 octets to b, 20 ms apart from start,
// skipping the sequence numbers in lose.
func sendRTP(a, b *Session, firstSeq uint16, n int, start time.Time, lose map[uint16]bool) {
	for i := range n {
		seq := firstSeq + uint16(i)
		ts := uint32(seq) * 160
		now := start.Add(time.Duration(i) * 20 * time.Millisecond)
		a.OnSend(ts, 160, now)
		if !lose[seq] {
			b.OnRTP(rtp.Header{SSRC: a.cfg.SSRC, Seq: seq, TS: ts}, 160, now.Add(5*time.Millisecond))
		}
	}
}

func marshal(t *testing.T, pkts rtcp.CompoundPacket) []byte {
	t.Helper()
	buf, err := pkts.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return buf
}

func TestSRRRRoundTripThroughPion(t *testing.T) {
	a, b := newPair(false)
	// a sends 10 packets (seq 0..9, 9 lost) starting at t0; b receives.
	sendRTP(a, b, 0, 10, t0, map[uint16]bool{4: true})

	// a's report at t0+200 ms: an SR (a sent), no report block (a received
	// nothing), SDES.
	srAt := at(200)
	buf := marshal(t, a.ReportPackets(srAt))
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := rtcp.CompoundPacket(pkts).Validate(); err != nil {
		t.Fatalf("not a valid compound packet: %v", err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("first packet %T, want SR", pkts[0])
	}
	// Last packet (seq 9, ts 1440) sent at 180 ms; the SR at 200 ms
	// extrapolates 20 ms = 160 units: RTP time 1600.
	if sr.SSRC != ssrcA || sr.NTPTime != NTPTime(srAt) || sr.RTPTime != 1600 ||
		sr.PacketCount != 10 || sr.OctetCount != 1600 || len(sr.Reports) != 0 {
		t.Errorf("SR = %+v", sr)
	}
	if cname, err := rtcp.CompoundPacket(pkts).CNAME(); err != nil || cname != "a@switchboard" {
		t.Errorf("CNAME = %q, %v", cname, err)
	}

	// b receives it at 210 ms and reports at 1460 ms: an RR (b sent
	// nothing) with a block about a: 9 of 10 received, LSR from the SR,
	// DLSR = 1.25 s = 0x14000.
	if err := b.HandleRTCP(buf, at(210)); err != nil {
		t.Fatal(err)
	}
	buf = marshal(t, b.ReportPackets(at(1460)))
	pkts, err = rtcp.Unmarshal(buf)
	if err != nil {
		t.Fatal(err)
	}
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok || len(rr.Reports) != 1 {
		t.Fatalf("first packet %#v, want an RR with one block", pkts[0])
	}
	blk := rr.Reports[0]
	// expected 10, received 9, lost 1, fraction (1<<8)/10 = 25.
	want := rtcp.ReceptionReport{
		SSRC: ssrcA, FractionLost: 25, TotalLost: 1, LastSequenceNumber: 9,
		Jitter: blk.Jitter, LastSenderReport: uint32(NTPTime(srAt) >> 16), Delay: 0x14000,
	}
	if blk != want {
		t.Errorf("report block = %+v, want %+v", blk, want)
	}
	if blk.Jitter != 0 {
		t.Errorf("jitter = %d, want 0 (constant transit)", blk.Jitter)
	}

	// a receives the RR at 1585 ms: RTT = A − LSR − DLSR
	//   = (200 ms + 1385 ms) − 200 ms − 1250 ms = 135 ms (to 1/65536 s).
	if err := a.HandleRTCP(buf, at(1585)); err != nil {
		t.Fatal(err)
	}
	rtt, ok := a.RTT()
	if !ok || rtt < 135*time.Millisecond-20*time.Microsecond || rtt > 135*time.Millisecond+20*time.Microsecond {
		t.Errorf("RTT = %v, %v; want 135 ms", rtt, ok)
	}
	snap := a.Snapshot()
	if snap.RemoteFractionLost != 25.0/256 || snap.RemotePacketsLost != 1 || snap.RemoteSSRC != ssrcB ||
		snap.RemoteCNAME != "b@switchboard" || snap.RTTSamples != 1 {
		t.Errorf("a's snapshot of b's view: %+v", snap)
	}
}

func TestRTTFixedNTP(t *testing.T) {
	// RFC 3550 §6.4.1 with exact binary fractions. t0 = …:05.5, so
	// NTP(t0) middle 32 bits = (seconds & 0xFFFF)<<16 | 0x8000.
	// DLSR 1.25 s = 0x0001_4000. Arrival A = t0 + 1.375 s:
	// A − LSR − DLSR = 1.375 − 1.25 = 0.125 s = 0x2000 → 125 ms exactly.
	lsr := uint32(NTPTime(t0) >> 16)
	if lsr&0xFFFF != 0x8000 {
		t.Fatalf("LSR fraction = %#x, want 0x8000", lsr&0xFFFF)
	}
	tests := []struct {
		name    string
		lsr     uint32
		dlsr    uint32
		arrival time.Time
		want    time.Duration
		ok      bool
	}{
		{"exact", lsr, 0x00014000, at(1375), 125 * time.Millisecond, true},
		{"zero DLSR", lsr, 0, at(40), 0x0A3D * time.Second / 65536, true}, // 40 ms → ⌊0.04·65536⌋ = 2621 = 0x0A3D units
		{"no SR echoed", 0, 0x10000, at(2000), 0, false},
		{"negative", lsr, 0x00020000, at(1000), 0, false},
	}
	for _, tc := range tests {
		got, ok := RTTFromReport(rtcp.ReceptionReport{LastSenderReport: tc.lsr, Delay: tc.dlsr}, tc.arrival)
		if ok != tc.ok || (ok && (got-tc.want > time.Microsecond || tc.want-got > time.Microsecond)) {
			t.Errorf("%s: RTT = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNTPConversion(t *testing.T) {
	// 1970-01-01 is 2208988800 s after 1900-01-01 (RFC 5905).
	if got := NTPTime(time.Unix(0, 0)); got != 2208988800<<32 {
		t.Errorf("NTP(unix 0) = %#x", got)
	}
	if got := NTPTime(time.Unix(1, 250_000_000)); got != (2208988801<<32 | 0x40000000) {
		t.Errorf("NTP(unix 1.25) = %#x", got)
	}
	if back := NTPToTime(NTPTime(t0)); !back.Equal(t0) {
		t.Errorf("round trip %v != %v", back, t0)
	}
	for _, d := range []time.Duration{0, time.Second, 1250 * time.Millisecond, 5*time.Second + 15259*time.Nanosecond} {
		if got := fromNTPShort(toNTPShort(d)); d-got > 16*time.Microsecond || got > d {
			t.Errorf("short round trip %v → %v", d, got)
		}
	}
	if toNTPShort(-time.Second) != 0 || toNTPShort(100000*time.Hour) != 0xFFFFFFFF {
		t.Error("toNTPShort does not clamp")
	}
}

func TestXRRoundTripsAllBlocks(t *testing.T) {
	now := at(5000)
	// BT=4 RRTR and BT=5 DLRR.
	rrtr := RRTRBlock(now)
	dlrr := &rtcp.DLRRReportBlock{Reports: []rtcp.DLRRReport{DLRRFor(ssrcB, NTPTime(t0), at(100), at(600))}}
	// BT=6 from a receiver interval.
	r := NewReceiver(ReceiverConfig{SSRC: ssrcB, ClockRate: 8000, MinSequential: 1})
	feed(r, []pkt{{1, 0, 0}, {2, 160, 21}, {4, 480, 60}, {5, 640, 80}})
	ir, _ := r.Report(now)
	summary := ir.Summary
	// BT=7 with values exact at field resolution.
	voip := VoIPMetrics{
		SSRC: ssrcB, LossRate: 3.0 / 256, DiscardRate: 1.0 / 256, BurstDensity: 128.0 / 256, GapDensity: 2.0 / 256,
		BurstDuration: 60 * time.Millisecond, GapDuration: 4100 * time.Millisecond,
		RoundTripDelay: 135 * time.Millisecond, EndSystemDelay: 60 * time.Millisecond,
		SignalLevel: -20, NoiseLevel: -60, RERL: XRUnavailable, Gmin: 16,
		RFactor: 86, ExtRFactor: XRUnavailable, MOSLQ: 4.3, MOSCQ: 4.2,
		PLC: PLCStandard, JBA: JBAdaptive, JBRate: 5,
		JBNominal: 40 * time.Millisecond, JBMaximum: 80 * time.Millisecond, JBAbsMax: 200 * time.Millisecond,
	}
	xr := &rtcp.ExtendedReport{SenderSSRC: ssrcA, Reports: []rtcp.ReportBlock{rrtr, dlrr, &summary, voip.Block()}}
	buf, err := xr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := pkts[0].(*rtcp.ExtendedReport)
	if len(got.Reports) != 4 {
		t.Fatalf("%d blocks", len(got.Reports))
	}
	t.Run("RRTR", func(t *testing.T) {
		b, ok := got.Reports[0].(*rtcp.ReceiverReferenceTimeReportBlock)
		if !ok || b.NTPTimestamp != NTPTime(now) {
			t.Errorf("RRTR %#v", got.Reports[0])
		}
	})
	t.Run("DLRR", func(t *testing.T) {
		b, ok := got.Reports[1].(*rtcp.DLRRReportBlock)
		// LRR = middle(NTP(t0)); DLRR = 500 ms = 0x8000.
		want := rtcp.DLRRReport{SSRC: ssrcB, LastRR: uint32(NTPTime(t0) >> 16), DLRR: 0x8000}
		if !ok || len(b.Reports) != 1 || b.Reports[0] != want {
			t.Errorf("DLRR %#v, want %+v", got.Reports[1], want)
		}
	})
	t.Run("StatisticsSummary", func(t *testing.T) {
		b, ok := got.Reports[2].(*rtcp.StatisticsSummaryReportBlock)
		if !ok {
			t.Fatalf("%T", got.Reports[2])
		}
		// Seq 1, 2, 4, 5: begin 1, end 6, lost 1. Arrival units 0, 168,
		// 480, 640 vs ts 0, 160, 480, 640: |D| = 8, 8, 0 → min 0, max 8,
		// mean 16/3 = 5.33 → 5, dev √(128/3 − 28.44) = 3.77 → 4.
		w := summary
		w.XRHeader = b.XRHeader
		if *b != w || b.BeginSeq != 1 || b.EndSeq != 6 || b.LostPackets != 1 ||
			b.MinJitter != 0 || b.MaxJitter != 8 || b.MeanJitter != 5 || b.DevJitter != 4 ||
			!b.LossReports || !b.DuplicateReports || !b.JitterReports {
			t.Errorf("summary %+v, built %+v", *b, summary)
		}
	})
	t.Run("VoIPMetrics", func(t *testing.T) {
		b, ok := got.Reports[3].(*rtcp.VoIPMetricsReportBlock)
		if !ok {
			t.Fatalf("%T", got.Reports[3])
		}
		if back := VoIPMetricsFromBlock(b); back != voip {
			t.Errorf("round trip\n got %+v\nwant %+v", back, voip)
		}
		// RX config: PLC 11, JBA 11, rate 0101 → 0xF5.
		if b.RXConfig != 0xF5 || b.MOSLQ != 43 || b.MOSCQ != 42 || b.SignalLevel != 0xEC {
			t.Errorf("fields: rx %#x mos %d/%d signal %#x", b.RXConfig, b.MOSLQ, b.MOSCQ, b.SignalLevel)
		}
	})
}

func TestVoIPMetricsFieldEncoding(t *testing.T) {
	// Saturation and "unavailable" per RFC 3611 §4.7.
	b := VoIPMetrics{LossRate: 1, BurstDuration: time.Hour, MOSCQ: 0, MOSLQ: 0.5}.Block()
	if b.LossRate != 255 || b.BurstDuration != 0xFFFF || b.MOSCQ != XRUnavailable || b.MOSLQ != 10 {
		t.Errorf("encoded %+v", b)
	}
	if m := VoIPMetricsFromBlock(&rtcp.VoIPMetricsReportBlock{MOSCQ: XRUnavailable}); m.MOSCQ != 0 {
		t.Errorf("unavailable MOS decoded as %v", m.MOSCQ)
	}
}

func TestRTTViaRRTRForReceiveOnly(t *testing.T) {
	// a only receives (sends no RTP); b sends. a's reports carry an RRTR;
	// b answers with DLRR; a gets its RTT (RFC 3611 §4.4–4.5).
	a, b := newPair(true)
	sendRTP(b, a, 100, 20, t0, nil)

	// a reports at 1000 ms: RR + SDES + XR{RRTR, Stats Summary, VoIP}.
	buf := marshal(t, a.ReportPackets(at(1000)))
	pkts, _ := rtcp.Unmarshal(buf)
	if _, ok := pkts[0].(*rtcp.ReceiverReport); !ok {
		t.Fatalf("receive-only endpoint sent %T", pkts[0])
	}
	xr, ok := pkts[2].(*rtcp.ExtendedReport)
	if !ok {
		t.Fatalf("third packet %T, want XR", pkts[2])
	}
	var kinds []rtcp.BlockTypeType
	for _, blk := range xr.Reports {
		switch blk.(type) {
		case *rtcp.ReceiverReferenceTimeReportBlock:
			kinds = append(kinds, rtcp.ReceiverReferenceTimeReportBlockType)
		case *rtcp.StatisticsSummaryReportBlock:
			kinds = append(kinds, rtcp.StatisticsSummaryReportBlockType)
		case *rtcp.VoIPMetricsReportBlock:
			kinds = append(kinds, rtcp.VoIPMetricsReportBlockType)
		}
	}
	if len(kinds) != 3 || kinds[0] != rtcp.ReceiverReferenceTimeReportBlockType {
		t.Errorf("XR blocks %v, want RRTR, summary, VoIP metrics", kinds)
	}

	// b receives at 1040 ms and reports at 1540 ms: SR + SDES + XR{DLRR}
	// with DLRR = 500 ms.
	if err := b.HandleRTCP(buf, at(1040)); err != nil {
		t.Fatal(err)
	}
	buf = marshal(t, b.ReportPackets(at(1540)))
	pkts, _ = rtcp.Unmarshal(buf)
	if _, ok := pkts[0].(*rtcp.SenderReport); !ok {
		t.Fatalf("sender sent %T", pkts[0])
	}
	// a receives at 1590 ms: RTT = 1590 − 1000 − 500 = 90 ms.
	if err := a.HandleRTCP(buf, at(1590)); err != nil {
		t.Fatal(err)
	}
	rtt, ok := a.RTT()
	if !ok || rtt < 90*time.Millisecond-20*time.Microsecond || rtt > 90*time.Millisecond+20*time.Microsecond {
		t.Errorf("RTT via DLRR = %v, %v; want 90 ms", rtt, ok)
	}

	// b got a's VoIP metrics about b's stream: no loss, R on the report.
	snap := b.Snapshot()
	if snap.RemoteRFactor < 80 || snap.RemoteMOS < 4 {
		t.Errorf("b's view of a's VoIP metrics: R %v MOS %v", snap.RemoteRFactor, snap.RemoteMOS)
	}
}

func TestSRDecisionAndBye(t *testing.T) {
	a, b := newPair(false)
	if _, ok := a.ReportPackets(t0)[0].(*rtcp.ReceiverReport); !ok {
		t.Error("idle session sent an SR")
	}
	sendRTP(a, b, 0, 3, t0, nil)
	if _, ok := a.ReportPackets(at(100))[0].(*rtcp.SenderReport); !ok {
		t.Error("sending session did not send an SR")
	}
	// RFC 3550 §6.4: still a sender in the next report (sent since the
	// report before last), no longer in the one after.
	if _, ok := a.ReportPackets(at(200))[0].(*rtcp.SenderReport); !ok {
		t.Error("SR dropped one report too early")
	}
	if _, ok := a.ReportPackets(at(300))[0].(*rtcp.ReceiverReport); !ok {
		t.Error("SR kept after two silent intervals")
	}

	pkts := a.ByePackets(at(400), "call ended")
	bye, ok := pkts[len(pkts)-1].(*rtcp.Goodbye)
	if !ok || len(bye.Sources) != 1 || bye.Sources[0] != ssrcA || bye.Reason != "call ended" {
		t.Fatalf("last packet %#v", pkts[len(pkts)-1])
	}
	buf, err := a.AppendBye(nil, at(400), "call ended")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.HandleRTCP(buf, at(410)); err != nil {
		t.Fatal(err)
	}
	if s := b.Snapshot(); !s.ByeReceived || s.ByeReason != "call ended" {
		t.Errorf("BYE not recorded: %+v", s)
	}
}

func TestSnapshotQuality(t *testing.T) {
	// 500 packets with every 100th lost (1 % random loss), G.711 with PLC;
	// RTT 100 ms and end-system delay 100 ms: one-way 150 ms — the E-model
	// worked example: R ≈ 85.9, MOS ≈ 4.23.
	a, b := newPair(false)
	b.SetPlayout(Playout{EndSystemDelay: 100 * time.Millisecond})
	lose := map[uint16]bool{}
	for s := 50; s < 500; s += 100 {
		lose[uint16(s)] = true
	}
	sendRTP(a, b, 0, 500, t0, lose)
	b.mu.Lock()
	b.recordRTT(100 * time.Millisecond)
	b.mu.Unlock()
	s := b.Snapshot()
	if s.PacketsReceived != 495 || s.PacketsExpected != 500 || s.PacketsLost != 5 || s.LossRate != 0.01 {
		t.Fatalf("counts %+v", s)
	}
	if s.OneWayDelayMs != 150 || s.RFactor < 85 || s.RFactor > 88 || s.MOS < 4.1 || s.MOS > 4.3 {
		t.Errorf("one-way %v R %v MOS %v, want 150 / 85–88 / 4.1–4.3", s.OneWayDelayMs, s.RFactor, s.MOS)
	}
	if s.MOSLQ <= s.MOS {
		t.Errorf("listening MOS %v not above conversational %v", s.MOSLQ, s.MOS)
	}
	if s.PacketsSent != 0 || s.Codec != "PCMU" || s.GapDensity != 0.01 || s.Bursts != 0 {
		t.Errorf("snapshot %+v", s)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"packets_received", "octets_received", "packets_lost", "fraction_lost", "jitter_ms",
		"rtt_ms", "burst_density", "gap_density", "burst_duration_ms", "gap_duration_ms", "r_factor", "mos", "codec"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}

	// No media yet: no rating.
	if s := NewSession(Config{Codec: "PCMU"}).Snapshot(); s.RFactor != 0 || s.MOS != 0 {
		t.Errorf("rating without media: %+v", s)
	}
}

func TestConcurrentUpdateAndSnapshot(t *testing.T) {
	// One writer (the socket reader), one RTCP ticker, one snapshot reader;
	// run with -race.
	a, b := newPair(true)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		sendRTP(a, b, 0, 2000, t0, map[uint16]bool{7: true})
	}()
	go func() {
		defer wg.Done()
		for i := range 200 {
			if _, err := b.AppendReport(nil, at(float64(i))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 200 {
			_ = b.Snapshot()
		}
	}()
	wg.Wait()
	if s := b.Snapshot(); s.PacketsReceived != 1999 || s.PacketsLost != 1 {
		t.Errorf("after concurrent run: received %d lost %d", s.PacketsReceived, s.PacketsLost)
	}
}

func TestHandleRTCPErrors(t *testing.T) {
	s := NewSession(Config{SSRC: 1})
	for _, in := range [][]byte{nil, {0x80}, {0x80, 200, 0, 10, 0, 0, 0, 0}} {
		if err := s.HandleRTCP(in, t0); err == nil {
			t.Errorf("HandleRTCP(%x) accepted", in)
		}
	}
}
