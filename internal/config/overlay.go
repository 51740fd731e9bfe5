package config

import (
	"maps"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Overlay is configuration changed at run time through the admin API and
// kept in the database: providers and routes by id, each a JSON (or YAML)
// object in the file's own schema. It replaces the file's entry of the same
// id or adds one.
type Overlay struct {
	Providers map[string][]byte
	Routes    map[string][]byte
}

// WithOverlay returns a copy of c with o applied, decoded and validated as a
// whole, so that a route may name an overlaid provider. Errors name fields
// as a file would ("providers.claude.base_url"); their File is "admin API".
// ${ENV} references are expanded with getenv on each instance, so secrets
// can stay in each instance's environment instead of the database.
func (c *Config) WithOverlay(o Overlay, getenv func(string) (string, bool)) (*Config, error) {
	out := *c
	out.File = c.File
	out.Warnings = nil
	out.lines = maps.Clone(c.lines)
	if out.lines == nil {
		out.lines = map[string]position{}
	}
	out.Providers = maps.Clone(c.Providers)
	out.Routes = maps.Clone(c.Routes)
	if out.Routes == nil && len(o.Routes) > 0 {
		out.Routes = map[string]*Route{}
	}
	d := &decoder{cfg: &out, getenv: getenv}
	for _, id := range sortedKeys(o.Providers) {
		p := &Provider{}
		if decodeInto(d, o.Providers[id], reflect.ValueOf(p).Elem(), "providers."+id) {
			if p.Type == "" {
				p.Type = id
			}
			p.APIKeys = out.nonEmpty("providers."+id+".api_keys", p.APIKeys)
			out.Providers[id] = p
		}
	}
	for _, name := range sortedKeys(o.Routes) {
		r := &Route{}
		if decodeInto(d, o.Routes[name], reflect.ValueOf(r).Elem(), "routes."+name) {
			out.Routes[name] = r
		}
	}
	if len(d.errs) > 0 {
		return nil, overlayErrors(d.errs)
	}
	if errs := out.validate(); len(errs) > 0 {
		return nil, overlayErrors(errs)
	}
	return &out, nil
}

// decodeInto decodes one overlay value into v; false when it failed (the
// decoder holds the errors).
func decodeInto(d *decoder, data []byte, v reflect.Value, path string) bool {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		d.errs = append(d.errs, &FieldError{Path: path, Msg: "not valid JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return false
	}
	n := &root
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		d.errs = append(d.errs, &FieldError{Path: path, Msg: "must be an object"})
		return false
	}
	before := len(d.errs)
	d.decode(n, v, path)
	return len(d.errs) == before
}

// overlayErrors drops file positions, which mean nothing for a value sent
// to the admin API, and sorts by field.
func overlayErrors(errs Errors) Errors {
	out := make(Errors, len(errs))
	for i, e := range errs {
		c := *e
		c.File, c.Line, c.Column = "", 0, 0
		out[i] = &c
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
