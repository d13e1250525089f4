package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTick = 100

// ProcSample is what /proc says about a process at one moment.
type ProcSample struct {
	CPU time.Duration // utime + stime, all threads
	RSS int64         // VmRSS in bytes
	// Writes counts the write-type syscalls (write, writev, pwrite;
	// syscw in /proc/PID/io), all threads; -1 where /proc/PID/io cannot
	// be read. Load-independent: writes per delivery tell how well the
	// server coalesces, whatever else runs on the machine.
	Writes int64
}

// ReadProc samples /proc/PID/stat, /proc/PID/status and /proc/PID/io.
func ReadProc(pid int) (ProcSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis.
	rp := bytes.LastIndexByte(stat, ')')
	if rp < 0 {
		return ProcSample{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := bytes.Fields(stat[rp+1:])
	if len(f) < 13 {
		return ProcSample{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return ProcSample{}, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	s := ProcSample{CPU: time.Duration(ut+st) * time.Second / clockTick}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, err
	}
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(string(f[0]), 10, 64)
				if err != nil {
					return ProcSample{}, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, v)
				}
				s.RSS = kb << 10
			}
		}
	}
	s.Writes = -1
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for line := range bytes.SplitSeq(io, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("syscw:")); ok {
				if n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err == nil {
					s.Writes = n
				}
			}
		}
	}
	return s, nil
}

// selfCPU is the generator's own user+system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
