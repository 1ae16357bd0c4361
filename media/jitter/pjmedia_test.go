package jitter

// The scripted sessions of pjmedia's jitter buffer test (pjmedia/src/test/
// jbuf_test.c reading Jbtest.dat, in the shared corpus) run through this
// buffer.
//
// Script format: '=' title lines, '%' mode line ("adaptive init min max"
// or "fixed prefetch", in frames), '!' pass conditions ("name max"), '#'
// comments, then data characters until '.':
//
//	P put the next frame        G get one frame (one 20 ms tick)
//	L skip one sequence number  R restart the sequence at 1
//	J jump the sequence by 20   D put the last frame again
//	O put an old frame, 10..49 sequence numbers back
//
// Mapping onto this buffer. pjmedia has no clock and no timestamps; here
// each G is a Pop at the current tick and then advances the clock by
// 20 ms, each put arrives at the current tick, and the RTP timestamp is
// 160 × sequence number (8 kHz), so R restarts both sequence and
// timestamp (a sender restart) and L is a lost packet. O's random offset
// comes from a seeded generator.
//
// Modes: "adaptive init min max" becomes InitialDelay, MinDelay, MaxDelay
// of init, min, max frames. "fixed n" becomes MinDelay = InitialDelay = n
// frames and MaxDelay = 50 frames: pjmedia's fixed mode prefetches n frames
// and never sheds, so its only upper bound is the buffer size, 50 frames,
// which is also MaxPackets in every session.
//
// Conditions (pjmedia's value is a maximum; each is compared with):
//
//	burst     the final TargetDelay, in whole frames rounded up (the
//	          jitter allowance the buffer learned; pjmedia's "burst level").
//	          The bound is the larger of pjmedia's value and the script's
//	          own 95th percentile of relative delay (scriptQuantile), which
//	          counts both the clump that comes early and the gap after it
//	          (the random-burst pattern has 6 frames where pjmedia counts a
//	          burst of 4); in fixed mode also at least the prefetch, the
//	          floor of the target
//	delay     the mean time played frames spent in the buffer, put to
//	          get, in whole ticks rounded down: what pjmedia averages
//	          (Stats.Delay is a different quantity, the lag behind the
//	          fastest packet, so it is not used here)
//	delay_min the least such time
//	discard   packets put but never played: Late + Duplicates + Overflow
//	          + Accelerated + Strays
//	lost      Stats.Lost, sequence numbers never put. pjmedia's count also
//	          flags the frame after each discarded one as lost (its
//	          ticket #1188); this buffer does not, so the bound is looser
//	          for it than for pjmedia
//	empty     gets that produced no frame after the first put: Empty,
//	          Missing and Expand results. pjmedia splits these into
//	          "empty" (nothing buffered) and "lost" (a gap before a
//	          buffered frame); this buffer conceals the first ticks of an
//	          underrun as Missing before it calls them silence, so the two
//	          are compared together: empty+lost of pjmedia
//
// Where this design knowingly differs, the allowance below raises a bound
// and says why.

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// jbBufSize is pjmedia's buffer size in frames (JB_BUF_SIZE in jbuf_test.c).
const jbBufSize = 50

var jbtestPath = filepath.Join("..", "..", "..", "shared", "corpora", "vectors", "jitter", "pjmedia_Jbtest.dat")

// jbSession is one parsed test session.
type jbSession struct {
	title    string
	adaptive bool
	init     int
	min, max int // frames
	conds    map[string]int
	data     string // event characters, spaces and comments removed
}

// parseJbtest reads the pjmedia script format.
func parseJbtest(r *bufio.Scanner) ([]jbSession, error) {
	var out []jbSession
	cur := jbSession{adaptive: true, max: 10, conds: map[string]int{}}
	inData := false
	line := 0
	for r.Scan() {
		line++
		text := r.Text()
		trimmed := strings.TrimSpace(text)
		if !inData {
			switch {
			case trimmed == "" || strings.HasPrefix(trimmed, "#"):
				continue
			case strings.HasPrefix(trimmed, "="):
				t := strings.TrimSpace(trimmed[1:])
				if cur.title != "" {
					t = cur.title + " / " + t
				}
				cur.title = t
				continue
			case strings.HasPrefix(trimmed, "%"):
				f := strings.Fields(trimmed[1:])
				if len(f) < 2 {
					return nil, fmt.Errorf("line %d: mode line %q", line, text)
				}
				nums := make([]int, 0, 3)
				for _, s := range f[1:] {
					v, err := strconv.Atoi(s)
					if err != nil {
						return nil, fmt.Errorf("line %d: %w", line, err)
					}
					nums = append(nums, v)
				}
				switch {
				case f[0] == "adaptive" && len(nums) == 3:
					cur.adaptive, cur.init, cur.min, cur.max = true, nums[0], nums[1], nums[2]
				case f[0] == "fixed" && len(nums) >= 1:
					cur.adaptive, cur.init, cur.min, cur.max = false, nums[0], nums[0], nums[0]
				default:
					return nil, fmt.Errorf("line %d: mode line %q", line, text)
				}
				continue
			case strings.HasPrefix(trimmed, "!"):
				f := strings.Fields(trimmed[1:])
				if len(f) < 2 {
					return nil, fmt.Errorf("line %d: condition %q", line, text)
				}
				v, err := strconv.Atoi(f[1])
				if err != nil {
					return nil, fmt.Errorf("line %d: condition %q: %w", line, text, err)
				}
				cur.conds[f[0]] = v
				continue
			}
			inData = true
		}
		var sb strings.Builder
		sb.WriteString(cur.data)
		for _, c := range text {
			if c == '#' {
				break
			}
			if c == '.' {
				cur.data = sb.String()
				out = append(out, cur)
				cur = jbSession{adaptive: true, max: 10, conds: map[string]int{}}
				inData = false
				sb.Reset()
				break
			}
			if strings.ContainsRune("PGLRJDO", c) {
				sb.WriteRune(c)
			} else if c != ' ' && c != '\t' {
				return nil, fmt.Errorf("line %d: unknown event %q", line, c)
			}
		}
		if inData {
			cur.data = sb.String()
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	if inData {
		return nil, fmt.Errorf("session %q not terminated by '.'", cur.title)
	}
	return out, nil
}

// jbResult is what a session measured, in pjmedia's terms.
type jbResult struct {
	burst, delay, delayMin, discard, lost, empty int
	puts, gets, frames                           int
	st                                           Stats
}

func runJbSession(s jbSession) jbResult {
	frames := func(n int) time.Duration { return time.Duration(n) * tick }
	cfg := Config{
		InitialDelay: frames(s.init),
		MinDelay:     frames(s.min),
		MaxDelay:     frames(s.max),
		MaxPackets:   jbBufSize,
	}
	if !s.adaptive {
		cfg.MaxDelay = frames(jbBufSize)
	}
	b := New(cfg)
	rng := rand.New(rand.NewPCG(0x1188, 0x1612))
	var (
		res      jbResult
		seq      uint16 = 1
		k        int
		started  bool
		sumRes   int
		nRes     int
		minRes   = math.MaxInt
		putTick  = map[uint16]int{} // tick of the first put of each sequence number
		payload  = []byte{0}
		now      = func() time.Time { return epoch.Add(frames(k)) }
		nonFrame int
	)
	put := func(q uint16) {
		if _, ok := putTick[q]; !ok {
			putTick[q] = k
		}
		b.Push(rtp.Header{Seq: q, TS: uint32(q) * frameLen, SSRC: 0x5ca1ab1e}, payload, now())
		res.puts++
		started = true
	}
	for _, c := range s.data {
		switch c {
		case 'P':
			put(seq)
			seq++
		case 'G':
			r := b.Pop(now())
			res.gets++
			switch {
			case r.Kind == Frame:
				res.frames++
				q := r.Header.Seq
				d := k - putTick[q]
				delete(putTick, q)
				sumRes += d
				nRes++
				minRes = min(minRes, d)
			case started:
				nonFrame++
			}
			k++
		case 'L':
			seq++
		case 'R':
			seq = 1
			clear(putTick)
		case 'J':
			seq += 20
		case 'D':
			put(seq - 1)
		case 'O':
			put(seq - 10 - uint16(rng.IntN(40)))
		}
	}
	st := b.Stats()
	res.st = st
	res.burst = int(math.Ceil(float64(st.TargetDelay) / float64(tick)))
	if nRes > 0 {
		res.delay = sumRes / nRes
		res.delayMin = minRes
	}
	res.discard = int(st.Late + st.Duplicates + st.Overflow + st.Accelerated + st.Strays)
	res.lost = int(st.Lost)
	res.empty = nonFrame
	return res
}

// allowance raises a pjmedia bound where this design differs on purpose.
type allowance struct {
	cond   string
	extra  int
	reason string
}

var jbAllowances = map[string][]allowance{
	"Random burst (no drift)": {{
		"discard", 2, learning,
	}, {
		"empty", 2, learning,
	}},
	"Packet lost": {{
		"discard", 3, learning,
	}},
	"Random burst (with drift, PUT > GET)": {{
		"burst", 2,
		"the sender is 6.7 % fast, so each clump arrives earlier than the last and the " +
			"uncorrected script percentile (4) understates the pattern; this buffer removes " +
			"the measured drift and sees the same 6 frames as in the session without drift",
	}},
	"Random burst (with drift, PUT < GET)": {{
		"discard", 25,
		"the sender is 6.7 % slow: relative delays creep up by 1.3 ms per frame until the " +
			"drift estimate is trusted (5 one-second blocks); the packets that overtake the " +
			"target meanwhile are concealed and discarded (pjmedia waits for them instead)",
	}, {
		"empty", 22, "the same warm-up of the drift estimate",
	}},
	"Fixed mode prefetch 10, PUT burst at the beginning": {{
		"discard", 40,
		"this buffer always sheds delay above its target (here the prefetch, 10 frames) " +
			"and drops 40 of the 50 frames of the initial burst; pjmedia's fixed mode " +
			"never sheds and plays the whole session 1 s late",
	}},
}

// learning explains the cost of meeting a burst pattern before the target
// has learned it.
const learning = "pjmedia never skips a frame: an underrun waits and the late frame plays later. " +
	"This buffer waits only while its delay is below the target; at the target it conceals, " +
	"and the frame is discarded when it arrives (too late). The first bursts, met before " +
	"the target has learned them, cost that here"

// scriptQuantile computes, from the script alone, the 95th percentile of
// the relative delay as the buffer defines it: each fresh put's arrival
// tick minus its frame index, less the least such value over the previous
// second (50 ticks) of puts, in frames. A restart (R) starts afresh.
func scriptQuantile(data string) int {
	type put struct{ tick, d int }
	var (
		hist []put
		rel  []int
		k    int
		idx  int
	)
	for _, c := range data {
		switch c {
		case 'G':
			k++
		case 'L':
			idx++
		case 'J':
			idx += 20
		case 'R':
			hist = hist[:0]
		case 'P':
			d := k - idx
			idx++
			hist = append(hist, put{k, d})
			lo := d
			for i := len(hist) - 1; i >= 0 && hist[i].tick >= k-50; i-- {
				lo = min(lo, hist[i].d)
			}
			rel = append(rel, d-lo)
		}
	}
	if len(rel) == 0 {
		return 0
	}
	slices.Sort(rel)
	return rel[int(0.95*float64(len(rel)))]
}

func TestPjmediaSessions(t *testing.T) {
	f, err := os.Open(jbtestPath)
	if err != nil {
		t.Fatalf("the pjmedia script is part of the shared corpus: %v", err)
	}
	defer f.Close()
	sessions, err := parseJbtest(bufio.NewScanner(f))
	if err != nil {
		t.Fatal(err)
	}
	// The file has 16 title lines; one session carries two of them.
	if len(sessions) != 15 {
		t.Fatalf("parsed %d sessions, want 15", len(sessions))
	}
	for _, s := range sessions {
		t.Run(s.title, func(t *testing.T) {
			if len(s.conds) == 0 || !strings.ContainsRune(s.data, 'G') {
				t.Fatalf("session not parsed: %+v", s)
			}
			r := runJbSession(s)
			got := map[string]int{
				"burst": r.burst, "delay": r.delay, "delay_min": r.delayMin,
				"discard": r.discard, "lost": r.lost, "empty": r.empty,
			}
			bound := map[string]int{}
			for name, v := range s.conds {
				bound[name] = v
			}
			// The target may reach the relative delay the script really
			// has, and in fixed mode it never goes below the prefetch.
			q := scriptQuantile(s.data)
			bound["burst"] = max(s.conds["burst"], q)
			if !s.adaptive {
				bound["burst"] = max(bound["burst"], s.min)
			}
			// pjmedia's empty and lost are compared together (see above).
			bound["empty"] = s.conds["empty"] + s.conds["lost"]
			for _, a := range jbAllowances[s.title] {
				bound[a.cond] += a.extra
				t.Logf("allowance %s +%d: %s", a.cond, a.extra, a.reason)
			}
			t.Logf("puts %d gets %d frames %d | burst %d (script p95 %d) delay %d delay_min %d discard %d lost %d empty %d | pjmedia %v",
				r.puts, r.gets, r.frames, r.burst, q, r.delay, r.delayMin, r.discard, r.lost, r.empty, s.conds)
			for name := range s.conds {
				if got[name] > bound[name] {
					t.Errorf("%s = %d, bound %d (pjmedia %d)", name, got[name], bound[name], s.conds[name])
				}
			}
			// Stronger checks where the script's intent is exact.
			if !strings.ContainsAny(s.data, "LO") && r.lost != 0 {
				t.Errorf("lost %d without any lost frame in the script", r.lost)
			}
			if n := strings.Count(s.data, "D"); n > 0 && int(r.st.Duplicates) != n {
				t.Errorf("duplicates %d, script duplicates %d", r.st.Duplicates, n)
			}
		})
	}
}

func TestParseJbtest(t *testing.T) {
	script := `# comment
= First
= second title line
%fixed 5
!burst 3 <- note
!lost	1
PGPG # trailing comment
LG
.
= Other
%adaptive 1 2 30
!delay 4
P G
D.
`
	got, err := parseJbtest(bufio.NewScanner(strings.NewReader(script)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d sessions", len(got))
	}
	a, b := got[0], got[1]
	if a.title != "First / second title line" || a.adaptive || a.min != 5 || a.max != 5 ||
		a.conds["burst"] != 3 || a.conds["lost"] != 1 || a.data != "PGPGLG" {
		t.Errorf("first: %+v", a)
	}
	if b.title != "Other" || !b.adaptive || b.init != 1 || b.min != 2 || b.max != 30 ||
		b.conds["delay"] != 4 || b.data != "PGD" {
		t.Errorf("second: %+v", b)
	}
	for _, bad := range []string{"= x\n%adaptive 1\nPG.\n", "= x\n!lost many\nPG.\n", "= x\nPGX.\n", "= x\nPG\n"} {
		if _, err := parseJbtest(bufio.NewScanner(strings.NewReader(bad))); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}
