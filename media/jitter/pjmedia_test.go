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
// of init, min, max frames; "fixed n" pins the target with MinDelay =
// MaxDelay = n frames. MaxPackets is pjmedia's buffer size, 50.
//
// Conditions (pjmedia's value is a maximum; each is compared with):
//
//	burst     the final TargetDelay, in whole frames rounded up (the
//	          jitter allowance the buffer learned; pjmedia's "burst level")
//	delay     the mean Stats.Delay over the gets after the first frame,
//	          in whole frames rounded down (pjmedia divides its mean
//	          delay in ms by the frame time the same way)
//	delay_min the least Stats.Delay over those gets, in whole frames
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
	"strconv"
	"strings"
	"testing"
	"time"
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
		b.Push(Header{SequenceNumber: q, Timestamp: uint32(q) * frameLen, SSRC: 0x5ca1ab1e}, payload, now())
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
				q := r.Header.SequenceNumber
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
	"Random burst (with drift, PUT < GET)": {{
		"delay", 3,
		"a sender 6.7 % slow drifts 134 ms over the 2 s fastest-packet window; " +
			"that shows as extra relative delay (and target) here, where pjmedia counts frames",
	}, {
		"burst", 3, "same window effect as for delay",
	}},
	"Fixed mode prefetch 10, PUT burst at the beginning": {{
		"discard", 40,
		"MaxDelay is a hard bound here (fixed mode pins it to the prefetch of 10 frames), " +
			"so 40 of the 50 burst frames are dropped at once; pjmedia keeps them and plays 1 s late",
	}},
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
			// pjmedia's empty and lost are compared together (see above).
			bound["empty"] = s.conds["empty"] + s.conds["lost"]
			for _, a := range jbAllowances[s.title] {
				bound[a.cond] += a.extra
				t.Logf("allowance %s +%d: %s", a.cond, a.extra, a.reason)
			}
			t.Logf("puts %d gets %d frames %d | burst %d delay %d delay_min %d discard %d lost %d empty %d | pjmedia %v",
				r.puts, r.gets, r.frames, r.burst, r.delay, r.delayMin, r.discard, r.lost, r.empty, s.conds)
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
