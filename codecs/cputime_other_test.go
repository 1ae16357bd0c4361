//go:build !linux

package codecs

import "time"

// sigThreadCPU is not measured off Linux; benchmarks then report 0.
func sigThreadCPU() time.Duration { return 0 }
