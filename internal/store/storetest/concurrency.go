package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var concurrencyTests = []test{
	{"ConcurrentUsageInsertsLoseNothing", testConcurrentInserts},
	{"ConcurrentMutationsRevisionsInCommitOrder", testConcurrentMutations},
	{"ConcurrentDuplicateHashOneWins", testConcurrentDuplicateHash},
}

// testConcurrentInserts: many goroutines insert batches while others read;
// every record arrives exactly once and no call fails (on SQLite: no
// "database is locked").
func testConcurrentInserts(t *testing.T, s store.Store) {
	const writers, batches = 12, 20
	var (
		wg      sync.WaitGroup
		total   atomic.Int64
		tokens  atomic.Int64
		errs    = make(chan error, writers+4)
		stop    = make(chan struct{})
		readers sync.WaitGroup
	)
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if r%2 == 0 {
					_, err = s.AggregateUsage(ctx(t), store.AggregateQuery{GroupBy: []store.Dimension{store.DimDay},
						Filter: store.UsageFilter{KeyID: "key_3"}})
				} else {
					_, err = s.ListUsage(ctx(t), store.ListQuery{Limit: 50})
				}
				if err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				n := 1 + (w*7+b*13)%30
				batch := make([]store.UsageRecord, n)
				for i := range batch {
					id := (w*batches+b)*100 + i
					batch[i] = record(id, day.Add(time.Duration(id)*time.Millisecond))
					batch[i].RequestID = fmt.Sprintf("w%d-b%d-r%d", w, b, i)
					batch[i].InputTokens = int64(id)
					tokens.Add(int64(id))
				}
				if err := s.InsertUsage(ctx(t), batch); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
				total.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	a, err := s.AggregateUsage(ctx(t), store.AggregateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Requests != total.Load() || a[0].InputTokens != tokens.Load() {
		t.Fatalf("stored %d records with %d tokens; inserted %d with %d", a[0].Requests, a[0].InputTokens, total.Load(), tokens.Load())
	}
	seen := map[string]bool{}
	for before := int64(0); ; {
		page := list(t, s, store.ListQuery{Limit: 5000, BeforeID: before})
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if seen[r.RequestID] {
				t.Fatalf("record %s stored twice", r.RequestID)
			}
			seen[r.RequestID] = true
			before = r.ID
		}
	}
	if int64(len(seen)) != total.Load() {
		t.Fatalf("%d distinct records, want %d", len(seen), total.Load())
	}
}

// testConcurrentMutations: while goroutines create keys and write settings,
// pollers follow the change log. A poller must never see a revision appear
// below one it has already passed: revisions become visible in order, so
// "Changes(after)" never skips a change that commits late.
func testConcurrentMutations(t *testing.T, s store.Store) {
	const writers, each, pollers = 8, 15, 3
	var wg, pw sync.WaitGroup
	errs := make(chan error, writers+pollers)
	done := make(chan struct{})
	seen := make([][]int64, pollers)
	for p := range pollers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			var after int64
			for {
				// Once every writer has finished, one more empty look ends it.
				finished := isClosed(done)
				changes, err := s.Changes(ctx(t), after, 7)
				if err != nil {
					errs <- err
					return
				}
				for _, c := range changes {
					if c.Revision != after+1 {
						errs <- fmt.Errorf("poller %d: after revision %d came %d", p, after, c.Revision)
						return
					}
					after = c.Revision
					seen[p] = append(seen[p], c.Revision)
				}
				if len(changes) == 0 {
					if finished {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var err error
				if i%3 == 2 {
					_, err = s.PutSetting(ctx(t), fmt.Sprintf("w%d/%d", w, i), []byte("v"), 0)
				} else {
					_, err = s.CreateKey(ctx(t), newKey(fmt.Sprintf("w%d-k%d", w, i)))
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	pw.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	const n = writers * each
	if got := revision(t, s); got != n {
		t.Fatalf("Revision = %d, want %d", got, n)
	}
	for p, revs := range seen {
		if len(revs) != n {
			t.Errorf("poller %d saw %d changes, want %d", p, len(revs), n)
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func testConcurrentDuplicateHash(t *testing.T, s store.Store) {
	const n = 12
	var wg sync.WaitGroup
	var ok, conflict atomic.Int32
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := newKey("same-secret")
			k.Name = fmt.Sprintf("attempt %d", i)
			_, err := s.CreateKey(ctx(t), k)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if ok.Load() != 1 || conflict.Load() != n-1 {
		t.Fatalf("%d created, %d conflicts; want 1 and %d", ok.Load(), conflict.Load(), n-1)
	}
	if got := revision(t, s); got != 1 {
		t.Errorf("Revision = %d, want 1", got)
	}
}
