package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

// BatchSizes are the usage batch sizes Bench measures.
var BatchSizes = []int{1, 100, 1000}

// Bench measures usage-writer throughput: InsertUsage of batches of
// BatchSizes records, reported as records/s, beside a baseline that only
// encodes the same records to JSON in memory (what a writer with no
// database would do), so that figures from different machines compare as
// ratios. Each insert benchmark runs on a store of its own.
//
//	insert/batch=N         one InsertUsage call of N records per op
//	insert-parallel/batch=N  the same from GOMAXPROCS goroutines (several
//	                       instances or writers sharing the database)
//	baseline-json/batch=N  json.Encoder over the same N records per op
func Bench(b *testing.B, open Opener) {
	for _, n := range BatchSizes {
		batch := benchRecords(n)
		b.Run(fmt.Sprintf("baseline-json/batch=%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			fresh := freshener(batch)
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				fresh()
				buf.Reset()
				for i := range batch {
					if err := enc.Encode(&batch[i]); err != nil {
						b.Fatal(err)
					}
				}
				ops++
			}
			reportRecords(b, ops*n)
		})
		b.Run(fmt.Sprintf("insert/batch=%d", n), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			fresh := freshener(batch)
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				fresh()
				if err := s.InsertUsage(ctx, batch); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			reportRecords(b, ops*n)
		})
		b.Run(fmt.Sprintf("insert-parallel/batch=%d", n), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				batch := slices.Clone(batch)
				fresh := freshener(batch)
				for pb.Next() {
					fresh()
					if err := s.InsertUsage(ctx, batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRecords(b, b.N*n)
		})
	}
}

func reportRecords(b *testing.B, records int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(records)/s, "records/s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(records, 1)), "ns/record")
}

// freshener returns a function that gives the records of batch new random
// request IDs and later times, as a gateway's stream of requests has: a
// benchmark that inserted the same records again would write its index
// pages in the same places every time, which real traffic does not.
func freshener(batch []store.UsageRecord) func() {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	at := time.Now().UTC()
	buf := []byte("req_0123456789abcdefghij")
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	return func() {
		for i := range batch {
			for j := 4; j < len(buf); j++ {
				buf[j] = alphabet[rng.IntN(len(alphabet))]
			}
			batch[i].RequestID = string(buf)
			at = at.Add(100 * time.Microsecond)
			batch[i].Time = at
		}
	}
}

func benchRecords(n int) []store.UsageRecord {
	out := make([]store.UsageRecord, n)
	t0 := time.Now().UTC()
	for i := range out {
		out[i] = record(i, t0.Add(time.Duration(i)*time.Millisecond))
	}
	return out
}
