package keys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmux/llmux/internal/glob"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// Store is what the resolver reads: keys and teams by identity, and the
// change log that says when to forget what it cached.
type Store interface {
	GetKeyByHash(ctx context.Context, h [32]byte) (store.VirtualKey, error)
	GetTeam(ctx context.Context, id string) (store.Team, error)
	ListKeys(ctx context.Context, f store.KeyFilter) ([]store.VirtualKey, error)
	Revision(ctx context.Context) (int64, error)
	Changes(ctx context.Context, after int64, limit int) ([]store.Change, error)
}

// Principal is who a request runs as. It is immutable once returned.
type Principal struct {
	// ID names the key in usage records and logs, never its secret: the
	// virtual key's ID, "static:" and a fingerprint for a configured key, or
	// "" for an anonymous loopback client of a gateway without keys.
	ID string
	// Name is the virtual key's name ("" for other keys).
	Name string
	// Team is the virtual key's team ID, "" for none.
	Team string
	// Models are the allow-list globs; empty allows every model.
	Models []string
	// Key and TeamPolicy are the limits of the key and of its team.
	Key, TeamPolicy limits.Policy
	// Virtual is true for a key from the store.
	Virtual bool
}

// Allows reports whether the key may use the model named name.
func (p *Principal) Allows(name string) bool {
	if len(p.Models) == 0 {
		return true
	}
	for _, g := range p.Models {
		if glob.Match(g, name) {
			return true
		}
	}
	return false
}

// Restricted reports whether the key has an allow-list.
func (p *Principal) Restricted() bool { return len(p.Models) > 0 }

// Limited reports whether any limit applies, so that the request must go
// through the limiter. A key's spend is tracked even without a budget, so a
// virtual key is always limited.
func (p *Principal) Limited() bool { return p.Virtual }

// Metered reports whether admission needs the request's token and cost
// estimates: a TPM limit or a budget on the key or its team.
func (p *Principal) Metered() bool {
	return p.Key.TPM > 0 || p.Key.Budget > 0 || (p.Team != "" && (p.TeamPolicy.TPM > 0 || p.TeamPolicy.Budget > 0))
}

// Refusals of Resolve. The messages are safe to show to the client.
var (
	ErrUnknown  = errors.New("Incorrect API key provided.")
	ErrRevoked  = errors.New("This API key has been revoked.")
	ErrExpired  = errors.New("This API key has expired.")
	ErrDisabled = errors.New("This API key is disabled.")
	// ErrTeamDisabled: the key's team is switched off.
	ErrTeamDisabled = errors.New("This API key's team is disabled.")
)

// Options tune a Resolver.
type Options struct {
	// Poll is how often the store's revision is checked; a change made on
	// any instance applies here within it (plus one read). Default 250ms.
	Poll time.Duration
	// NegativeTTL is how long an unknown key is remembered as unknown, so
	// that a client retrying a wrong key does not reach the database every
	// time. Default 2s; a key created meanwhile clears it.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache. Default 100,000.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives poll failures; nil discards them.
	Logger *slog.Logger
}

// Resolver maps raw client keys to principals. Safe for concurrent use.
type Resolver struct {
	st   Store
	opts Options

	static atomic.Pointer[map[[32]byte]*Principal]

	mu      sync.RWMutex
	cache   map[[32]byte]*entry
	gen     uint64 // bumped by every invalidation; a fill started before one is discarded
	rev     int64  // the store revision the cache reflects
	synced  bool   // Sync has succeeded once
	virtual bool   // the store holds at least one key, revoked or not
}

type entry struct {
	key     store.VirtualKey
	team    store.Team // zero when the key has no team
	p       *Principal
	unknown time.Time // for a negative entry: when it was made
}

// New returns a resolver over st. Call Sync once before serving and Run in
// the background to follow changes. With a nil st only static keys exist.
func New(st Store, o Options) *Resolver {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 2 * time.Second
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Resolver{st: st, opts: o, cache: map[[32]byte]*entry{}}
	empty := map[[32]byte]*Principal{}
	r.static.Store(&empty)
	return r
}

// SetStatic replaces the keys from the configuration. They have no limits
// and may use every model.
func (r *Resolver) SetStatic(raw []string) {
	m := make(map[[32]byte]*Principal, len(raw))
	for _, k := range raw {
		h := sha256.Sum256([]byte(k))
		m[h] = &Principal{ID: StaticID(h)}
	}
	r.static.Store(&m)
}

// StaticID is the name of a configured key in records and logs: "static:"
// and the first 6 bytes of its SHA-256, which identify it without revealing
// anything useful about it.
func StaticID(h [32]byte) string { return "static:" + hex.EncodeToString(h[:6]) }

// HasKeys reports whether any client key exists, static or virtual: when
// none does, the gateway serves loopback clients without one.
func (r *Resolver) HasKeys() bool {
	return len(*r.static.Load()) > 0 || r.HasVirtual()
}

// HasVirtual reports whether the store holds a virtual key, revoked ones
// included (as of the last Sync).
func (r *Resolver) HasVirtual() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.virtual
}

// Resolve returns the principal of a raw key, or one of the Err refusals,
// or a store error (the database did not answer).
func (r *Resolver) Resolve(ctx context.Context, raw string) (*Principal, error) {
	h := sha256.Sum256([]byte(raw))
	if p, ok := (*r.static.Load())[h]; ok {
		return p, nil
	}
	if r.st == nil {
		return nil, ErrUnknown
	}
	now := r.opts.Now()
	r.mu.RLock()
	e, gen := r.cache[h], r.gen
	r.mu.RUnlock()
	if e == nil || (e.p == nil && now.Sub(e.unknown) > r.opts.NegativeTTL) {
		var err error
		if e, err = r.load(ctx, h, now); err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.gen == gen {
			if len(r.cache) >= r.opts.MaxEntries {
				clear(r.cache) // rare: a cache this full is mostly wrong keys
			}
			r.cache[h] = e
		}
		r.mu.Unlock()
	}
	return e.check(now)
}

// load reads a key and its team from the store.
func (r *Resolver) load(ctx context.Context, h [32]byte, now time.Time) (*entry, error) {
	k, err := r.st.GetKeyByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return &entry{unknown: now}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: looking up a key: %w", err)
	}
	e := &entry{key: k}
	if k.TeamID != "" {
		if e.team, err = r.st.GetTeam(ctx, k.TeamID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("keys: looking up team %s: %w", k.TeamID, err)
		}
	}
	e.p = &Principal{ID: k.ID, Name: k.Name, Team: k.TeamID, Models: k.Models, Key: policy(k.Limits), Virtual: true}
	if e.team.ID != "" {
		e.p.TeamPolicy = policy(e.team.Limits)
	}
	return e, nil
}

func (e *entry) check(now time.Time) (*Principal, error) {
	switch k := &e.key; {
	case e.p == nil:
		return nil, ErrUnknown
	case !k.RevokedAt.IsZero():
		return nil, ErrRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return nil, ErrExpired
	case !k.Enabled:
		return nil, ErrDisabled
	case k.TeamID != "" && !e.team.Enabled:
		return nil, ErrTeamDisabled // a team that was deleted counts as disabled
	}
	return e.p, nil
}

// policy converts stored limits to the limiter's.
func policy(l store.Limits) limits.Policy {
	return limits.Policy{RPM: l.RPM, TPM: l.TPM, MaxConcurrent: l.MaxConcurrent,
		Budget: limits.Dollars(l.BudgetUSD), Period: limits.Period(l.BudgetPeriod)}
}

// Run follows the store's change log until ctx ends.
func (r *Resolver) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.Sync(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			r.opts.Logger.Error("following key changes failed; cached keys stay in use until the store answers again", "error", err)
		case err == nil && failing:
			failing = false
			r.opts.Logger.Info("following key changes again")
		}
	}
}

// Sync applies the changes made since the last Sync: cached keys and teams
// that changed are forgotten and read again on their next use.
func (r *Resolver) Sync(ctx context.Context) error {
	if r.st == nil {
		return nil
	}
	rev, err := r.st.Revision(ctx)
	if err != nil {
		return err
	}
	r.mu.RLock()
	have, synced := r.rev, r.synced
	r.mu.RUnlock()
	if rev == have && synced {
		return nil
	}
	var changes []store.Change
	if synced && rev > have {
		if changes, err = r.st.Changes(ctx, have, 1000); err != nil {
			return err
		}
	}
	all := !synced || len(changes) == 0 || changes[0].Revision != have+1 || len(changes) == 1000
	keyChanged := all
	drop := map[string]bool{}
	for _, c := range changes {
		switch c.Kind {
		case store.ChangeKey:
			drop["k:"+c.ID] = true
			keyChanged = true
		case store.ChangeTeam:
			drop["t:"+c.ID] = true
		}
	}
	virtual := false
	if keyChanged {
		// Revoked keys count: once keys were issued, a gateway never falls
		// back to serving loopback clients without one.
		list, err := r.st.ListKeys(ctx, store.KeyFilter{IncludeRevoked: true})
		if err != nil {
			return err
		}
		virtual = len(list) > 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	if keyChanged {
		r.virtual = virtual
	}
	if all {
		clear(r.cache)
	} else {
		for h, e := range r.cache {
			if e.p == nil {
				if keyChanged { // a new key may be the one that was unknown
					delete(r.cache, h)
				}
				continue
			}
			if drop["k:"+e.key.ID] || (e.key.TeamID != "" && drop["t:"+e.key.TeamID]) {
				delete(r.cache, h)
			}
		}
	}
	if len(changes) > 0 {
		rev = max(rev, changes[len(changes)-1].Revision)
	}
	r.rev, r.synced = rev, true
	return nil
}
