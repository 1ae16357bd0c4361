package jitter

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// scenario is one simulated session: packets, how long to pop, and what
// must hold afterwards.
type scenario struct {
	name  string
	cfg   Config
	pkts  func() []arrival
	pops  int
	phase time.Duration
	check func(t *testing.T, st Stats, recs []popRec, s summary)
}

func TestScenarios(t *testing.T) {
	const n = 500
	lossRNG := rand.New(rand.NewPCG(1, 2))
	var lost int

	scenarios := []scenario{
		{
			name: "steady",
			pkts: func() []arrival { return stream(n, 0x1111, 100, 5000, constDelay(5*time.Millisecond)) },
			pops: n + 20,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, n)
				wantZero(t, "missing", s.missing, "expand", s.expand, "empty", s.empty)
				wantZero64(t, "lost", st.Lost, "late", st.Late, "reordered", st.Reordered, "accelerated", st.Accelerated)
				checkInOrder(t, s)
				// Arrivals are 5 ms after send and pops on the tick: a
				// fresh packet waits 15 ms, i.e. under one frame.
				for _, r := range recs[1:n] {
					if r.delay >= tick {
						t.Fatalf("delay %v at %v, want under one frame", r.delay, r.at)
					}
				}
			},
		},
		{
			name: "bursts of 5",
			pkts: func() []arrival {
				// Held back and released together with every 5th packet.
				return stream(n, 0x2222, 0, 0, func(i int) time.Duration {
					return time.Duration(4-i%5)*tick + 2*time.Millisecond
				})
			},
			pops: n + 30,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, n)
				checkInOrder(t, s)
				// Relative delays are 0, 20, 40, 60, 80 ms: the 95 %
				// quantile is 80 ms.
				if got := ms(st.TargetDelay); got < 80 || got > 85 {
					t.Errorf("target %v ms, want 80..85", got)
				}
				afterWarmup(t, recs, 50, func(r popRec) {
					if r.kind != Frame {
						t.Fatalf("%v at %v after warm-up", r.kind, r.at)
					}
					if r.delay < r.target || r.delay >= r.target+tick {
						t.Fatalf("delay %v outside [target %v, +1 frame) at %v", r.delay, r.target, r.at)
					}
				})
				wantZero64(t, "lost", st.Lost)
			},
		},
		{
			name: "reorder neighbours",
			pkts: func() []arrival {
				return stream(n, 0x3333, 65000, 1<<31, func(i int) time.Duration {
					if i%2 == 0 {
						return tick + 5*time.Millisecond // even ones overtaken
					}
					return -tick + 5*time.Millisecond
				})
			},
			pops: n + 20,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				checkInOrder(t, s)
				if st.Reordered != n/2 {
					t.Errorf("reordered %d, want %d", st.Reordered, n/2)
				}
				// Only the very first packet can be lost to the
				// reordering before the delay has grown.
				if st.Late > 1 || s.frames < n-1 {
					t.Errorf("late %d, frames %d of %d", st.Late, s.frames, n)
				}
				afterWarmup(t, recs, 25, func(r popRec) {
					if r.kind != Frame {
						t.Fatalf("%v at %v after warm-up", r.kind, r.at)
					}
				})
				wantZero64(t, "lost", st.Lost)
			},
		},
		{
			name: "duplicates",
			pkts: func() []arrival {
				a := stream(n, 0x4444, 7, 77, constDelay(3*time.Millisecond))
				b := stream(n, 0x4444, 7, 77, func(i int) time.Duration {
					return time.Duration(1+i%3) * 9 * time.Millisecond
				})
				return append(a, b...)
			},
			pops: n + 20,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, n)
				checkInOrder(t, s)
				if st.Duplicates != n {
					t.Errorf("duplicates %d, want %d", st.Duplicates, n)
				}
				wantZero(t, "missing", s.missing, "expand", s.expand)
				wantZero64(t, "lost", st.Lost, "late", st.Late)
			},
		},
		{
			name: "random loss 5%",
			cfg:  Config{MaxConceal: 50},
			pkts: func() []arrival {
				all := stream(n, 0x5555, 40000, 0, constDelay(4*time.Millisecond))
				kept := all[:0]
				lost = 0
				for i, a := range all {
					if i > 0 && i < n-1 && lossRNG.Float64() < 0.05 {
						lost++
						continue
					}
					kept = append(kept, a)
				}
				return kept
			},
			pops: n + 20,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				if lost < 10 {
					t.Fatalf("only %d packets dropped; the generator is broken", lost)
				}
				checkInOrder(t, s)
				wantFrames(t, s, n-lost)
				if st.Lost != uint64(lost) {
					t.Errorf("lost %d, want %d", st.Lost, lost)
				}
				if s.missing != lost {
					t.Errorf("%d Missing results for %d lost packets", s.missing, lost)
				}
				wantZero(t, "empty", s.empty, "expand", s.expand)
				wantZero64(t, "late", st.Late)
			},
		},
		{
			name: "sequence and timestamp wrap",
			pkts: func() []arrival {
				return stream(n, 0x6666, 65535-200, math.MaxUint32-100*frameLen+1, constDelay(7*time.Millisecond))
			},
			pops: n + 20,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, n)
				checkInOrder(t, s)
				wantZero(t, "missing", s.missing, "expand", s.expand, "empty", s.empty)
				wantZero64(t, "lost", st.Lost, "late", st.Late, "resyncs", st.Resyncs, "strays", st.Strays)
			},
		},
		{
			name: "DTX gap",
			cfg:  Config{MinDelay: 40 * time.Millisecond},
			pkts: func() []arrival {
				// 100 frames, 2 s of silence (timestamps jump, sequence
				// numbers do not), then a talkspurt with the marker.
				a := stream(100, 0x7777, 500, 9000, constDelay(6*time.Millisecond))
				b := stream(100, 0x7777, 600, 9000+200*frameLen, constDelay(6*time.Millisecond))
				b[0].h.Marker = true
				for i := range b {
					b[i].at += 200 * tick
				}
				return append(a, b...)
			},
			pops: 330,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, 200)
				checkInOrder(t, s)
				wantZero64(t, "lost", st.Lost, "late", st.Late, "resyncs", st.Resyncs)
				if s.missing > 3 || s.expand != 0 {
					t.Errorf("silence concealed: %d missing, %d expand", s.missing, s.expand)
				}
				if s.empty < 95 {
					t.Errorf("%d empty results over 2 s of silence", s.empty)
				}
				// The second talkspurt plays without a hole.
				var second []Kind
				for _, r := range recs {
					if r.kind == Frame && r.hdr.Seq == 600 {
						second = append(second, r.kind)
					} else if len(second) > 0 && len(second) < 100 {
						second = append(second, r.kind)
					}
				}
				if slices.ContainsFunc(second, func(k Kind) bool { return k != Frame }) {
					t.Errorf("second talkspurt interrupted: %v", second)
				}
			},
		},
		{
			name: "sender restart, new SSRC",
			cfg:  Config{MinDelay: 60 * time.Millisecond},
			pkts: func() []arrival {
				a := stream(250, 0xAAAA, 1000, 50000, constDelay(5*time.Millisecond))
				b := stream(250, 0xBBBB, 7, 123, constDelay(5*time.Millisecond))
				for i := range b {
					b[i].at += 250 * tick
				}
				return append(a, b...)
			},
			pops: 530,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, 500)
				checkInOrder(t, s)
				if st.SSRCResets != 1 || st.Resyncs != 0 {
					t.Errorf("ssrc resets %d, resyncs %d; want 1, 0", st.SSRCResets, st.Resyncs)
				}
				// All of A, then all of B.
				if i := slices.Index(s.ssrcs, 0xBBBB); i != 250 || slices.Contains(s.ssrcs[i:], 0xAAAA) {
					t.Errorf("B starts at frame %d", i)
				}
				if s.missing+s.expand+s.empty > 1 {
					t.Errorf("switch cost %d missing, %d expand, %d empty", s.missing, s.expand, s.empty)
				}
				wantZero64(t, "lost", st.Lost, "late", st.Late, "strays", st.Strays)
			},
		},
		{
			name: "sender restart, same SSRC",
			pkts: func() []arrival {
				a := stream(250, 0xCCCC, 30000, 1<<30, constDelay(5*time.Millisecond))
				b := stream(250, 0xCCCC, 12, 999, constDelay(5*time.Millisecond))
				for i := range b {
					b[i].at += 250 * tick
				}
				return append(a, b...)
			},
			pops: 530,
			check: func(t *testing.T, st Stats, recs []popRec, s summary) {
				wantFrames(t, s, 500)
				if st.Resyncs != 1 || st.SSRCResets != 0 {
					t.Errorf("resyncs %d, ssrc resets %d; want 1, 0", st.Resyncs, st.SSRCResets)
				}
				if s.seqs[249] != 30249 || s.seqs[250] != 12 {
					t.Errorf("switch plays %d then %d", s.seqs[249], s.seqs[250])
				}
				if s.missing+s.expand+s.empty > 1 {
					t.Errorf("switch cost %d missing, %d expand, %d empty", s.missing, s.expand, s.empty)
				}
				wantZero64(t, "lost", st.Lost, "late", st.Late)
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			b := New(sc.cfg)
			recs := run(t, b, sc.pkts(), sc.pops, sc.phase)
			st := b.Stats()
			s := summarize(recs)
			t.Logf("frames %d missing %d expand %d empty %d | %+v", s.frames, s.missing, s.expand, s.empty, st)
			sc.check(t, st, recs, s)
		})
	}
}

// TestJitterDistribution feeds a minute of packets with random network
// delay of a known distribution and checks that the target delay lands on
// the 95th percentile of the relative delays and that fewer than 5 % of
// the packets come too late.
func TestJitterDistribution(t *testing.T) {
	const n = 3000
	cases := []struct {
		name  string
		delay func(r *rand.Rand) time.Duration
	}{
		{"uniform 0-80 ms", func(r *rand.Rand) time.Duration {
			return time.Duration(r.Float64() * float64(80*time.Millisecond))
		}},
		{"10 ms + exponential mean 15 ms", func(r *rand.Rand) time.Duration {
			return 10*time.Millisecond + time.Duration(r.ExpFloat64()*float64(15*time.Millisecond))
		}},
		{"5 ms + half-normal sigma 30 ms", func(r *rand.Rand) time.Duration {
			return 5*time.Millisecond + time.Duration(math.Abs(r.NormFloat64())*float64(30*time.Millisecond))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 11))
			delays := make([]time.Duration, n)
			for i := range delays {
				delays[i] = c.delay(rng)
			}
			b := New(Config{})
			recs := run(t, b, stream(n, 1, 0, 0, func(i int) time.Duration { return delays[i] }), n+40, 0)
			st := b.Stats()
			s := summarize(recs)

			// Reference: the relative delay of each packet against the
			// fastest one in the preceding two seconds, as defined.
			rel := make([]float64, 0, n)
			for i := range delays {
				lo := delays[i]
				for j := i - 1; j >= 0 && time.Duration(i-j)*tick <= 2*time.Second; j-- {
					// Packet j's offset, shifted to packet i's send time.
					lo = min(lo, delays[j])
				}
				rel = append(rel, ms(delays[i]-lo))
			}
			slices.Sort(rel)
			p95 := rel[int(0.95*float64(len(rel)))]
			got := ms(st.TargetDelay)
			t.Logf("target %.1f ms, p95 %.1f ms, late %d (%.2f %%), lost %d, frames %d missing %d expand %d",
				got, p95, st.Late, 100*float64(st.Late)/n, st.Lost, s.frames, s.missing, s.expand)
			if math.Abs(got-p95) > 6 {
				t.Errorf("target %.1f ms, want the 95th percentile %.1f ms ± 6", got, p95)
			}
			if ratio := float64(st.Late) / n; ratio >= 0.05 {
				t.Errorf("late ratio %.3f, want < 0.05", ratio)
			}
			if st.Lost != 0 {
				t.Errorf("lost %d of a lossless stream", st.Lost)
			}
			if s.frames+int(st.Late) != n {
				t.Errorf("frames %d + late %d != %d sent", s.frames, st.Late, n)
			}
		})
	}
}

// TestClockDrift runs ten minutes of a sender whose clock is 0.5 % fast or
// slow, with network jitter: the delay must stay bounded (frames are
// dropped or inserted as needed) and few packets may be discarded.
func TestClockDrift(t *testing.T) {
	const minutes = 10
	for _, skew := range []float64{+0.005, -0.005} {
		t.Run(time.Duration(skew*1000*float64(time.Millisecond)).String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 5))
			interval := time.Duration(float64(tick) / (1 + skew)) // sender's 20 ms in our time
			n := int(minutes * time.Minute / interval)
			pkts := make([]arrival, n)
			for i := range pkts {
				pkts[i] = arrival{
					at: time.Duration(i)*interval + 10*time.Millisecond + time.Duration(rng.Float64()*float64(20*time.Millisecond)),
					h:  rtp.Header{Seq: uint16(i + 40000), TS: uint32(i * frameLen), SSRC: 9},
				}
			}
			cfg := Config{MaxDelay: 300 * time.Millisecond}
			b := New(cfg)
			pops := int(minutes*time.Minute/tick) + 10
			for pkts[len(pkts)-1].at >= time.Duration(pops-1)*tick {
				pkts = pkts[:len(pkts)-1]
			}
			n = len(pkts)
			recs := run(t, b, pkts, pops, 3*time.Millisecond)
			st := b.Stats()
			s := summarize(recs)

			var maxDelay, maxExcess time.Duration
			afterWarmup(t, recs, 250, func(r popRec) {
				maxDelay = max(maxDelay, r.delay)
				maxExcess = max(maxExcess, r.delay-r.target)
			})
			drift := math.Abs(skew) * float64(pops) // frames gained or missing
			t.Logf("n %d, drift %.0f frames; max delay %v, max excess %v, target %v; %+v",
				n, drift, maxDelay, maxExcess, st.TargetDelay, st)
			if maxDelay > cfg.MaxDelay {
				t.Errorf("delay reached %v, over MaxDelay", maxDelay)
			}
			if maxExcess > 3*tick {
				t.Errorf("delay ran %v over target", maxExcess)
			}
			if late := float64(st.Late) / float64(n); late > 0.01 {
				t.Errorf("late ratio %.4f, want <= 1 %%", late)
			}
			if st.Lost != 0 {
				t.Errorf("lost %d", st.Lost)
			}
			if skew > 0 {
				// The surplus must be shed, and not much more.
				if a := float64(st.Accelerated); a < 0.8*drift || a > 1.5*drift+5 {
					t.Errorf("accelerated %d frames for a drift of %.0f", st.Accelerated, drift)
				}
			} else {
				fill := float64(s.missing + s.expand + s.empty)
				if fill < 0.8*drift || fill > 1.5*drift+10 {
					t.Errorf("%.0f frames filled in for a drift of %.0f", fill, drift)
				}
			}
		})
	}
}

func TestBasics(t *testing.T) {
	t.Run("empty before the first packet", func(t *testing.T) {
		b := New(Config{})
		for i := range 3 {
			if r := b.Pop(epoch.Add(time.Duration(i) * tick)); r.Kind != Empty {
				t.Fatalf("pop %d: %v", i, r.Kind)
			}
		}
		if st := b.Stats(); st.Empty != 3 || st.Frames != 0 {
			t.Fatalf("%+v", st)
		}
	})
	t.Run("verdicts", func(t *testing.T) {
		p := make([]byte, 10)
		h := rtp.Header{Seq: 10, TS: 1600, SSRC: 5}
		steps := []struct {
			h    rtp.Header
			n    int
			at   time.Duration
			want Verdict
		}{
			{h, 10, 0, Queued},
			{h, 10, 1 * time.Millisecond, Duplicate},
			{rtp.Header{Seq: 11, TS: 1760, SSRC: 5}, 101, 2 * time.Millisecond, Rejected},
			{rtp.Header{Seq: 12, TS: 1920, SSRC: 5}, 10, 40 * time.Millisecond, Queued},
			{rtp.Header{Seq: 9, TS: 1440, SSRC: 5}, 10, 41 * time.Millisecond, Queued}, // before playout began
			{rtp.Header{Seq: 30000, TS: 1920, SSRC: 5}, 10, 42 * time.Millisecond, Held},
			{rtp.Header{Seq: 13, TS: 2080, SSRC: 6}, 10, 43 * time.Millisecond, Held},
		}
		b := New(Config{MaxPayload: 100})
		for i, s := range steps {
			if got := b.Push(s.h, make([]byte, s.n), epoch.Add(s.at)); got != s.want {
				t.Errorf("step %d: %v, want %v", i, got, s.want)
			}
		}
		// Playout starts at seq 9; after it has played, 9 is late.
		if r := b.Pop(epoch.Add(50 * time.Millisecond)); r.Kind != Frame || r.Header.Seq != 9 {
			t.Fatalf("first pop %v seq %d", r.Kind, r.Header.Seq)
		}
		st := b.Stats()
		if st.Strays != 1 {
			t.Errorf("strays %d, want 1 (the seq jump replaced by the SSRC change)", st.Strays)
		}
		if got := b.Push(rtp.Header{Seq: 8, TS: 1280, SSRC: 5}, p, epoch.Add(60*time.Millisecond)); got != Late {
			t.Errorf("old packet: %v, want late", got)
		}
	})
	t.Run("payload valid until next pop", func(t *testing.T) {
		b := New(Config{MaxPackets: 4})
		h := rtp.Header{SSRC: 1}
		push := func(seq uint16, fill byte) {
			h.Seq, h.TS = seq, uint32(seq)*frameLen
			p := []byte{fill, fill, fill}
			b.Push(h, p, epoch)
			p[0] = 0 // the buffer must have copied it
		}
		push(0, 0xA0)
		r := b.Pop(epoch)
		if r.Kind != Frame || string(r.Payload) != "\xA0\xA0\xA0" {
			t.Fatalf("%v %x", r.Kind, r.Payload)
		}
		// Fill and overflow the ring; the slot that held seq 0 is reused.
		for s := uint16(1); s <= 8; s++ {
			push(s, 0xA0+byte(s))
		}
		if string(r.Payload) != "\xA0\xA0\xA0" {
			t.Fatalf("payload changed before the next Pop: %x", r.Payload)
		}
		if st := b.Stats(); st.Buffered != 4 || st.Overflow != 4 {
			t.Fatalf("buffered %d overflow %d, want 4 and 4", st.Buffered, st.Overflow)
		}
	})
	t.Run("stray packet does not resync", func(t *testing.T) {
		b := New(Config{MinDelay: 60 * time.Millisecond})
		pkts := stream(200, 3, 100, 0, constDelay(time.Millisecond))
		pkts = append(pkts, arrival{at: 50*tick + 5*time.Millisecond, h: rtp.Header{Seq: 9999, TS: 77, SSRC: 3}})
		recs := run(t, b, pkts, 220, 0)
		st := b.Stats()
		s := summarize(recs)
		wantFrames(t, s, 200)
		if st.Strays != 1 || st.Resyncs != 0 {
			t.Errorf("strays %d resyncs %d, want 1 and 0", st.Strays, st.Resyncs)
		}
	})
	t.Run("delay never exceeds MaxDelay", func(t *testing.T) {
		b := New(Config{MaxDelay: 100 * time.Millisecond})
		// A second of audio arrives at once.
		pkts := stream(100, 3, 0, 0, func(i int) time.Duration { return time.Duration(50-i) * tick })
		for i := range pkts {
			pkts[i].at = max(pkts[i].at, 49*tick)
		}
		recs := run(t, b, pkts, 150, 0)
		for _, r := range recs {
			if r.delay > 100*time.Millisecond {
				t.Fatalf("delay %v at %v", r.delay, r.at)
			}
		}
		if st := b.Stats(); st.Accelerated == 0 {
			t.Errorf("nothing dropped: %+v", st)
		}
	})
	t.Run("comfort noise makes the gap silence", func(t *testing.T) {
		b := New(Config{ComfortNoisePT: 13})
		pkts := stream(20, 3, 0, 0, constDelay(0))
		pkts[19].h.PT = 13
		recs := run(t, b, pkts, 30, time.Millisecond)
		if s := summarize(recs); s.frames != 20 {
			t.Fatalf("frames %d", s.frames)
		}
		for _, r := range recs[20:] {
			if r.kind != Empty {
				t.Fatalf("%v after comfort noise at %v", r.kind, r.at)
			}
		}
	})
}

// afterWarmup calls f for every pop record from index skip up to the last
// frame played.
func afterWarmup(t *testing.T, recs []popRec, skip int, f func(popRec)) {
	t.Helper()
	last := len(recs) - 1
	for last >= 0 && recs[last].kind != Frame {
		last--
	}
	for i := skip; i <= last; i++ {
		f(recs[i])
	}
}

func wantFrames(t *testing.T, s summary, n int) {
	t.Helper()
	if s.frames != n {
		t.Errorf("%d frames played, want %d", s.frames, n)
	}
}

// wantZero takes name, value pairs.
func wantZero(t *testing.T, kv ...any) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if v := kv[i+1].(int); v != 0 {
			t.Errorf("%s = %d, want 0", kv[i], v)
		}
	}
}

func wantZero64(t *testing.T, kv ...any) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if v := kv[i+1].(uint64); v != 0 {
			t.Errorf("%s = %d, want 0", kv[i], v)
		}
	}
}

// TestConcurrentUse pushes from one goroutine and pops and reads stats from
// another, as the socket reader and the playout ticker do (run with -race).
func TestConcurrentUse(t *testing.T) {
	b := New(Config{})
	const n = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		p := make([]byte, 160)
		for i := range n {
			b.Push(rtp.Header{Seq: uint16(i), TS: uint32(i * frameLen), SSRC: 1}, p, epoch.Add(time.Duration(i)*tick))
		}
	}()
	frames := 0
	for i := range n {
		if r := b.Pop(epoch.Add(time.Duration(i)*tick + 10*time.Millisecond)); r.Kind == Frame {
			frames++
		}
		_ = b.Stats()
	}
	<-done
	if st := b.Stats(); st.Received != n || uint64(frames) != st.Frames {
		t.Fatalf("received %d of %d, frames %d vs %d", st.Received, n, frames, st.Frames)
	}
}
