package proc

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// PinSelf restricts every thread of this process to cpus; threads started
// later inherit the mask from the thread that starts them. Threads are
// walked twice, to catch one created during the first walk.
func PinSelf(cpus []int) error {
	var mask [16]uint64 // 1024 CPUs, the kernel's default cpu_set_t
	for _, c := range cpus {
		if c < 0 || c >= len(mask)*64 {
			return fmt.Errorf("proc: CPU %d out of range", c)
		}
		mask[c/64] |= 1 << (c % 64)
	}
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
			if errno != 0 && errno != syscall.ESRCH {
				return fmt.Errorf("proc: pinning thread %d: %w", tid, errno)
			}
		}
	}
	return nil
}

// AllowedCPUs returns the CPUs this process may run on, in order.
func AllowedCPUs() ([]int, error) {
	var mask [16]uint64
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	if errno != 0 {
		return nil, fmt.Errorf("proc: reading the CPU affinity: %w", errno)
	}
	var cpus []int
	for i := range len(mask) * 64 {
		if mask[i/64]&(1<<(i%64)) != 0 {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}
