package rtcpstats

import (
	"math"
	"testing"
	"time"
)

// runPattern feeds a burst tracker one event per character: '1' received,
// '0' lost, 'X' discarded (a loss event for the burst/gap model).
func runPattern(t *testing.T, pattern string, gmin int) *burstTracker {
	t.Helper()
	b := newBurstTracker(gmin)
	for _, c := range pattern {
		switch c {
		case '1':
			b.received()
		case '0', 'X':
			b.lost(1)
		default:
			t.Fatalf("bad pattern symbol %q", c)
		}
	}
	return &b
}

func TestBurstGapRFC3611Example(t *testing.T) {
	// RFC 3611 §4.7.2's example, Gmin = 16, 10 ms packets:
	// packets 1–4 received, 5 lost, 6–23 received, 24 discarded, 25–27
	// received, 28 discarded, 29 received, 30 lost, 31–34 received, 35
	// lost, 36–53 received, 54 discarded, 55–64 received.
	const pattern = "11110111111111111111111X111X1011110111111111111111111X1111111111"
	if len(pattern) != 64 {
		t.Fatalf("pattern has %d packets", len(pattern))
	}
	// The burst runs from packet 24 to 35 (12 packets, 4 lost/discarded):
	// every received run inside it is shorter than 16, and 18 received
	// packets follow 35. Packets 5 and 54 are isolated losses in the gaps.
	// Gaps: 1–23 (23 packets, 1 loss) and 36–64 (29 packets, 1 discard).
	//   burst density = 4/12, gap density = 2/52,
	//   burst duration = 12·10 ms = 120 ms, gap duration = 52·10 ms/2 = 260 ms.
	m := runPattern(t, pattern, 16).metrics(10 * time.Millisecond)
	if m.Bursts != 1 || m.BurstDensity != 4.0/12 || m.GapDensity != 2.0/52 ||
		m.BurstDuration != 120*time.Millisecond || m.GapDuration != 260*time.Millisecond {
		t.Errorf("metrics = %+v", m)
	}
	// As VoIP Metrics fields (256ths, integer part): 256·4/12 = 85.3 → 85,
	// 256·2/52 = 9.8 → 9.
	if got := rate256(m.BurstDensity); got != 85 {
		t.Errorf("burst density field = %d, want 85", got)
	}
	if got := rate256(m.GapDensity); got != 9 {
		t.Errorf("gap density field = %d, want 9", got)
	}
}

func TestBurstGapTable(t *testing.T) {
	const m = 20 * time.Millisecond
	tests := []struct {
		name         string
		pattern      string
		gmin         int
		bursts       uint64
		burstDensity float64
		gapDensity   float64
		burstDur     time.Duration
		gapDur       time.Duration
	}{
		// No loss: one gap of the whole stream (10 packets · 20 ms).
		{"clean", "1111111111", 16, 0, 0, 0, 0, 200 * time.Millisecond},
		// One isolated loss: a gap loss, not a burst. Gap 6 packets, 1 loss.
		{"isolated", "111011", 2, 0, 0, 1.0 / 6, 0, 120 * time.Millisecond},
		// Loss at the very start: the session is taken to be preceded by
		// Gmin received packets, so "00" opens a burst of 2.
		// Burst 2/2; gap 3 packets, 0 lost; gap duration 3·20/2 = 30 ms.
		{"burst at start", "00111", 2, 1, 1, 0, 40 * time.Millisecond, 30 * time.Millisecond},
		// Gmin 2, "1 0 1 0 0 0 1 1 1": the cluster opens at packet 2; the
		// single received packet 3 (a run of 1 < 2) and losses 4–6 extend
		// it, so the burst is packets 2–6: 5 packets, 4 lost. Gap: packet 1
		// and 7–9 = 4 packets, none lost, over 2 gaps.
		{"received inside burst", "101000111", 2, 1, 4.0 / 5, 0, 5 * m, 4 * m / 2},
		// Trailing open cluster with ≥ 2 losses counts as a burst at report
		// time (the report is assumed followed by Gmin received).
		{"open burst", "1111100", 3, 1, 1, 0, 2 * m, 5 * m / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runPattern(t, tc.pattern, tc.gmin).metrics(m)
			if got.Bursts != tc.bursts || math.Abs(got.BurstDensity-tc.burstDensity) > 1e-12 ||
				math.Abs(got.GapDensity-tc.gapDensity) > 1e-12 ||
				got.BurstDuration != tc.burstDur || got.GapDuration != tc.gapDur {
				t.Errorf("got %+v, want bursts %d density %v/%v durations %v/%v", got,
					tc.bursts, tc.burstDensity, tc.gapDensity, tc.burstDur, tc.gapDur)
			}
		})
	}
}

func TestBurstRFromReceiver(t *testing.T) {
	// Through the Receiver: 20 received (seq 0–19), 3 lost (20–22), 20
	// received (23–42), 1 lost (43), 20 received (44–63); Gmin 16, 20 ms.
	// Burst: 20–22 (3 packets, all lost). Gap: 20 + 20 + 1 + 20 = 61
	// packets with 1 loss; gap duration 61·20 ms/2 = 610 ms.
	// Two-state model: 60 receive events, 4 loss events, 2 received→lost
	// and 2 lost→received transitions: p = 2/60, q = 2/4,
	// BurstR = 1/(p+q) = 1/(1/30 + 1/2) = 30/16 = 1.875.
	r := NewReceiver(ReceiverConfig{ClockRate: 8000, MinSequential: 1})
	for s := range 64 {
		if (s >= 20 && s <= 22) || s == 43 {
			continue
		}
		r.Update(uint16(s), uint32(s)*160, at(float64(s)*20))
	}
	m := r.Stats().Burst
	if m.Bursts != 1 || m.BurstDensity != 1 || m.GapDensity != 1.0/61 ||
		m.BurstDuration != 60*time.Millisecond || m.GapDuration != 610*time.Millisecond {
		t.Errorf("metrics = %+v", m)
	}
	if math.Abs(m.BurstR-1.875) > 1e-12 {
		t.Errorf("BurstR = %v, want 1.875", m.BurstR)
	}
}

func TestBurstRIsolatedLosses(t *testing.T) {
	// Ten times: 99 received, then 1 lost. 990 receive events, 10 loss
	// events; every loss follows a receive (10 received→lost transitions)
	// and every loss but the last is followed by a receive (9 lost→received).
	// p = 10/990, q = 9/10, BurstR = 1/(p+q) ≈ 1.099: isolated losses are
	// close to random (BurstR 1).
	b := newBurstTracker(16)
	for range 10 {
		for range 99 {
			b.received()
		}
		b.lost(1)
	}
	m := b.metrics(20 * time.Millisecond)
	want := 1 / (10.0/990 + 9.0/10)
	if math.Abs(m.BurstR-want) > 1e-12 {
		t.Errorf("BurstR = %v, want %v", m.BurstR, want)
	}
}

func TestBurstUnreceive(t *testing.T) {
	// A discard after a receive must equal a loss in that slot.
	a := runPattern(t, "1111011110", 2)
	b := runPattern(t, "111101111", 2)
	b.received()
	if !b.unreceive() {
		t.Fatal("unreceive refused after a receive")
	}
	if *a != *b {
		t.Errorf("after unreceive:\n got %+v\nwant %+v", *b, *a)
	}
	if b.unreceive() {
		t.Error("unreceive accepted twice")
	}
}
