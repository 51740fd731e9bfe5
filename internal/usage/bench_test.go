package usage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/usage"
)

// benchRecords returns n records with distinct request IDs, as a gateway's
// traffic has (the same record over and over would flatter the indexes).
func benchRecords(n int) []store.UsageRecord {
	out := make([]store.UsageRecord, n)
	t0 := time.Now()
	for i := range out {
		out[i] = rec(i, t0)
		out[i].RequestID = fmt.Sprintf("req_%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	return out
}

// BenchmarkWriter measures the usage writer end to end, in records/s: b.N
// records through Add, then Close, which returns once all are stored, so
// the figure is what the store sustains through the writer. Targets:
//
//	store=none      an InsertUsage that only counts: the writer's own
//	                ceiling, for ratios that compare across machines
//	store=sqlite    the real SQLite store, in a temporary file
//	store=postgres  the real PostgreSQL store, in a fresh schema
//	                (skipped without LLMUX_TEST_POSTGRES_DSN)
//
// at batch sizes 1, 100 and 500 (the default).
func BenchmarkWriter(b *testing.B) {
	targets := []struct {
		name string
		open func(testing.TB) store.UsageStore
	}{
		{"none", func(testing.TB) store.UsageStore { return &nullStore{} }},
		{"sqlite", func(tb testing.TB) store.UsageStore { return openSQLite(tb) }},
		{"postgres", func(tb testing.TB) store.UsageStore { return openPostgres(tb) }},
	}
	recs := benchRecords(4096)
	for _, tg := range targets {
		for _, batch := range []int{1, 100, 500} {
			b.Run(fmt.Sprintf("store=%s/batch=%d", tg.name, batch), func(b *testing.B) {
				st := tg.open(b)
				w := usage.NewWriter(st, usage.WriterOptions{BatchSize: batch, Logger: quietLogger})
				ctx := context.Background()
				t0 := time.Now()
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					r := recs[i%len(recs)]
					r.Time = t0.Add(time.Duration(i) * time.Microsecond)
					w.Add(r)
					// Bound the backlog (and the benchmark's memory) well
					// below MaxPending: wait for the store instead.
					if i%65536 == 65535 && w.Stats().Pending > 200_000 {
						if err := w.Flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if s := w.Stats(); s.Written != int64(b.N) {
					b.Fatalf("wrote %d of %d records: %+v", s.Written, b.N, s)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkAdd measures what Add costs the request path, with the writer
// keeping up (as it does at any real request rate): the loop is given time
// to drain, outside the timed region, whenever more than a few batches wait.
//
//	serial           content stripped (the default)
//	content          LogContent on, a 2.5 KB prompt and completion kept
//	content-capped   LogContent on, a 1 MiB prompt cut to 64 KiB
//	parallel         GOMAXPROCS goroutines adding flat out, never paced: the
//	                 lock's contention, and (metric "dropped") how far a
//	                 tight loop outruns the writer on this machine
func BenchmarkAdd(b *testing.B) {
	r := benchRecords(1)[0]
	r.Prompt, r.Completion = strings.Repeat("p", 2048), strings.Repeat("c", 512)
	huge := r
	huge.Prompt = strings.Repeat("p", 1<<20)
	ctx := context.Background()
	paced := func(b *testing.B, o usage.WriterOptions, r store.UsageRecord) {
		o.Logger = quietLogger
		w := usage.NewWriter(&nullStore{}, o)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			w.Add(r)
			if i%usage.DefaultBatchSize == 0 && w.Stats().Pending > 4*usage.DefaultBatchSize {
				b.StopTimer()
				if err := w.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
		b.StopTimer()
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) { paced(b, usage.WriterOptions{}, r) })
	b.Run("content", func(b *testing.B) { paced(b, usage.WriterOptions{LogContent: true}, r) })
	b.Run("content-capped", func(b *testing.B) { paced(b, usage.WriterOptions{LogContent: true}, huge) })
	b.Run("parallel", func(b *testing.B) {
		w := usage.NewWriter(&nullStore{}, usage.WriterOptions{MaxPending: 100_000, Logger: quietLogger})
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.Add(r)
			}
		})
		b.StopTimer()
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(w.Stats().Dropped)/float64(b.N), "dropped/op")
	})
}
