package limits

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkAdmitSettle: the per-request cost of the policy checks, one
// Admit and one Settle of a key in a team with every limit set (none of
// them reached), beside the no-policy baseline (Unlimited) in the same
// benchmark, and for Redis beside its floor: the same two round trips to
// a script that does nothing. Variants: serial; parallel on one key
// (contention on the key and the team); parallel with a key per goroutine
// (contention on the team only).
func BenchmarkAdmitSettle(b *testing.B) {
	ctx := context.Background()
	pol := Policy{RPM: 1 << 40, TPM: 1 << 50, MaxConcurrent: 1 << 20, Budget: 1e6 * Dollar, Period: PeriodDaily}
	u := Usage{Tokens: 900, Cost: Dollars(0.0009)}
	req := func(key string) Request {
		return Request{Key: key, KeyPolicy: pol, Team: "team", TeamPolicy: pol, Tokens: 1000, Cost: Dollars(0.001)}
	}
	impls := []struct {
		name string
		open func(b *testing.B) Limiter
	}{
		{"none", func(*testing.B) Limiter { return Unlimited{} }},
		{"memory", func(*testing.B) Limiter { return NewMemory(Options{}) }},
		{"redis-floor", openRedisFloor},
		{"redis", func(b *testing.B) Limiter { return openRedis(b, Options{}, 1)[0] }},
	}
	run := func(b *testing.B, l Limiter, r Request) {
		t, err := l.Admit(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Settle(ctx, t, u); err != nil {
			b.Fatal(err)
		}
	}
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			l := im.open(b)
			r := req("k")
			b.ReportAllocs()
			for b.Loop() {
				run(b, l, r)
			}
		})
		b.Run(im.name+"/parallel", func(b *testing.B) {
			l := im.open(b)
			r := req("k")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					run(b, l, r)
				}
			})
		})
		b.Run(im.name+"/parallel-keys", func(b *testing.B) {
			l := im.open(b)
			var n atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := req("k" + strconv.FormatInt(n.Add(1), 10))
				for pb.Next() {
					run(b, l, r)
				}
			})
		})
	}
}

// redisFloor is Unlimited plus one round trip to Redis per Admit and per
// Settle, running a script that does nothing: what any Redis-backed limiter
// costs at least.
type redisFloor struct {
	Unlimited
	c redis.Scripter
}

var nopScript = redis.NewScript("return 1")

func openRedisFloor(b *testing.B) Limiter {
	l := openRedis(b, Options{}, 1)[0].(*Redis)
	return redisFloor{c: l.c}
}

func (f redisFloor) Admit(ctx context.Context, r Request) (*Ticket, error) {
	if err := nopScript.Run(ctx, f.c, []string{"k"}, 1).Err(); err != nil {
		return nil, err
	}
	return f.Unlimited.Admit(ctx, r)
}

func (f redisFloor) Settle(ctx context.Context, t *Ticket, u Usage) error {
	if err := nopScript.Run(ctx, f.c, []string{"k"}, 1).Err(); err != nil {
		return err
	}
	return f.Unlimited.Settle(ctx, t, u)
}
