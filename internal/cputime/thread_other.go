//go:build !linux

package cputime

import "time"

// Thread is not measured off Linux; benchmarks then report 0.
func Thread() time.Duration { return 0 }
