//go:build !linux

package proc

// PinSelf is not supported outside Linux.
func PinSelf(cpus []int) error { return ErrNoAffinity }

// AllowedCPUs is not supported outside Linux.
func AllowedCPUs() ([]int, error) { return nil, ErrNoAffinity }
