package codecs

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD (getrusage(2)), which package
// syscall does not name.
const rusageThread = 1

// sigThreadCPU returns the CPU time (user + system) used so far by the
// calling OS thread. Benchmarks lock their goroutine to its thread and
// report CPU time per op beside wall time, because on a shared machine the
// wall time also counts the time other processes held the core.
func sigThreadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
