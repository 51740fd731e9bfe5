package multi

import "syscall"

// sysProcAttr kills an instance when the test process dies (a timeout, a
// ^C), so that none is left running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
