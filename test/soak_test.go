//go:build linux

package test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The soak: calls with media (sipp plays g711a.pcap, 7 s, through
// Switchboard to a trunk that echoes it) at a steady rate, while
// Switchboard's resident memory, goroutines and open descriptors are
// sampled every few seconds. TestSoak runs it for a minute in make test;
// BenchmarkSoak for an hour (SB_BENCH_SOAK=1h) in make bench.
//
//	sipp UAC (user 1000, 127.0.0.3) ──► Switchboard ──► sipp UAS (trunk, 127.0.0.2, -rtp_echo)

// soakSample is one sample of Switchboard's process.
type soakSample struct {
	at              time.Duration // since the soak started
	rssKiB          int64
	goroutines, fds int
}

// soakResult is what a soak run saw.
type soakResult struct {
	calls, successful, failed, cdrs, answered int
	samples                                   []soakSample
	idleBefore, idleAfter                     soakSample // no call up
	sippErr                                   error
	sippOut                                   string
}

// soakGoroutines reads go_goroutines from Switchboard's metrics.
func soakGoroutines(api string) int {
	c := http.Client{Timeout: 3 * time.Second}
	res, err := c.Get("http://" + api + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^go_goroutines (\d+)`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func soakSampleOf(pid int, api string, at time.Duration) soakSample {
	rss, _ := benchRSS(pid)
	return soakSample{at: at, rssKiB: rss, goroutines: soakGoroutines(api), fds: benchFDs(pid)}
}

// soakIdle waits (bounded by within) until no call is up: descriptors back
// to idle (quarantine and warm ports closed) and goroutines settled (idle
// sipgo workers end after 10 s), then samples.
func soakIdle(pid int, api string, fds int, within time.Duration) soakSample {
	deadline := time.Now().Add(within)
	prev := soakSampleOf(pid, api, 0)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		s := soakSampleOf(pid, api, 0)
		if (fds < 0 || s.fds <= fds+benchFDSlack) && s.goroutines == prev.goroutines {
			return s
		}
		prev = s
	}
	return prev
}

// soakRun places calls at rate per second for dur with media, sampling
// every every, and waits (bounded) for Switchboard to go idle again.
func soakRun(t testing.TB, dur time.Duration, rate int, every time.Duration) soakResult {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	api := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
	// Calls up ≈ rate × 7.5 s, two port pairs each, plus 2 s of quarantine.
	sb := startSB(t, SBOptions{Users: []string{"1000"}, MediaPorts: "55000-59999", Log: "warn",
		Trunks: fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}`, uasPort),
		Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`,
		Extra:  "api:\n  listen: " + api + "\n  metrics_open: true\n"})
	pid := sb.cmd.Process.Pid
	startSipp(t, dir, "-sf", scenario(t, "uas_trunk_echo.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-rtp_echo")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	var res soakResult
	res.idleBefore = soakIdle(pid, api, -1, 15*time.Second)
	res.calls = rate * int(dur/time.Second)
	stop := make(chan struct{})
	done := make(chan []soakSample)
	start := time.Now()
	go func() {
		var samples []soakSample
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- samples
				return
			case <-tick.C:
				samples = append(samples, soakSampleOf(pid, api, time.Since(start)))
			}
		}
	}()
	r := runSipp(t, dir, dur+2*time.Minute, "-sf", scenario(t, "uac_auth_pcap.xml"), sb.Addr(),
		"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
		"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"],
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(res.calls), "-l", strconv.Itoa(rate*20+50),
		"-timeout", strconv.Itoa(int((dur + time.Minute).Seconds())), "-timeout_error")
	close(stop)
	all := <-done
	// The steady part: while calls were offered, after the first tenth.
	for _, s := range all {
		if s.at > dur/10 && s.at <= dur {
			res.samples = append(res.samples, s)
		}
	}
	res.successful, res.failed, res.sippErr, res.sippOut = r.Stats.Successful, r.Stats.Failed, r.Err, r.Out
	recs := sb.WaitCDRs(res.calls, 20*time.Second)
	res.cdrs = len(recs)
	for _, c := range recs {
		if c.Disposition == "answered" && c.AToBPackets > 100 && c.BToAPackets > 100 {
			res.answered++
		}
	}
	res.idleAfter = soakIdle(pid, api, res.idleBefore.fds, 60*time.Second)
	return res
}

// report prints the soak's figures: slopes per hour of RSS, goroutines and
// descriptors while calls ran, the calls and their records.
func (r *soakResult) report(name string, dur time.Duration) {
	rss := slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.rssKiB) / 1024 })
	gor := slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.goroutines) })
	fds := slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.fds) })
	fmt.Printf("%s: %v, %d calls offered: %d successful, %d failed (sipp err %v); %d CDRs, %d answered with media both ways; "+
		"slopes per hour while calls ran: RSS %+.1f MiB, goroutines %+.0f, descriptors %+.0f (%d samples); "+
		"idle before/after: RSS %d/%d KiB, goroutines %d/%d, descriptors %d/%d\n",
		name, dur, r.calls, r.successful, r.failed, r.sippErr, r.cdrs, r.answered, rss, gor, fds, len(r.samples),
		r.idleBefore.rssKiB, r.idleAfter.rssKiB, r.idleBefore.goroutines, r.idleAfter.goroutines, r.idleBefore.fds, r.idleAfter.fds)
}

// TestSoak is the one-minute soak of make test: 4 calls/s with media for
// 60 s (about 30 calls up at once). It fails on any failed call, any
// missing record, or growth: goroutines or descriptors not back to idle
// after the calls, or resident memory in the last third of the minute
// above the middle third's by more than 32 MiB.
func TestSoak(t *testing.T) {
	const dur = time.Minute
	r := soakRun(t, dur, 4, 2*time.Second)
	r.report("soak", dur)
	if r.successful != r.calls || r.failed != 0 || r.sippErr != nil {
		t.Fatalf("%d of %d calls successful, %d failed, err %v\n%s", r.successful, r.calls, r.failed, r.sippErr, tail(r.sippOut, 3000))
	}
	if r.cdrs != r.calls || r.answered != r.calls {
		t.Errorf("%d records (%d answered with media both ways) for %d calls", r.cdrs, r.answered, r.calls)
	}
	if r.idleAfter.fds > r.idleBefore.fds+benchFDSlack {
		t.Errorf("descriptors: %d idle before, %d after the soak", r.idleBefore.fds, r.idleAfter.fds)
	}
	if r.idleBefore.goroutines < 0 || r.idleAfter.goroutines > r.idleBefore.goroutines+10 {
		t.Errorf("goroutines: %d idle before, %d after the soak", r.idleBefore.goroutines, r.idleAfter.goroutines)
	}
	var mid, last int64
	for _, s := range r.samples {
		switch {
		case s.at < dur/3:
		case s.at < 2*dur/3:
			mid = max(mid, s.rssKiB)
		default:
			last = max(last, s.rssKiB)
		}
	}
	if mid == 0 || last > mid+32*1024 {
		t.Errorf("resident memory grew from %d KiB (middle third) to %d KiB (last third)", mid, last)
	}
}

// BenchmarkSoak is the hour-long soak of make bench, run when
// SB_BENCH_SOAK is set to its length (e.g. SB_BENCH_SOAK=1h), at
// SB_BENCH_SOAK_RATE calls/s with media (default 40: about 300 calls up,
// within what one sipp plays pcap media to). It prints the slopes per hour
// of RSS, goroutines and descriptors, the failed calls, and the records
// against the calls.
func BenchmarkSoak(b *testing.B) {
	benchSkip(b)
	dur, err := time.ParseDuration(os.Getenv("SB_BENCH_SOAK"))
	if err != nil || dur <= 0 {
		b.Skip("soak: set SB_BENCH_SOAK to its length, e.g. 1h")
	}
	r := soakRun(b, dur, benchIntEnv("SB_BENCH_SOAK_RATE", 40, 1, 60), 10*time.Second)
	r.report("soak", dur)
	b.ReportMetric(slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.rssKiB) / 1024 }), "MiB_rss/h")
	b.ReportMetric(slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.goroutines) }), "goroutines/h")
	b.ReportMetric(slopePerHour(r.samples, func(s soakSample) float64 { return float64(s.fds) }), "fds/h")
	b.ReportMetric(float64(r.calls-r.successful), "failed_calls")
	b.ReportMetric(float64(r.calls-r.cdrs), "missing_cdrs")
}

// slopePerHour is the least-squares slope of y over the samples, per hour.
func slopePerHour(s []soakSample, y func(soakSample) float64) float64 {
	n := float64(len(s))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, p := range s {
		x := p.at.Hours()
		sx, sy, sxx, sxy = sx+x, sy+y(p), sxx+x*x, sxy+x*y(p)
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
