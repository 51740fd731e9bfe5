package testkit

import (
	"testing"
	"time"
)

// ReportCPU makes a benchmark report the CPU time (user and system, every
// thread of the process) it spent per operation, as "cpu-ns/op". On a
// shared machine that figure is steadier than the elapsed time, which
// includes the time the benchmark waited for a core. Call it before the
// loop and defer the function it returns:
//
//	defer testkit.ReportCPU(b)()
func ReportCPU(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		end, ok2 := cpuTime()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// cpuTime is the process's CPU time so far; false where it is unknown.
var cpuTime = func() (time.Duration, bool) { return 0, false }
