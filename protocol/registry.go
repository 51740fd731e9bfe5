package protocol

import (
	"fmt"
	"sort"
)

// Registry maps stable protocol IDs to their implementations. It is filled
// once, from the single list in protocol/all, and read-only afterwards.
type Registry struct {
	codecs map[string]Codec
}

// NewRegistry returns a registry holding codecs. Two codecs with one ID are
// a programming error.
func NewRegistry(codecs ...Codec) *Registry {
	r := &Registry{codecs: make(map[string]Codec, len(codecs))}
	for _, c := range codecs {
		if _, dup := r.codecs[c.ID()]; dup {
			panic(fmt.Sprintf("protocol: duplicate registration of %q", c.ID()))
		}
		r.codecs[c.ID()] = c
	}
	return r
}

// Ingress returns the client side of protocol id.
func (r *Registry) Ingress(id string) (Ingress, bool) {
	in, ok := r.codecs[id].(Ingress)
	return in, ok
}

// Egress returns the upstream side of protocol id.
func (r *Registry) Egress(id string) (Egress, bool) {
	eg, ok := r.codecs[id].(Egress)
	return eg, ok
}

// Passthrough returns the passthrough capability of protocol id.
func (r *Registry) Passthrough(id string) (Passthrough, bool) {
	pt, ok := r.codecs[id].(Passthrough)
	return pt, ok
}

// Codec returns the implementation registered as id.
func (r *Registry) Codec(id string) (Codec, bool) {
	c, ok := r.codecs[id]
	return c, ok
}

// IDs returns the registered IDs, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.codecs))
	for id := range r.codecs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
