//go:build !unix

package cputime

import "time"

// Process is not measured here; benchmarks then report 0.
func Process() time.Duration { return 0 }
