//go:build unix

package storetest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time this process has used. Benchmarks report it
// per operation because wall time on a shared two-core machine says more
// about the neighbours than about the store.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
