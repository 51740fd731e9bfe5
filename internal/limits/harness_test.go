package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The conformance suite runs every test against each backend through this
// harness. Redis comes from LLMUX_TEST_REDIS_ADDR (e.g. 127.0.0.1:6379);
// without it the Redis half of every test is skipped, loudly.

const redisAddrEnv = "LLMUX_TEST_REDIS_ADDR"

func TestMain(m *testing.M) {
	if os.Getenv(redisAddrEnv) == "" {
		fmt.Fprintf(os.Stderr, "limits: %s is not set: the Redis limiter is NOT tested (only Memory)\n", redisAddrEnv)
	}
	os.Exit(m.Run())
}

// fakeClock is a clock that tests set and move; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// backend opens n limiters sharing one store: for Memory the same limiter
// n times, for Redis n independent limiters, each with its own client, over
// a key prefix of its own that is deleted when the test ends.
type backend struct {
	name string
	open func(t testing.TB, o Options, n int) []Limiter
}

var backends = []backend{
	{"memory", func(t testing.TB, o Options, n int) []Limiter {
		m := NewMemory(o)
		ls := make([]Limiter, n)
		for i := range ls {
			ls[i] = m
		}
		return ls
	}},
	{"redis", openRedis},
}

func openRedis(t testing.TB, o Options, n int) []Limiter {
	addr := os.Getenv(redisAddrEnv)
	if addr == "" {
		t.Skipf("%s is not set: Redis limiter NOT tested", redisAddrEnv)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	o.Prefix = "llmuxtest:" + hex.EncodeToString(b[:])
	ls := make([]Limiter, n)
	for i := range ls {
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
		t.Cleanup(func() { c.Close() }) // registered first: runs after deletePrefix
		if i == 0 {
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("redis at %s: %v", addr, err)
			}
			t.Cleanup(func() { deletePrefix(t, c, o.Prefix) })
		}
		ls[i] = NewRedis(c, o)
	}
	return ls
}

func deletePrefix(t testing.TB, c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleaning up %s: %v", prefix, err)
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("cleaning up %s: %v", prefix, err)
		}
	}
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// env is one test's limiters (sharing a store) and their clock.
type env struct {
	t     testing.TB
	clock *fakeClock
	lims  []Limiter
	l     Limiter // lims[0]
}

// t0 is the default start of the clock: 2026-03-15T12:00:00Z, on a second.
var t0 = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, b backend, start time.Time, lease time.Duration, n int) *env {
	c := newClock(start)
	ls := b.open(t, Options{Now: c.Now, Lease: lease}, n)
	return &env{t: t, clock: c, lims: ls, l: ls[0]}
}

func (e *env) admit(r Request) (*Ticket, *Denial) {
	e.t.Helper()
	t, err := e.l.Admit(context.Background(), r)
	var d *Denial
	switch {
	case err == nil:
		return t, nil
	case errors.As(err, &d):
		return nil, d
	}
	e.t.Fatalf("admit %+v: %v", r, err)
	return nil, nil
}

func (e *env) mustAdmit(r Request) *Ticket {
	e.t.Helper()
	t, d := e.admit(r)
	if d != nil {
		e.t.Fatalf("at %v: admit %+v refused: %v", e.clock.Now().Sub(t0), r, d)
	}
	return t
}

func (e *env) mustDeny(r Request, limit Limit, kind Kind) *Denial {
	e.t.Helper()
	_, d := e.admit(r)
	if d == nil {
		e.t.Fatalf("at %v: admit %+v admitted, want a %s %s denial", e.clock.Now().Sub(t0), r, kind, limit)
	}
	if d.Limit != limit || d.Subject.Kind != kind {
		e.t.Fatalf("at %v: denial %v, want a %s %s denial", e.clock.Now().Sub(t0), d, kind, limit)
	}
	return d
}

func (e *env) settle(t *Ticket, u Usage) {
	e.t.Helper()
	if err := e.l.Settle(context.Background(), t, u); err != nil {
		e.t.Fatalf("settle: %v", err)
	}
}

func (e *env) release(t *Ticket) {
	e.t.Helper()
	if err := e.l.Release(context.Background(), t); err != nil {
		e.t.Fatalf("release: %v", err)
	}
}

func (e *env) spend(s Subject, p Period) Spend {
	e.t.Helper()
	sp, err := e.l.Spend(context.Background(), s, p)
	if err != nil {
		e.t.Fatalf("spend: %v", err)
	}
	return sp
}

func (e *env) wantSpend(s Subject, p Period, spent, reserved Money) {
	e.t.Helper()
	sp := e.spend(s, p)
	if sp.Spent != spent || sp.Reserved != reserved {
		e.t.Fatalf("at %v: %s %s spend = %v spent, %v reserved; want %v, %v",
			e.clock.Now().Sub(t0), s.Kind, s.ID, sp.Spent, sp.Reserved, spent, reserved)
	}
}

func usd(f float64) Money { return Dollars(f) }
