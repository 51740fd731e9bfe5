package responses

import (
	"fmt"
	"sync"
)

// Deterministic makes ids and times reproducible for golden files: ids count
// up per prefix, and the clock stands still. It returns the function that
// restores the real ones.
func Deterministic() (restore func()) {
	var mu sync.Mutex
	counts := map[string]int{}
	oldID, oldNow := newID, now
	newID = func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		counts[prefix]++
		return fmt.Sprintf("%stest%04d", prefix, counts[prefix])
	}
	now = func() int64 { return 1767225600 } // 2026-01-01
	return func() { newID, now = oldID, oldNow }
}
