// Package cputime reads CPU time for benchmarks: on a shared machine the
// wall time of a loop also counts the time other processes held the core,
// so the project's benchmarks report the CPU their work used instead.
//
//	Thread()  the calling OS thread's user + system time (Linux
//	          getrusage RUSAGE_THREAD; 0 elsewhere): lock the goroutine
//	          to its thread (runtime.LockOSThread) around the loop
//	Process() the whole process's (getrusage RUSAGE_SELF), for work
//	          that runs on goroutines beside the benchmark's
package cputime
