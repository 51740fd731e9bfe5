package ollama

import "time"

// SetNow fixes the package clock for a test and returns the function that
// restores it.
func SetNow(f func() time.Time) (restore func()) {
	old := now
	now = f
	return func() { now = old }
}
