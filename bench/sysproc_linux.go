package bench

import "syscall"

// sysProcAttr kills a gateway when the benchmark dies, so that none is
// left running after an interrupted run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
