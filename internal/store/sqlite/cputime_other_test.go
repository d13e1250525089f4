//go:build !unix

package sqlite

import "time"

// processCPU is not measured here; benchmarks then omit cpu-ns/op.
func processCPU() time.Duration { return 0 }
