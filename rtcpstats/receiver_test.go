package rtcpstats

import (
	"math"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// t0 is a fixed wall-clock origin with a sub-second part of exactly 0.5 s,
// so its NTP fraction is exactly 0x80000000.
var t0 = time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC)

func at(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }

type pkt struct {
	seq uint16
	ts  uint32
	ms  float64 // arrival, ms after t0
}

func feed(r *Receiver, pkts []pkt) {
	for _, p := range pkts {
		r.Update(p.seq, p.ts, at(p.ms))
	}
}

func TestReceiverJitterTrace(t *testing.T) {
	// RFC 3550 A.8 by hand, 8 kHz clock (1 ms = 8 units), 20 ms packets
	// (160 units). Arrival in units R = ms·8, transit = R − S,
	// D = transit_i − transit_{i−1}, J += (|D| − J)/16.
	//
	//  seq  S     arrival  R    transit  |D|  J
	//  100  1000    0 ms     0   −1000    -   0
	//  101  1160   20 ms   160   −1000    0   0
	//  102  1320   45 ms   360    −960   40   0 + (40−0)/16            = 2.5
	//  103  1480   60 ms   480   −1000   40   2.5 + (40−2.5)/16        = 4.84375
	//  104  1640   80 ms   640   −1000    0   4.84375 − 4.84375/16     = 4.541015625
	//  105  1800  110 ms   880    −920   80   4.541015625 + 75.458984375/16 = 9.2572021484375
	//
	// Report field: ⌊9.2572⌋ = 9; in ms: 9.2572021484375/8 = 1.1571502685546875.
	// RFC 3611 §4.6 over |D| = {0, 40, 40, 0, 80}: min 0, max 80,
	// mean 160/5 = 32, dev √(9600/5 − 32²) = √896 = 29.93 → 30.
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	feed(r, []pkt{
		{100, 1000, 0}, {101, 1160, 20}, {102, 1320, 45},
		{103, 1480, 60}, {104, 1640, 80}, {105, 1800, 110},
	})
	st := r.Stats()
	if math.Abs(st.Jitter-9.2572021484375) > 1e-9 {
		t.Errorf("jitter = %v units, want 9.2572021484375", st.Jitter)
	}
	if want := 1157150 * time.Nanosecond; st.JitterDuration != want { // 1.15715026… ms, truncated
		t.Errorf("jitter = %v, want %v", st.JitterDuration, want)
	}
	if st.PacketDuration != 20*time.Millisecond {
		t.Errorf("packet duration = %v, want 20ms (160 units at 8 kHz)", st.PacketDuration)
	}
	rep, ok := r.Report(at(120))
	if !ok {
		t.Fatal("no report from a valid source")
	}
	if rep.Block.Jitter != 9 {
		t.Errorf("report jitter = %d, want 9", rep.Block.Jitter)
	}
	s := rep.Summary
	if s.MinJitter != 0 || s.MaxJitter != 80 || s.MeanJitter != 32 || s.DevJitter != 30 {
		t.Errorf("summary jitter min/max/mean/dev = %d/%d/%d/%d, want 0/80/32/30",
			s.MinJitter, s.MaxJitter, s.MeanJitter, s.DevJitter)
	}
}

func TestReceiverJitterTimestampWrap(t *testing.T) {
	// The same constant transit across an RTP timestamp wrap gives D = 0.
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	feed(r, []pkt{{1, 0xFFFFFF60, 0}, {2, 0x00000000, 20}, {3, 0x000000A0, 40}})
	if j := r.Stats().Jitter; j != 0 {
		t.Errorf("jitter across timestamp wrap = %v, want 0", j)
	}
}

func TestReceiverLossTrace(t *testing.T) {
	// RFC 3550 A.1/A.3 by hand, default probation (MIN_SEQUENTIAL = 2):
	//
	//  seq 10: new source, max_seq = 9, probation 2 → seq == max+1,
	//          probation 1, not counted
	//  seq 11: seq == max+1, probation 0 → init_seq(11): base 11, received 1
	//  seq 12, 14, 15, 18: received 2, 3, 4, 5 (13, 16, 17 missing)
	//  report 1: extended max 18, expected = 18 − 11 + 1 = 8, lost = 8 − 5 = 3,
	//            expected_interval 8, received_interval 5, lost_interval 3,
	//            fraction = (3 << 8)/8 = 96
	//            (RFC 3611 §4.6: begin_seq 11, end_seq 19, lost 3)
	//  seq 19, 21: received 6, 7 (20 missing)
	//  report 2: expected = 21 − 11 + 1 = 11, lost = 4,
	//            expected_interval 3, received_interval 2, lost_interval 1,
	//            fraction = (1 << 8)/3 = 85; begin 19, end 22, lost 1
	r := NewReceiver(ReceiverConfig{ClockRate: 8000})
	feed(r, []pkt{{10, 0, 0}})
	if _, ok := r.Report(at(1)); ok {
		t.Fatal("report from a source in probation")
	}
	feed(r, []pkt{{11, 160, 20}, {12, 320, 40}, {14, 640, 80}, {15, 800, 100}, {18, 1280, 160}})

	type want struct {
		fraction        uint8
		totalLost       uint32
		extMax          uint32
		begin, end      uint16
		ivlLost         uint32
		expected        uint64
		received        uint64
		cumulativeLost  int64
		statsFractionFn float64
	}
	check := func(name string, w want) {
		t.Helper()
		rep, ok := r.Report(at(200))
		if !ok {
			t.Fatalf("%s: no report", name)
		}
		b := rep.Block
		if b.FractionLost != w.fraction || b.TotalLost != w.totalLost || b.LastSequenceNumber != w.extMax {
			t.Errorf("%s: fraction/lost/extmax = %d/%d/%d, want %d/%d/%d", name,
				b.FractionLost, b.TotalLost, b.LastSequenceNumber, w.fraction, w.totalLost, w.extMax)
		}
		s := rep.Summary
		if s.BeginSeq != w.begin || s.EndSeq != w.end || s.LostPackets != w.ivlLost || s.DupPackets != 0 {
			t.Errorf("%s: summary begin/end/lost/dup = %d/%d/%d/%d, want %d/%d/%d/0", name,
				s.BeginSeq, s.EndSeq, s.LostPackets, s.DupPackets, w.begin, w.end, w.ivlLost)
		}
		st := r.Stats()
		if st.PacketsExpected != w.expected || st.PacketsReceived != w.received || st.PacketsLost != w.cumulativeLost {
			t.Errorf("%s: stats expected/received/lost = %d/%d/%d, want %d/%d/%d", name,
				st.PacketsExpected, st.PacketsReceived, st.PacketsLost, w.expected, w.received, w.cumulativeLost)
		}
		if st.FractionLost != w.statsFractionFn {
			t.Errorf("%s: stats fraction = %v, want %v", name, st.FractionLost, w.statsFractionFn)
		}
	}
	check("report 1", want{96, 3, 18, 11, 19, 3, 8, 5, 3, 96.0 / 256})
	feed(r, []pkt{{19, 1440, 180}, {21, 1760, 220}})
	check("report 2", want{85, 4, 21, 19, 22, 1, 11, 7, 4, 85.0 / 256})
}

func TestReceiverSequenceWrap(t *testing.T) {
	tests := []struct {
		name     string
		seqs     []uint16
		extMax   uint32
		expected uint64
		lost     int64
		dups     uint64
	}{
		// 65534, 65535, 0, 1: cycles += 65536 at 0; ext max = 65536 + 1;
		// expected = 65537 − 65534 + 1 = 4, lost 0.
		{"no loss", []uint16{65534, 65535, 0, 1}, 65537, 4, 0, 0},
		// 0 is missing across the wrap: expected 4, received 3, lost 1.
		{"loss at wrap", []uint16{65534, 65535, 1}, 65537, 4, 1, 0},
		// 0 arrives after 1: udelta = 0 − 1 = 65535 > 65536 − MAX_MISORDER,
		// a reordered packet, counted: lost 0.
		{"late across wrap", []uint16{65534, 65535, 1, 0}, 65537, 4, 0, 0},
		// 0 again is a duplicate, still counted by A.3: lost −1.
		{"duplicate across wrap", []uint16{65534, 65535, 1, 0, 0}, 65537, 4, -1, 1},
		// Two full cycles: 65535 → 0 twice.
		{"two wraps", append(seqRange(65530, 65535), append(seqRange(0, 65535), seqRange(0, 2)...)...), 2*65536 + 2, 2*65536 + 2 - 65530 + 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
			for i, s := range tc.seqs {
				r.Update(s, uint32(i)*160, at(float64(i)*20))
			}
			st := r.Stats()
			if st.ExtendedHighestSeq != tc.extMax || st.PacketsExpected != tc.expected ||
				st.PacketsLost != tc.lost || st.Duplicates != tc.dups {
				t.Errorf("extmax/expected/lost/dups = %d/%d/%d/%d, want %d/%d/%d/%d",
					st.ExtendedHighestSeq, st.PacketsExpected, st.PacketsLost, st.Duplicates,
					tc.extMax, tc.expected, tc.lost, tc.dups)
			}
		})
	}
}

func seqRange(from, to int) []uint16 {
	out := make([]uint16, 0, to-from+1)
	for s := from; s <= to; s++ {
		out = append(out, uint16(s))
	}
	return out
}

func TestReceiverProbation(t *testing.T) {
	tests := []struct {
		name          string
		minSeq        int
		seqs          []uint16
		valid         bool
		received      uint64
		expected      uint64
		lost          int64
		extMax        uint32
		probationDone int // index of the packet after which the source is valid, -1 never
	}{
		// MIN_SEQUENTIAL 2: the first packet only primes probation.
		{"two in sequence", 2, []uint16{10, 11}, true, 1, 1, 0, 11, 1},
		// 20 breaks the sequence: probation restarts at MIN_SEQUENTIAL−1 with
		// max_seq 20, so 21 validates the source (base 21).
		{"restart of probation", 2, []uint16{10, 20, 21, 22}, true, 2, 2, 0, 22, 2},
		{"never sequential", 2, []uint16{10, 20, 30, 40}, false, 0, 0, 0, 40, -1},
		// MIN_SEQUENTIAL 3 needs three in a row; the first is not counted.
		{"three", 3, []uint16{5, 6, 7, 8}, true, 2, 2, 0, 8, 2},
		// MIN_SEQUENTIAL 1 accepts the first packet.
		{"none", 1, []uint16{5}, true, 1, 1, 0, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: tc.minSeq})
			for i, s := range tc.seqs {
				r.Update(s, uint32(i)*160, at(float64(i)*20))
				if got := r.Stats().Valid; got != (tc.probationDone >= 0 && i >= tc.probationDone) {
					t.Errorf("after packet %d (seq %d): valid = %v", i, s, got)
				}
			}
			st := r.Stats()
			if st.Valid != tc.valid || st.PacketsReceived != tc.received || st.PacketsExpected != tc.expected ||
				st.PacketsLost != tc.lost || st.ExtendedHighestSeq != tc.extMax {
				t.Errorf("valid/received/expected/lost/extmax = %v/%d/%d/%d/%d, want %v/%d/%d/%d/%d",
					st.Valid, st.PacketsReceived, st.PacketsExpected, st.PacketsLost, st.ExtendedHighestSeq,
					tc.valid, tc.received, tc.expected, tc.lost, tc.extMax)
			}
		})
	}
}

func TestReceiverLargeJump(t *testing.T) {
	// RFC 3550 A.1: one packet far away (udelta ≥ MAX_DROPOUT) is dropped
	// and remembered in bad_seq; a second in sequence with it resyncs.
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	feed(r, []pkt{{100, 0, 0}, {101, 160, 20}, {9000, 320, 40}, {102, 480, 60}})
	st := r.Stats()
	if st.PacketsReceived != 3 || st.PacketsLost != 0 || st.ExtendedHighestSeq != 102 {
		t.Fatalf("stray jump counted: received %d lost %d extmax %d", st.PacketsReceived, st.PacketsLost, st.ExtendedHighestSeq)
	}
	// 5000 then 5001: the sender restarted. The old source's three packets
	// (100..102, none lost) fold into the totals; the new sequence starts at
	// 5001 with one packet received.
	feed(r, []pkt{{5000, 640, 80}, {5001, 800, 100}, {5003, 1120, 140}})
	st = r.Stats()
	if st.PacketsReceived != 5 || st.PacketsExpected != 3+3 || st.PacketsLost != 1 || st.ExtendedHighestSeq != 5003 {
		t.Errorf("after restart: received %d expected %d lost %d extmax %d, want 5/6/1/5003",
			st.PacketsReceived, st.PacketsExpected, st.PacketsLost, st.ExtendedHighestSeq)
	}
	rep, _ := r.Report(at(200))
	if rep.Block.TotalLost != 1 || rep.Block.LastSequenceNumber != 5003 {
		t.Errorf("report after restart: lost %d extmax %d, want 1/5003", rep.Block.TotalLost, rep.Block.LastSequenceNumber)
	}
}

func TestReceiverSSRCChange(t *testing.T) {
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	for i, s := range []uint16{1, 2, 4} { // 3 lost
		r.Receive(rtp.Header{SSRC: 0xAAAA, Seq: s, TS: uint32(i) * 160}, 160, at(float64(i)*20))
	}
	for i, s := range []uint16{500, 501} {
		r.Receive(rtp.Header{SSRC: 0xBBBB, Seq: s, TS: 9000 + uint32(i)*160}, 160, at(100+float64(i)*20))
	}
	st := r.Stats()
	if st.SSRC != 0xBBBB || st.PacketsReceived != 5 || st.OctetsReceived != 800 ||
		st.PacketsExpected != 4+2 || st.PacketsLost != 1 {
		t.Errorf("ssrc %x received %d octets %d expected %d lost %d, want bbbb/5/800/6/1",
			st.SSRC, st.PacketsReceived, st.OctetsReceived, st.PacketsExpected, st.PacketsLost)
	}
	rep, ok := r.Report(at(200))
	if !ok || rep.Block.SSRC != 0xBBBB || rep.Block.TotalLost != 0 || rep.Block.LastSequenceNumber != 501 {
		t.Errorf("report block %+v, want the new source with no loss", rep.Block)
	}
}

func TestReceiverLSRDLSR(t *testing.T) {
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	r.Receive(rtp.Header{SSRC: 7, Seq: 1}, 160, t0)
	// An SR from another SSRC is ignored; the one from the source is kept.
	r.SenderReport(8, NTPTime(t0), t0)
	if rep, _ := r.Report(at(10)); rep.Block.LastSenderReport != 0 || rep.Block.Delay != 0 {
		t.Errorf("LSR from a foreign SSRC used: %+v", rep.Block)
	}
	r.SenderReport(7, NTPTime(t0), at(100))
	// LSR = middle 32 bits of NTP(t0); DLSR = 1.25 s = 0x0001_4000.
	rep, _ := r.Report(at(1350))
	if want := uint32(NTPTime(t0) >> 16); rep.Block.LastSenderReport != want {
		t.Errorf("LSR = %#x, want %#x", rep.Block.LastSenderReport, want)
	}
	if rep.Block.Delay != 0x00014000 {
		t.Errorf("DLSR = %#x, want 0x14000", rep.Block.Delay)
	}
}

func TestReceiverDuplicateAndLate(t *testing.T) {
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	// 1 2 4 3 3 2 5: 3 is late (not a duplicate), then 3 and 2 duplicates.
	feed(r, []pkt{{1, 0, 0}, {2, 160, 20}, {4, 480, 60}, {3, 320, 61}, {3, 320, 62}, {2, 160, 63}, {5, 640, 80}})
	st := r.Stats()
	if st.Duplicates != 2 || st.PacketsReceived != 7 || st.PacketsLost != -2 {
		t.Errorf("dups %d received %d lost %d, want 2/7/-2", st.Duplicates, st.PacketsReceived, st.PacketsLost)
	}
	rep, _ := r.Report(at(100))
	// RFC 3611 §4.6 lost excludes duplicates: expected 5 − (7 − 2) = 0.
	if rep.Summary.DupPackets != 2 || rep.Summary.LostPackets != 0 {
		t.Errorf("summary dup %d lost %d, want 2/0", rep.Summary.DupPackets, rep.Summary.LostPackets)
	}
	// A.3's negative cumulative loss encodes as 24-bit two's complement.
	if rep.Block.TotalLost != 0xFFFFFE || signed24(rep.Block.TotalLost) != -2 {
		t.Errorf("total lost field %#x, want 0xfffffe", rep.Block.TotalLost)
	}
}

func TestReceiverDiscard(t *testing.T) {
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1, Gmin: 16})
	for i := range 20 {
		r.Update(uint16(i), uint32(i)*160, at(float64(i)*20))
	}
	r.Discard()
	st := r.Stats()
	if st.Discarded != 1 {
		t.Fatalf("discarded = %d", st.Discarded)
	}
	// 19 received then one discard: a single isolated discard is a gap
	// loss; gap = 20 packets, 1 lost → density 1/20.
	if st.Burst.Bursts != 0 || st.Burst.GapDensity != 1.0/20 {
		t.Errorf("burst metrics after discard: %+v", st.Burst)
	}
}
