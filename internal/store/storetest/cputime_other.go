//go:build !unix

package storetest

import "time"

// ProcessCPU is not measured here; benchmarks then omit cpu-ns/op.
func ProcessCPU() time.Duration { return 0 }
