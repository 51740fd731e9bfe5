package health

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Provider is the health of one provider: its breaker and the pool of its
// keys, in the order of the fingerprints it was made with.
type Provider struct {
	// ID is the provider id from the configuration.
	ID string
	// Breaker decides whether the provider may be tried now.
	Breaker *Breaker
	// Pool picks the key to use; its indices are those of Fingerprints.
	Pool *Pool

	fps []string
}

// Fingerprints returns the key fingerprints the provider was made with.
func (p *Provider) Fingerprints() []string { return slices.Clone(p.fps) }

// Registry keeps the health of every provider across configuration reloads.
// Keys are named by a caller-supplied fingerprint (a prefix of the key's
// SHA-256, never the key). The zero Registry is not usable; make one with
// NewRegistry.
type Registry struct {
	policy Policy

	mu        sync.RWMutex
	providers map[string]*Provider
}

// NewRegistry returns an empty registry whose breakers and pools follow p
// (after p.WithDefaults()).
func NewRegistry(p Policy) *Registry {
	return &Registry{policy: p.WithDefaults(), providers: make(map[string]*Provider)}
}

// Provider returns the health of provider id with the given keys. Called
// again with the same fingerprints in the same order, it returns the same
// *Provider. With other fingerprints (a reload) it returns a new Provider
// that keeps the breaker and the state of every key whose fingerprint it
// already knew; new keys start ok and removed keys are forgotten. Calls in
// flight keep reporting to the Provider they were routed with, so hold on to
// the *Provider per configuration snapshot rather than looking it up per
// request.
func (r *Registry) Provider(id string, keyFingerprints []string) *Provider {
	r.mu.RLock()
	p := r.providers[id]
	r.mu.RUnlock()
	if p != nil && slices.Equal(p.fps, keyFingerprints) {
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p = r.providers[id]
	if p != nil && slices.Equal(p.fps, keyFingerprints) {
		return p
	}
	np := &Provider{ID: id, fps: slices.Clone(keyFingerprints)}
	np.Pool = NewPool(len(np.fps), r.policy)
	np.Pool.fps = np.fps
	if p == nil {
		np.Breaker = NewBreaker(r.policy)
	} else {
		np.Breaker = p.Breaker
		carry(np.Pool, p.Pool)
	}
	r.providers[id] = np
	return np
}

// carry copies into the new pool the state of each key the old pool knew by
// the same fingerprint. A fingerprint listed twice matches in order.
func carry(dst, src *Pool) {
	src.mu.Lock()
	defer src.mu.Unlock()
	old := make(map[string][]int, len(src.fps))
	for j, fp := range src.fps {
		old[fp] = append(old[fp], j)
	}
	for i, fp := range dst.fps {
		if js := old[fp]; len(js) > 0 {
			dst.adopt(i, src, js[0])
			old[fp] = js[1:]
		}
	}
}

// Get returns the provider registered under id, if any.
func (r *Registry) Get(id string) (*Provider, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.providers[id]
	return p, ok
}

// Retain forgets every provider whose id is not in ids (after a reload).
func (r *Registry) Retain(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.providers {
		if !slices.Contains(ids, id) {
			delete(r.providers, id)
		}
	}
}

// ProviderState is one provider as seen at one moment: the body of GET
// /admin/api/health is a list of them.
type ProviderState struct {
	ID      string       `json:"id"`
	Breaker BreakerState `json:"breaker"`
	Keys    []KeyState   `json:"keys"`
}

// Snapshot returns the state of every provider at now, sorted by id.
func (r *Registry) Snapshot(now time.Time) []ProviderState {
	r.mu.RLock()
	ps := make([]*Provider, 0, len(r.providers))
	for _, p := range r.providers {
		ps = append(ps, p)
	}
	r.mu.RUnlock()
	slices.SortFunc(ps, func(a, b *Provider) int { return strings.Compare(a.ID, b.ID) })
	out := make([]ProviderState, len(ps))
	for i, p := range ps {
		out[i] = ProviderState{ID: p.ID, Breaker: p.Breaker.Snapshot(now), Keys: p.Pool.Snapshot(now)}
	}
	return out
}
