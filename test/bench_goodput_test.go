//go:build linux

package test

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkGoodput is the overload curve (issue 16): it finds the knee
// (the highest call rate of a short ramp, 25 % a step, at which 99 % of
// the calls are answered and none fails otherwise), then
// offers 1×, 1.5×, 2× and 3× the knee and prints, for each, the calls
// answered per second, the 503s per second (admission control, b2bua
// overload.go) and the calls that failed any other way. The target is
// goodput ≥ 90 % of the knee at every multiple, and every refused call a
// clean 503 (no timeouts). Calls as in BenchmarkSignaling: user → trunk,
// 407 round trip, 1 s hold, no media; bench_uac_goodput.xml takes a 503 in
// place of the 407 or the 200.
//
// SB_BENCH_KNEE=N skips the ramp; SB_BENCH_GOODPUT_SECONDS (default 5)
// is each step's offer; SB_BENCH_GOODPUT_MAX (default 6000) bounds the
// ramp. Every step is bounded in calls (at most 60,000) and in time.
func BenchmarkGoodput(b *testing.B) {
	benchSkip(b)
	sb, dir, _, uacPort, _ := benchSignalingSetup(b)
	pid := sb.cmd.Process.Pid
	baseFDs := benchFDs(pid)
	secs := benchIntEnv("SB_BENCH_GOODPUT_SECONDS", 5, 2, 60)
	cdrs, logOff := 0, 0

	run := func(rate int) goodputStep {
		// Let the previous step's calls end and their ports leave quarantine.
		benchWaitFDs(pid, baseFDs+benchFDSlack, 45*time.Second)
		time.Sleep(2 * time.Second)
		calls := min(rate*secs, 60000)
		cpu0, _ := benchProcCPU(pid)
		t0 := time.Now()
		r := benchRunSipp(b, dir, time.Duration(calls/rate+60)*time.Second,
			"-sf", scenario(b, "bench_uac_goodput.xml"), sb.Addr(),
			"-i", "127.0.0.3", "-p", strconv.Itoa(uacPort), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uacPort+2),
			"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"],
			"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-l", strconv.Itoa(3*rate+100),
			"-d", "1000", "-recv_timeout", "10000", "-timeout", strconv.Itoa(calls/rate+45), "-aa")
		cpu1, _ := benchProcCPU(pid)
		st := goodputStep{rate: rate, calls: calls, refused: goodputRefused(r.Out), failed: r.Stats.Failed,
			wall: time.Since(t0), cpu: cpu1 - cpu0, sippErr: r.Err}
		st.answered = r.Stats.Successful - st.refused
		st.lost = calls - r.Stats.Successful - r.Stats.Failed
		// Every answered call has its record (refused ones never became calls).
		recs := benchCDRs(b, sb, cdrs, cdrs+st.answered+st.failed, 15*time.Second)
		cdrs += len(recs)
		st.cdrs = len(recs)
		offer := float64(calls) / float64(rate)
		fmt.Printf("goodput step: %d calls/s offered for %.0f s: %d answered (%.0f/s), %d refused with 503 (%.0f/s), %d failed otherwise, %d lost (sipp err %v); %d CDRs; Switchboard %.0f%% of a core\n",
			rate, offer, st.answered, float64(st.answered)/offer, st.refused, float64(st.refused)/offer, st.failed, st.lost, st.sippErr,
			st.cdrs, 100*st.cpu.Seconds()/st.wall.Seconds())
		if os.Getenv("SB_BENCH_GOODPUT_SCREEN") == "1" {
			fmt.Printf("  sipp UAC screen:\n%s\n", benchScreen(r.Out))
		}
		if l := goodputLastRefusal(sb.Output(), logOff); l != "" {
			fmt.Printf("  last refusal line: %s\n", l)
		}
		logOff = len(sb.Output())
		if st.failed > 0 || st.lost > 0 {
			fmt.Printf("  sipp UAC errors: %s\n  sipp UAC screen:\n%s\n", benchSippErrors(r.ErrFile, 0), benchScreen(r.Out))
		}
		if !sb.Alive() {
			b.Fatalf("switchboard exited at %d calls/s:\n%s", rate, tail(sb.Output(), 3000))
		}
		return st
	}

	knee := benchIntEnv("SB_BENCH_KNEE", 0, 0, 20000)
	if knee == 0 {
		maxRate := benchIntEnv("SB_BENCH_GOODPUT_MAX", 6000, 100, 20000)
		// At most 12 steps, each 25 % above the last, ending after two
		// steps in a row below the knee's standard: 99 % answered (a
		// shared machine can starve one step) and nothing failed otherwise.
		for rate, n, bad := 400, 0, 0; rate <= maxRate && n < 12 && bad < 2; rate, n = rate*5/4, n+1 {
			st := run(rate)
			if st.answered < st.calls*99/100 || st.failed > 0 || st.lost > 0 {
				bad++
				continue
			}
			knee, bad = rate, 0
		}
		if knee == 0 {
			b.Fatal("no knee: calls were refused or failed at the lowest rate")
		}
	}
	fmt.Printf("goodput: knee %d calls/s\n", knee)
	worst := math.Inf(1)
	unclean := 0
	for _, m := range []float64{1, 1.5, 2, 3} {
		rate := int(m * float64(knee))
		st := run(rate)
		offer := float64(st.calls) / float64(rate)
		good := float64(st.answered) / offer
		pct := 100 * good / float64(knee)
		worst = min(worst, pct)
		unclean += st.failed + st.lost
		fmt.Printf("goodput: %.1fx the knee (%d calls/s offered): %.0f answered calls/s (%.0f%% of the knee), %.0f 503/s, %d calls failed other than by 503\n",
			m, rate, good, pct, float64(st.refused)/offer, st.failed+st.lost)
	}
	b.ReportMetric(float64(knee), "calls/s_knee")
	b.ReportMetric(worst, "%knee_worst_goodput")
	b.ReportMetric(float64(unclean), "unclean_failures")
	fmt.Printf("goodput: worst %.0f%% of the knee (target ≥ 90%%), %d calls failed other than by a clean 503 (target 0)\n", worst, unclean)
}

// goodputStep is one offered rate's outcome.
type goodputStep struct {
	rate, calls                     int
	answered, refused, failed, lost int
	cdrs                            int
	wall, cpu                       time.Duration
	sippErr                         error
}

// reRefused matches the 503 lines of sipp's final screen (bench_uac_goodput.xml
// has two: instead of the 407, and instead of the 200).
var reRefused = regexp.MustCompile(`(?m)^\s*503 <-+\s+(?:E-RTD\d+\s+)?(\d+)`)

// goodputRefused sums the 503s sipp received.
func goodputRefused(out string) int {
	n := 0
	if i := strings.LastIndex(out, "Messages  Retrans"); i >= 0 {
		out = out[i:] // the final screen, whole (benchScreen keeps only its tail)
	}
	for _, m := range reRefused.FindAllStringSubmatch(out, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

// goodputLastRefusal is the last "overload: new calls refused" line logged
// since offset (it names the reasons).
func goodputLastRefusal(out string, offset int) string {
	out = out[min(offset, len(out)):]
	i := strings.LastIndex(out, "overload: new calls refused")
	if i < 0 {
		return ""
	}
	line := out[i:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return line
}
