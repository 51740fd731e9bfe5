// Package proc reads what the benchmark measures about a process from
// Linux's /proc: CPU time (utime + stime of /proc/<pid>/stat), resident
// memory and its peak (VmRSS and VmHWM of /proc/<pid>/status), and a
// process's descendants, so that nginx's master and workers are measured
// together. It also pins the benchmark's own threads to CPUs.
//
// It exists apart from the load generator so that the parsing can be tested
// on recorded samples. It imports only the standard library, and nothing of
// llmux: the benchmark measures llmux from the outside.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Stat is the part of /proc/<pid>/stat the benchmark uses.
type Stat struct {
	// PID is the process id (field 1).
	PID int
	// Comm is the executable name without the parentheses (field 2); it may
	// itself contain spaces and parentheses.
	Comm string
	// State is R, S, D, Z, … (field 3).
	State byte
	// PPID is the parent's process id (field 4).
	PPID int
	// UTime and STime are the CPU time spent in user and kernel mode, in
	// clock ticks (fields 14 and 15).
	UTime, STime uint64
	// Threads is the number of threads (field 20).
	Threads int
}

// Ticks returns UTime + STime.
func (s Stat) Ticks() uint64 { return s.UTime + s.STime }

// ParseStat parses the contents of /proc/<pid>/stat. The command name is
// taken up to the last ')', since it may contain spaces and parentheses.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	open := bytes.IndexByte(b, '(')
	shut := bytes.LastIndexByte(b, ')')
	if open < 0 || shut < open {
		return s, fmt.Errorf("proc: stat %q: no command name in parentheses", truncate(b))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return s, fmt.Errorf("proc: stat: pid: %w", err)
	}
	s.PID, s.Comm = pid, string(b[open+1:shut])
	// fields[0] is field 3 (state).
	fields := strings.Fields(string(b[shut+1:]))
	if len(fields) < 18 {
		return s, fmt.Errorf("proc: stat of %d: %d fields after the name, want at least 18", pid, len(fields))
	}
	if len(fields[0]) != 1 {
		return s, fmt.Errorf("proc: stat of %d: state %q", pid, fields[0])
	}
	s.State = fields[0][0]
	nums := []struct {
		field int
		dst   any
	}{{4, &s.PPID}, {14, &s.UTime}, {15, &s.STime}, {20, &s.Threads}}
	for _, n := range nums {
		v := fields[n.field-3]
		switch d := n.dst.(type) {
		case *int:
			*d, err = strconv.Atoi(v)
		case *uint64:
			*d, err = strconv.ParseUint(v, 10, 64)
		}
		if err != nil {
			return s, fmt.Errorf("proc: stat of %d: field %d: %w", pid, n.field, err)
		}
	}
	return s, nil
}

// ReadStat reads and parses /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

// Status is the part of /proc/<pid>/status the benchmark uses. Sizes are in
// bytes.
type Status struct {
	// RSS is the resident set size now (VmRSS).
	RSS int64
	// HWM is the peak resident set size, the "high water mark" (VmHWM).
	HWM int64
}

// ParseStatus parses the contents of /proc/<pid>/status. Kernel threads
// have no Vm lines; both sizes are then zero.
func ParseStatus(b []byte) (Status, error) {
	var s Status
	for line := range bytes.Lines(b) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &s.RSS
		case "VmHWM":
			dst = &s.HWM
		default:
			continue
		}
		f := strings.Fields(string(val))
		if len(f) != 2 || f[1] != "kB" {
			return s, fmt.Errorf("proc: status: %s: %q, want a size in kB", key, bytes.TrimSpace(val))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return s, fmt.Errorf("proc: status: %s: %w", key, err)
		}
		*dst = n << 10
	}
	return s, nil
}

// ReadStatus reads and parses /proc/<pid>/status.
func ReadStatus(pid int) (Status, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(b)
}

// Descendants returns pid's children, grandchildren and so on, found by
// the parent ids in /proc/*/stat.
func Descendants(pid int) ([]int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		st, err := ReadStat(p)
		if err != nil {
			continue // exited meanwhile
		}
		parent[p] = st.PPID
	}
	var out []int
	frontier := []int{pid}
	for len(frontier) > 0 {
		var next []int
		for p, pp := range parent {
			for _, f := range frontier {
				if pp == f {
					next = append(next, p)
				}
			}
		}
		out = append(out, next...)
		frontier = next
	}
	return out, nil
}

// Sample is one reading of a process tree.
type Sample struct {
	// Ticks is the CPU time of the tree's live processes, in clock ticks.
	Ticks uint64
	// RSS and HWM are summed over the tree's processes, in bytes. Pages
	// shared between them (nginx's master and worker) are counted once per
	// process.
	RSS, HWM int64
	// Procs is how many processes were read.
	Procs int
}

// Tree names a process and all its descendants: one process for llmux or a
// Go reverse proxy, the master and its workers for nginx.
type Tree struct{ Root int }

// Read samples the tree. The root must be alive; a descendant that exits
// while being read is skipped.
func (t Tree) Read() (Sample, error) {
	var s Sample
	kids, err := Descendants(t.Root)
	if err != nil {
		return s, err
	}
	for i, pid := range append([]int{t.Root}, kids...) {
		st, err := ReadStat(pid)
		if err == nil {
			var m Status
			m, err = ReadStatus(pid)
			s.Ticks += st.Ticks()
			s.RSS += m.RSS
			s.HWM += m.HWM
			s.Procs++
		}
		if err != nil && i == 0 {
			return s, fmt.Errorf("proc: process %d: %w", pid, err)
		}
	}
	return s, nil
}

// ClockTicks returns the kernel's clock ticks per second (getconf CLK_TCK),
// the unit of utime and stime; 100 when getconf is missing.
func ClockTicks() int {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// TicksToDuration converts clock ticks at hz per second to a duration.
func TicksToDuration(ticks uint64, hz int) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(hz)
}

// ErrNoAffinity is returned where threads cannot be pinned to CPUs.
var ErrNoAffinity = errors.New("proc: CPU affinity is not supported on this system")

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// CPUTimes is the first ("cpu") line of /proc/stat: the whole machine's
// time by kind since boot, in clock ticks.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal uint64
}

// Tasks returns the time spent running tasks: user, nice and system. It
// leaves out interrupt time, which /proc/<pid>/stat does not charge to
// any process either.
func (c CPUTimes) Tasks() uint64 { return c.User + c.Nice + c.System }

// ParseSystemCPU parses the "cpu" line of /proc/stat.
func ParseSystemCPU(b []byte) (CPUTimes, error) {
	var c CPUTimes
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return c, fmt.Errorf("proc: /proc/stat: first line %q is not the cpu total", truncate(line))
	}
	for i, dst := range []*uint64{&c.User, &c.Nice, &c.System, &c.Idle, &c.IOWait, &c.IRQ, &c.SoftIRQ, &c.Steal} {
		v, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return c, fmt.Errorf("proc: /proc/stat: cpu field %d: %w", i+1, err)
		}
		*dst = v
	}
	return c, nil
}

// ReadSystemCPU reads the machine's CPU times.
func ReadSystemCPU() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return ParseSystemCPU(b)
}
