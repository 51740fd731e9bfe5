// Package router turns the model name a client asked for into an ordered
// list of candidates (provider, upstream model) to try: a route alias
// expands into its weighted targets by priority tier and then its
// fallbacks; "provider/model" and "provider.model" name one provider; a bare
// model name goes to the one provider that serves it.
//
// The router decides order only. It does no I/O and imports no net/http:
// the gateway's attempt loop walks the list, so every rule here is
// table-testable with an injected random source.
package router

import (
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/llmux/llmux/llm"
)

// Candidate is one place to send a request.
type Candidate struct {
	// Provider is the provider id.
	Provider string
	// Model is the upstream model id.
	Model string
	// Name is the qualified name, "provider/alias".
	Name string
	// Fallback marks candidates reached through a route's fallbacks.
	Fallback bool
}

// Provider describes what one provider serves.
type Provider struct {
	// ID is the provider id.
	ID string
	// Names lists the client-facing model names in configuration order, and
	// Models maps each to its upstream id. With no names the provider
	// accepts any model name as its own upstream id.
	Names  []string
	Models map[string]string
	// Patterns are glob patterns of model names the vendor is known to
	// serve, for routing bare names to a provider that lists no models.
	Patterns []string
}

// Route is an alias spread over targets.
type Route struct {
	Name      string
	Targets   []Target
	Fallbacks []string
	// ContextFallback and FilterFallback are model names tried when a
	// candidate fails because the request is too long for its context
	// window, or because its content filter refused it.
	ContextFallback string
	FilterFallback  string
	// MaxAttempts and Timeout override the gateway's retry settings; zero
	// keeps them.
	MaxAttempts int
	Timeout     time.Duration
}

// Options are a route's settings for the attempt loop.
type Options struct {
	// Context and Filter are the special fallbacks, resolved; nil when the
	// route has none.
	Context *Candidate
	Filter  *Candidate
	// MaxAttempts and Timeout: zero means the gateway's defaults.
	MaxAttempts int
	Timeout     time.Duration
}

// Target is one weighted model of a route, as "provider/model".
type Target struct {
	Model    string
	Weight   int
	Priority int
}

// Table is an immutable routing table; build a new one on reload.
type Table struct {
	providers map[string]*Provider
	longest   []string // provider ids, longest first, for provider.model
	routes    map[string]*route
	bare      map[string][]Candidate
	// RandIntN returns a random int in [0, n); tests replace it.
	RandIntN func(n int) int
}

type route struct {
	name      string
	tiers     [][]weighted // by priority, highest first
	fallbacks []string
	opts      Options
}

type weighted struct {
	cand   Candidate
	weight int
}

// TargetError reports a route target or fallback that names no served model.
type TargetError struct {
	Route string
	// Field is "targets" or "fallbacks", Index the entry.
	Field string
	Index int
	Err   error
}

func (e *TargetError) Error() string { return e.Err.Error() }

// New builds a table. Every route target must name a provider and a model
// it serves.
func New(providers []Provider, routes []Route) (*Table, error) {
	t := &Table{providers: map[string]*Provider{}, routes: map[string]*route{}, bare: map[string][]Candidate{},
		RandIntN: rand.IntN}
	for i := range providers {
		p := providers[i]
		t.providers[p.ID] = &p
		t.longest = append(t.longest, p.ID)
		for _, name := range p.Names {
			t.bare[name] = append(t.bare[name], Candidate{Provider: p.ID, Model: p.Models[name], Name: p.ID + "/" + name})
		}
	}
	sort.Slice(t.longest, func(i, j int) bool {
		if len(t.longest[i]) != len(t.longest[j]) {
			return len(t.longest[i]) > len(t.longest[j])
		}
		return t.longest[i] < t.longest[j]
	})
	for _, r := range routes {
		rt := &route{name: r.Name, fallbacks: r.Fallbacks, opts: Options{MaxAttempts: r.MaxAttempts, Timeout: r.Timeout}}
		byPrio := map[int][]weighted{}
		for i, tg := range r.Targets {
			c, err := t.qualified(tg.Model)
			if err != nil {
				return nil, &TargetError{Route: r.Name, Field: "targets", Index: i, Err: err}
			}
			byPrio[tg.Priority] = append(byPrio[tg.Priority], weighted{cand: c, weight: tg.Weight})
		}
		prios := make([]int, 0, len(byPrio))
		for p := range byPrio {
			prios = append(prios, p)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(prios)))
		for _, p := range prios {
			rt.tiers = append(rt.tiers, byPrio[p])
		}
		t.routes[r.Name] = rt
	}
	for _, r := range routes {
		for i, f := range r.Fallbacks {
			if _, isRoute := t.routes[f]; isRoute {
				continue
			}
			if _, err := t.resolveName(f); err != nil {
				return nil, &TargetError{Route: r.Name, Field: "fallbacks", Index: i, Err: err}
			}
		}
		rt := t.routes[r.Name]
		for _, sp := range []struct {
			field, name string
			dst         **Candidate
		}{{"context_fallback", r.ContextFallback, &rt.opts.Context}, {"content_filter_fallback", r.FilterFallback, &rt.opts.Filter}} {
			if sp.name == "" {
				continue
			}
			c, err := t.resolveName(sp.name)
			if err != nil {
				return nil, &TargetError{Route: r.Name, Field: sp.field, Index: -1, Err: err}
			}
			c.Fallback = true
			*sp.dst = &c
		}
	}
	return t, nil
}

// Options returns the attempt-loop settings of the route called name; a
// name that is no route has none.
func (t *Table) Options(name string) Options {
	if r, ok := t.routes[name]; ok {
		return r.opts
	}
	return Options{}
}

// Resolve returns the candidates for a model name, in the order to try
// them. An unknown name is a not-found error that names nothing but the
// model asked for.
func (t *Table) Resolve(name string) ([]Candidate, error) {
	if r, ok := t.routes[name]; ok {
		return t.expand(r), nil
	}
	c, err := t.resolveName(name)
	if err != nil {
		return nil, err
	}
	return []Candidate{c}, nil
}

// expand orders a route's targets and appends its fallbacks.
func (t *Table) expand(r *route) []Candidate {
	out := make([]Candidate, 0, 4)
	for _, tier := range r.tiers {
		out = append(out, t.shuffle(tier)...)
	}
	for _, f := range r.fallbacks {
		var cands []Candidate
		if fr, ok := t.routes[f]; ok && fr != r {
			for _, tier := range fr.tiers {
				cands = append(cands, t.shuffle(tier)...)
			}
		} else if c, err := t.resolveName(f); err == nil {
			cands = []Candidate{c}
		}
		for _, c := range cands {
			c.Fallback = true
			out = append(out, c)
		}
	}
	return dedupe(out)
}

// shuffle orders one tier: a weighted random permutation, so that the
// first pick lands on each target in proportion to its weight and the rest
// follow as further candidates. Weight-0 targets come last, in order.
func (t *Table) shuffle(tier []weighted) []Candidate {
	if len(tier) == 1 {
		return []Candidate{tier[0].cand}
	}
	rest := append([]weighted(nil), tier...)
	out := make([]Candidate, 0, len(tier))
	for len(rest) > 0 {
		total := 0
		for _, w := range rest {
			total += w.weight
		}
		if total == 0 {
			for _, w := range rest {
				out = append(out, w.cand)
			}
			break
		}
		n := t.RandIntN(total)
		for i, w := range rest {
			if n < w.weight {
				out = append(out, w.cand)
				rest = append(rest[:i], rest[i+1:]...)
				break
			}
			n -= w.weight
		}
	}
	return out
}

func dedupe(cs []Candidate) []Candidate {
	out := make([]Candidate, 0, len(cs))
	for _, c := range cs {
		dup := false
		for _, d := range out {
			if d.Provider == c.Provider && d.Model == c.Model {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// resolveName resolves a name that is not a route.
func (t *Table) resolveName(name string) (Candidate, error) {
	if name == "" {
		return Candidate{}, notFound(name)
	}
	if pid, model, ok := strings.Cut(name, "/"); ok {
		if p, ok := t.providers[pid]; ok {
			return serve(p, model, name)
		}
	}
	for _, pid := range t.longest {
		if model, ok := strings.CutPrefix(name, pid+"."); ok && model != "" {
			return serve(t.providers[pid], model, name)
		}
	}
	switch cs := t.bare[name]; len(cs) {
	case 1:
		return cs[0], nil
	case 0:
	default:
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.Name
		}
		return Candidate{}, &llm.Error{Kind: llm.KindInvalidRequest, Param: "model",
			Message: fmt.Sprintf("The model `%s` is served by several providers; name one of: %s", name, strings.Join(names, ", "))}
	}
	var match []Candidate
	for _, pid := range t.longest {
		p := t.providers[pid]
		if len(p.Names) > 0 {
			continue
		}
		for _, pat := range p.Patterns {
			if ok, _ := path.Match(pat, name); ok {
				match = append(match, Candidate{Provider: p.ID, Model: name, Name: p.ID + "/" + name})
				break
			}
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return Candidate{}, notFound(name)
}

// qualified resolves a "provider/model" name only.
func (t *Table) qualified(name string) (Candidate, error) {
	pid, model, _ := strings.Cut(name, "/")
	p, ok := t.providers[pid]
	if !ok {
		return Candidate{}, fmt.Errorf("no provider %q is configured", pid)
	}
	c, err := serve(p, model, name)
	if err != nil {
		return Candidate{}, fmt.Errorf("the provider %s does not serve the model %q", pid, model)
	}
	return c, nil
}

// serve resolves model within provider p.
func serve(p *Provider, model, asked string) (Candidate, error) {
	if model == "" {
		return Candidate{}, notFound(asked)
	}
	if len(p.Names) == 0 {
		return Candidate{Provider: p.ID, Model: model, Name: p.ID + "/" + model}, nil
	}
	if up, ok := p.Models[model]; ok {
		return Candidate{Provider: p.ID, Model: up, Name: p.ID + "/" + model}, nil
	}
	return Candidate{}, notFound(asked)
}

func notFound(name string) *llm.Error {
	return &llm.Error{Kind: llm.KindNotFound, Code: "model_not_found", Param: "model",
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", name)}
}

// Models returns every name a client may use that the table knows without
// asking upstreams: routes, provider/alias names, and bare aliases that
// resolve to exactly one provider. Each carries the provider that owns it
// ("llmux" for routes).
func (t *Table) Models() []llm.Model {
	var out []llm.Model
	names := make([]string, 0, len(t.routes))
	for n := range t.routes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, llm.Model{ID: n, OwnedBy: "llmux"})
	}
	ids := make([]string, 0, len(t.providers))
	for id := range t.providers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := t.providers[id]
		for _, name := range p.Names {
			out = append(out, llm.Model{ID: id + "/" + name, OwnedBy: id})
		}
	}
	bare := make([]string, 0, len(t.bare))
	for n, cs := range t.bare {
		if len(cs) == 1 && t.routes[n] == nil {
			bare = append(bare, n)
		}
	}
	sort.Strings(bare)
	for _, n := range bare {
		out = append(out, llm.Model{ID: n, OwnedBy: t.bare[n][0].Provider})
	}
	return out
}

// Wildcard reports whether provider id accepts any model name (it lists
// none), so that its models can only be listed by asking the upstream.
func (t *Table) Wildcard(id string) bool {
	p, ok := t.providers[id]
	return ok && len(p.Names) == 0
}
