package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// cpuSample is the CPU time (user and system) used so far by this
// process (worker, NATS server and the bench) and by the embedded S3
// server's process, which is a child of its own.
type cpuSample struct {
	self, s3 time.Duration
	s3OK     bool
}

// sampleCPU reads the CPU times; s3pid 0 (external servers) reads only
// this process's.
func sampleCPU(s3pid int) cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if s3pid > 0 {
		s.s3, s.s3OK = procCPU(s3pid)
	}
	return s
}

// procCPU is the user plus system time of process pid, from
// /proc/PID/stat (10 ms resolution).
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * time.Second / userHZ, true
}

// procHWMMiB is the peak resident set (VmHWM) of process pid, in MiB; 0
// when unknown.
func procHWMMiB(pid int) float64 { return procStatusFieldMiB(pid, "VmHWM") }

// procStatusFieldMiB reads a kB field of /proc/PID/status (VmRSS,
// VmHWM…) in MiB; 0 when unknown.
func procStatusFieldMiB(pid int, field string) float64 {
	return procStatusField(strconv.Itoa(pid), field) / 1024
}

// setCPU fills in r's CPU time per job from samples taken before and
// after its run.
func (r *benchRun) setCPU(before, after cpuSample) {
	if r.Jobs == 0 {
		return
	}
	perJob := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(r.Jobs) }
	r.CartaCPUms = perJob(after.self - before.self)
	if before.s3OK && after.s3OK {
		r.S3CPUms = perJob(after.s3 - before.s3)
	}
}
