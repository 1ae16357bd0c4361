//go:build linux

package test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSignalingTLS is issue 10's "TLS signaling CPU per call vs UDP":
// a Go load client (sipp here has no TLS) places SB_BENCH_TLS_CALLS calls
// (default 2000) as user 1000 to the sipp trunk callee of the signaling
// benchmarks (after a quarter of that on each transport to warm up),
// from SB_BENCH_TLS_WORKERS concurrent UAs (default 8, each
// one call at a time), first over UDP, then over TLS (one long-lived
// connection per UA, as a registered phone keeps; handshakes are
// BenchmarkTLSHandshake's). Each call is INVITE, 407, ACK, INVITE with
// digest, 200, ACK, BYE, 200 with no hold time. It prints Switchboard's CPU
// (/proc/PID/stat) per call for each transport and their ratio; the callee
// leg is UDP in both runs, so the ratio is that of a whole call.
//
//	Go UA ×N ──UDP or TLS──► Switchboard ──UDP──► sipp UAS 127.0.0.2 (trunk)
func BenchmarkSignalingTLS(b *testing.B) {
	benchSkip(b)
	calls := benchIntEnv("SB_BENCH_TLS_CALLS", 2000, 10, 200000)
	workers := benchIntEnv("SB_BENCH_TLS_WORKERS", 8, 1, 64)
	sb, _, _, _, _ := benchSignalingSetupWith(b, func(o *SBOptions) { o.TLS = true })
	pid := sb.cmd.Process.Pid
	time.Sleep(time.Second)
	perCall := map[string]time.Duration{}
	// Warm up (heap growth, worker goroutines) on both transports first,
	// so that neither measured run pays for it.
	ok, failed := benchTLSRun(b, sb, "UDP", calls/4, workers)
	ok2, failed2 := benchTLSRun(b, sb, "TLS", calls/4, workers)
	done := ok + failed + ok2 + failed2
	sb.WaitCDRs(done, 30*time.Second)
	for _, tr := range []string{"UDP", "TLS"} {
		cpu0, err := benchProcCPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		ok, failed := benchTLSRun(b, sb, tr, calls, workers)
		done += ok + failed
		sb.WaitCDRs(done, 30*time.Second)
		cpu1, err := benchProcCPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		wall := time.Since(t0)
		perCall[tr] = (cpu1 - cpu0) / time.Duration(max(ok, 1))
		fmt.Printf("signaling over %s: %d calls (%d failed) in %.1f s (%.0f calls/s), Switchboard CPU %v, %.0f µs per call\n",
			tr, ok, failed, wall.Seconds(), float64(ok)/wall.Seconds(), cpu1-cpu0, float64(perCall[tr].Microseconds()))
		if failed > 0 {
			b.Errorf("%d of %d calls over %s failed", failed, calls, tr)
		}
	}
	fmt.Printf("signaling TLS vs UDP: %.0f µs vs %.0f µs of Switchboard CPU per call, ratio %.2f× (load avg %s)\n",
		float64(perCall["TLS"].Microseconds()), float64(perCall["UDP"].Microseconds()),
		float64(perCall["TLS"])/float64(max(perCall["UDP"], 1)), benchLoadAvg())
	b.ReportMetric(float64(perCall["TLS"].Microseconds()), "tls-µs/call")
	b.ReportMetric(float64(perCall["UDP"].Microseconds()), "udp-µs/call")
}

// benchTLSRun places calls over transport from workers UAs and reports
// how many ended with the BYE's 200 and how many did not.
func benchTLSRun(b *testing.B, sb *SB, transport string, calls, workers int) (ok, failed int) {
	var nOK, nFailed atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		n := calls / workers
		if w < calls%workers {
			n++
		}
		ua := benchUA(b, sb, transport)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if benchTLSCall(ua, sb.Users["1000"]) {
					nOK.Add(1)
				} else {
					nFailed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(nOK.Load()), int(nFailed.Load())
}

// benchUA is a raw UA over UDP, or over one TLS connection to the tls://
// listener (its self-signed certificate is not verified).
func benchUA(b *testing.B, sb *SB, transport string) *sigUA {
	if transport == "UDP" {
		return newSigUA(b, "127.0.0.3:0", sb.Addr())
	}
	return newSigTLSUA(b, fmt.Sprintf("127.0.0.1:%d", sb.TLSPort))
}

// benchTLSCall places one call to 95551234 as user 1000 and hangs it up;
// it reports whether the BYE got its 200.
func benchTLSCall(u *sigUA, pass string) bool {
	r := newSigReq("INVITE", "sip:95551234@127.0.0.1", "1000", "95551234")
	r.Body = sigSDP("8")
	u.send(r.text(u.transport, u.Local))
	res, raw := u.final(r, 10*time.Second)
	if res.StatusCode != 407 {
		return false
	}
	// RFC 3261 §17.1.1.3: the ACK of a non-2xx final reuses the branch.
	ack := *r
	ack.Method, ack.Body, ack.Headers = "ACK", "", nil
	ack.ToTag, _ = res.To().Params.Get("tag")
	u.send(ack.text(u.transport, u.Local))
	realm, nonce, opaque := challengeParams(raw, "Proxy-Authenticate")
	r.CSeq++
	r.Branch = ""
	r.Headers = append(r.Headers, strings.TrimSuffix(digestHeader("Proxy-Authorization", "1000", pass, realm, nonce, opaque, "INVITE", r.RURI), "\r\n"))
	u.send(r.text(u.transport, u.Local))
	res, _ = u.final(r, 10*time.Second)
	if res.StatusCode != 200 {
		return false
	}
	bye, _ := u.ackAndBye(r, res)
	return bye != nil && bye.StatusCode == 200
}
