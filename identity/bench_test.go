package identity

import (
	"context"
	"runtime"
	"testing"

	"github.com/switchboard/switchboard/identity/stitest"
	"github.com/switchboard/switchboard/internal/cputime"
)

// cpuMicros is the calling thread's CPU time in µs: the benchmarks lock
// their goroutine to its thread, so that the figure is the work's own CPU,
// not the wall time other processes on a shared machine took.
func cpuMicros() float64 { return float64(cputime.Thread()) / 1e3 }

// BenchmarkSign is the signing cost of one call: a shaken PASSporT
// (ES256) and its Identity header. µs-cpu/call is CPU per call.
func BenchmarkSign(b *testing.B) {
	f := newFixture(b, stitest.Options{})
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	t0 := cpuMicros()
	for b.Loop() {
		if _, err := f.signer.Sign("12155551212", "12155551213", AttestFull); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuMicros()-t0)/float64(b.N), "µs-cpu/call")
}

// BenchmarkVerify is the verification cost of one call with the
// certificate cache warm: header parse, chain check against the trust
// anchor, ES256 signature, claim checks. µs-cpu/call is CPU per call.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, stitest.Options{})
	s, err := f.signer.Sign("12155551212", "12155551213", AttestFull)
	if err != nil {
		b.Fatal(err)
	}
	v := f.verifier(nil)
	req := Request{Identity: []string{s.Header}, Orig: []string{"12155551212"}, Dest: []string{"12155551213"}}
	if res := v.Verify(context.Background(), req); res.Verstat != VerstatPassed {
		b.Fatal(res)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	t0 := cpuMicros()
	for b.Loop() {
		if res := v.Verify(context.Background(), req); res.Verstat != VerstatPassed {
			b.Fatal(res)
		}
	}
	b.ReportMetric((cpuMicros()-t0)/float64(b.N), "µs-cpu/call")
}
