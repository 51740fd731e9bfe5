package proc

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Samples of /proc/<pid>/stat as Linux 6.x writes them (52 fields).
const (
	statNginx  = "48213 (nginx) S 48212 48212 48170 0 -1 4194624 1530 0 0 0 1234 567 0 0 20 0 1 0 9123456 62644224 2311 18446744073709551615 94230119346176 94230120380569 140725704543152 0 0 0 0 1073745920 402745863 0 0 0 17 1 0 0 0 0 0 94230120618640 94230120755600 94230136299520 140725704548176 140725704548226 140725704548226 140725704548329 0\n"
	statSpaces = "7 (tmux: server (1) ) R 1 7 7 0 -1 4194560 400 0 0 0 15 4 0 0 20 0 3 0 1200 9846784 900 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	statParen  = "99 ((sd-pam)) S 98 98 98 0 -1 1077936448 50 0 0 0 0 1 0 0 20 0 1 0 800 30000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"
	statKernel = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 10 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
)

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     Stat
		err      string
	}{
		{name: "nginx worker", in: statNginx, want: Stat{PID: 48213, Comm: "nginx", State: 'S', PPID: 48212, UTime: 1234, STime: 567, Threads: 1}},
		{name: "spaces and parentheses in the name", in: statSpaces, want: Stat{PID: 7, Comm: "tmux: server (1) ", State: 'R', PPID: 1, UTime: 15, STime: 4, Threads: 3}},
		{name: "name in double parentheses", in: statParen, want: Stat{PID: 99, Comm: "(sd-pam)", State: 'S', PPID: 98, UTime: 0, STime: 1, Threads: 1}},
		{name: "kernel thread", in: statKernel, want: Stat{PID: 2, Comm: "kthreadd", State: 'S', PPID: 0, Threads: 1}},
		{name: "empty", in: "", err: "no command name"},
		{name: "no closing parenthesis", in: "12 (abc S 1 2", err: "no command name"},
		{name: "bad pid", in: "x1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18", err: "pid"},
		{name: "truncated", in: "12 (a) S 1 2 3 4 5 6 7 8 9 10", err: "fields after the name"},
		{name: "bad utime", in: "12 (a) S 1 2 3 4 5 6 7 8 9 10 -4 12 13 14 15 16 17 18", err: "field 14"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

const statusSample = `Name:	llmux
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Pid:	4242
PPid:	4200
VmPeak:	 1282344 kB
VmSize:	 1282344 kB
VmLck:	       0 kB
VmHWM:	   48212 kB
VmRSS:	   31000 kB
RssAnon:	   20000 kB
Threads:	7
`

func TestParseStatus(t *testing.T) {
	got, err := ParseStatus([]byte(statusSample))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{RSS: 31000 << 10, HWM: 48212 << 10}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// A kernel thread has no Vm lines.
	if got, err := ParseStatus([]byte("Name:\tkthreadd\nState:\tS (sleeping)\n")); err != nil || got != (Status{}) {
		t.Errorf("kernel thread: %+v, %v", got, err)
	}
	if _, err := ParseStatus([]byte("VmRSS:\t12 MB\n")); err == nil || !strings.Contains(err.Error(), "VmRSS") {
		t.Errorf("a size not in kB: err = %v", err)
	}
}

// TestReadSelf reads this test process: its CPU time grows with work, and
// its memory is there.
func TestReadSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	pid := os.Getpid()
	before, err := ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if before.PID != pid || before.Threads < 1 {
		t.Fatalf("stat of self: %+v", before)
	}
	hz := ClockTicks()
	// Burn CPU until at least three ticks have passed.
	deadline := time.Now().Add(5 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
		now, err := ReadStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if now.Ticks() >= before.Ticks()+3 {
			break
		}
	}
	after, _ := ReadStat(pid)
	if after.Ticks() < before.Ticks()+3 {
		t.Errorf("CPU time did not grow: %d → %d ticks (%d)", before.Ticks(), after.Ticks(), x)
	}
	if d := TicksToDuration(after.Ticks()-before.Ticks(), hz); d < 3*time.Second/time.Duration(hz) {
		t.Errorf("duration %v", d)
	}
	st, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.HWM < st.RSS {
		t.Errorf("status of self: %+v", st)
	}
}

// TestTree finds a child process and adds it to the sample.
func TestTree(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	kids, err := Descendants(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range kids {
		found = found || k == cmd.Process.Pid
	}
	if !found {
		t.Fatalf("child %d not among descendants %v", cmd.Process.Pid, kids)
	}
	s, err := Tree{Root: os.Getpid()}.Read()
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs < 2 || s.RSS <= 0 {
		t.Errorf("sample %+v, want at least two processes", s)
	}
	if _, err := (Tree{Root: 1 << 30}).Read(); err == nil {
		t.Error("reading a missing process succeeded")
	}
}

func TestClockTicks(t *testing.T) {
	if hz := ClockTicks(); hz <= 0 || hz > 10000 {
		t.Errorf("ClockTicks() = %d", hz)
	}
}

// TestPinSelf pins the test process to every CPU it may use, which changes
// nothing for the other tests.
func TestPinSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	all, err := AllowedCPUs()
	if err != nil || len(all) != runtime.NumCPU() {
		t.Fatalf("AllowedCPUs() = %v, %v; NumCPU %d", all, err, runtime.NumCPU())
	}
	if err := PinSelf(all); err != nil {
		t.Fatal(err)
	}
	if err := PinSelf([]int{-1}); err == nil {
		t.Error("pinning to CPU -1 succeeded")
	}
}

func TestParseSystemCPU(t *testing.T) {
	const sample = "cpu  3306950 1180 1133540 12418880 6531 0 79441 0 0 0\ncpu0 1653475 590 566770 6209440 3265 0 39720 0 0 0\nintr 1 2 3\n"
	got, err := ParseSystemCPU([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := CPUTimes{User: 3306950, Nice: 1180, System: 1133540, Idle: 12418880, IOWait: 6531, SoftIRQ: 79441}
	if got != want || got.Tasks() != 3306950+1180+1133540 {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 x 4 5 6 7 8\n", "cpu 1 2\n"} {
		if _, err := ParseSystemCPU([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if runtime.GOOS == "linux" {
		if c, err := ReadSystemCPU(); err != nil || c.Tasks() == 0 {
			t.Errorf("ReadSystemCPU: %+v, %v", c, err)
		}
	}
}
