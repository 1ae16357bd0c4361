package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestThreadAndProcess: a busy loop of 50 ms shows as at least 20 ms of
// the thread's CPU and of the process's.
func TestThreadAndProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is Linux's")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, p0 := Thread(), Process()
	x := 0
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		x++
	}
	dt, dp := Thread()-t0, Process()-p0
	t.Logf("thread %v, process %v over a 50 ms loop (%d turns)", dt, dp, x)
	// The two clocks are kept apart by the kernel and may differ by a tick.
	if dt < 20*time.Millisecond || dp < 20*time.Millisecond {
		t.Errorf("thread %v, process %v: want the loop's CPU in both", dt, dp)
	}
}
