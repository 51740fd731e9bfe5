package usage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
)

// eachBackend runs f once per real store, each in a fresh database
// (PostgreSQL skipped loudly without LLMUX_TEST_POSTGRES_DSN).
func eachBackend(t *testing.T, f func(t *testing.T, st store.Store)) {
	for _, b := range testdb.Backends {
		t.Run(b, func(t *testing.T) { f(t, openStore(t, b)) })
	}
}

func openStore(tb testing.TB, backend string) store.Store {
	st, _ := testdb.Open(tb, backend)
	return st
}

func openSQLite(tb testing.TB) store.Store { return openStore(tb, "sqlite") }

func openPostgres(tb testing.TB) store.Store { return openStore(tb, "postgres") }

// rec returns a valid record numbered i.
func rec(i int, at time.Time) store.UsageRecord {
	return store.UsageRecord{
		Time:           at,
		RequestID:      fmt.Sprintf("req-%06d", i),
		KeyID:          fmt.Sprintf("key_%d", i%5),
		RequestedModel: "smart",
		Provider:       "openai",
		UpstreamModel:  "gpt-4o-mini",
		ProtocolIn:     "openai",
		ProtocolOut:    "openai",
		InputTokens:    int64(100 + i%100),
		OutputTokens:   int64(10 + i%50),
		CostUSD:        0.0001,
		Latency:        250 * time.Millisecond,
		Status:         200,
		Attempts:       1,
	}
}

// stored returns every record in st, oldest written first, with content.
func stored(t testing.TB, st store.UsageStore) []store.UsageRecord {
	t.Helper()
	var all []store.UsageRecord
	q := store.ListQuery{Limit: store.MaxListLimit, WithContent: true}
	for {
		page, err := st.ListUsage(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < q.EffectiveLimit() {
			break
		}
		q.BeforeID = page[len(page)-1].ID
	}
	slices.Reverse(all)
	return all
}

// requestIDs returns the records' request IDs in order.
func requestIDs(recs []store.UsageRecord) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].RequestID
	}
	return out
}

// checkOrdered fails unless the records' request IDs strictly increase.
func checkOrdered(t *testing.T, recs []store.UsageRecord) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if recs[i].RequestID <= recs[i-1].RequestID {
			t.Fatalf("records out of order at %d: %s after %s", i, recs[i].RequestID, recs[i-1].RequestID)
		}
	}
}

// countingStore counts the InsertUsage calls reaching a real store.
type countingStore struct {
	store.UsageStore
	calls, records atomic.Int64
	mu             sync.Mutex
	sizes          []int
}

func (c *countingStore) InsertUsage(ctx context.Context, recs []store.UsageRecord) error {
	c.calls.Add(1)
	c.records.Add(int64(len(recs)))
	c.mu.Lock()
	c.sizes = append(c.sizes, len(recs))
	c.mu.Unlock()
	return c.UsageStore.InsertUsage(ctx, recs)
}

// flakyStore fails its first failFirst InsertUsage calls, and every call
// while down is set, as a database that is unreachable would.
type flakyStore struct {
	store.UsageStore
	failFirst int
	down      atomic.Bool
	calls     atomic.Int64
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused (test)")

func (f *flakyStore) InsertUsage(ctx context.Context, recs []store.UsageRecord) error {
	if n := f.calls.Add(1); f.down.Load() || n <= int64(f.failFirst) {
		return errUnreachable
	}
	return f.UsageStore.InsertUsage(ctx, recs)
}

// poisonStore refuses a batch holding a record with KeyID "poison" with
// store.ErrInvalid, as a store with a stricter check than Validate would:
// the whole batch fails and nothing of it is written.
type poisonStore struct {
	store.UsageStore
}

func (p *poisonStore) InsertUsage(ctx context.Context, recs []store.UsageRecord) error {
	for i := range recs {
		if recs[i].KeyID == "poison" {
			return fmt.Errorf("usage record %d: key_id: poisoned: %w", i, store.ErrInvalid)
		}
	}
	return p.UsageStore.InsertUsage(ctx, recs)
}

// nullStore is the no-database baseline: InsertUsage only counts.
type nullStore struct {
	store.UsageStore // nil: only InsertUsage may be called
	calls, records   atomic.Int64
}

func (n *nullStore) InsertUsage(_ context.Context, recs []store.UsageRecord) error {
	n.calls.Add(1)
	n.records.Add(int64(len(recs)))
	return nil
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// quietLogger discards logs.
var quietLogger = slog.New(slog.DiscardHandler)

// eventually polls cond until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
