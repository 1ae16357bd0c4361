package test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkKamailioInstances: calls per second through Kamailio (the
// reference configuration, configs/kamailio) with one Switchboard
// instance behind it and with two. At each offered rate (SB_BENCH_KAM_RATES,
// default 300,600,900,1200 calls/s, SB_BENCH_SECONDS each, default 8) a
// sipp caller places half-second calls with SDP through Kamailio to the
// instances and on to a sipp trunk; the figure is the highest rate every
// call of which succeeded, and the instances' CPU per call there. On this
// 2-core machine Kamailio, both sipps and the instances share the cores,
// so the second instance shows how much of the limit is Switchboard's.
func BenchmarkKamailioInstances(b *testing.B) {
	benchSkip(b)
	kam := requireTool(b, "kamailio")
	rates := benchRates([]int{300, 600, 900, 1200})
	if s := os.Getenv("SB_BENCH_KAM_RATES"); s != "" {
		b.Setenv("SB_BENCH_RATES", s)
		rates = benchRates(nil)
	}
	secs := 8
	if n, err := strconv.Atoi(os.Getenv("SB_BENCH_SECONDS")); err == nil && n > 0 {
		secs = n
	}
	best := map[int]int{}
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("instances%d", n), func(b *testing.B) {
			top, cpu := benchKamailio(b, kam, n, rates, secs)
			best[n] = top
			b.ReportMetric(float64(top), "calls/s_0fail")
			b.ReportMetric(cpu, "µs_cpu/call")
			fmt.Printf("kamailio + %d switchboard instance(s): %d calls/s with 0 failed (switchboard CPU %.0f µs per call there)\n", n, top, cpu)
		})
	}
	if best[1] > 0 {
		fmt.Printf("kamailio scale-out: 2 instances carry %.2f× the calls/s of 1 (%d vs %d)\n", float64(best[2])/float64(best[1]), best[2], best[1])
	}
}

// benchKamailio offers each rate in turn to Kamailio in front of n
// instances and returns the highest rate with no failed call and the
// instances' summed CPU per call at it.
func benchKamailio(b *testing.B, kam string, n int, rates []int, secs int) (int, float64) {
	dir := b.TempDir()
	kport := 15000 + 10*instance()
	uasPort := kport
	trunks := fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}
  - {name: kamailio, uri: "sip:127.0.0.4:%d", trusted: [127.0.0.4/32], transit_to: [carrier]}`, uasPort, kport)
	var sbs []*SB
	var list strings.Builder
	for i := range n {
		sb := startSB(b, SBOptions{Trunks: trunks, Routes: `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1'}`,
			Log: "warn", MediaPorts: fmt.Sprintf("%d-%d", 40000+i*10000, 49999+i*10000), Quarantine: "500ms", Inactivity: "60s"})
		sbs = append(sbs, sb)
		fmt.Fprintf(&list, "1 sip:%s\n", sb.Addr())
	}
	startSipp(b, dir, "-sf", scenario(b, "bench_uas.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2))
	waitPort(b, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	startKamailioFront(b, kam, dir, kport, list.String())
	uac := writeScenario(b, "uac-kamailio-bench", sigTrustedInvite(sdp("sendrecv")),
		`<recv response="100" optional="true"/>`, `<recv response="180" optional="true"/>`, `<recv response="183" optional="true"/>`,
		`<recv response="200"/>`, uacAck("1"), `<pause milliseconds="500"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
	cpu := func() time.Duration {
		var t time.Duration
		for _, sb := range sbs {
			c, err := benchProcCPU(sb.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			t += c
		}
		return t
	}
	top, topCPU := 0, 0.0
	for _, rate := range rates {
		calls := rate * secs
		c0 := cpu()
		r := runSipp(b, dir, time.Duration(secs+60)*time.Second, "-sf", uac, fmt.Sprintf("127.0.0.4:%d", kport), "-i", "127.0.0.3",
			"-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
			"-s", "95551234", "-key", "user", "caller", "-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls),
			"-l", strconv.Itoa(rate*4), "-timeout", strconv.Itoa(secs+50)+"s")
		used := cpu() - c0
		fmt.Printf("  %d instance(s) at %d calls/s: %d successful, %d failed\n", n, rate, r.Stats.Successful, r.Stats.Failed)
		if r.Stats.Failed != 0 || r.Stats.Successful != calls {
			break
		}
		top, topCPU = rate, float64(used.Microseconds())/float64(calls)
	}
	return top, topCPU
}
