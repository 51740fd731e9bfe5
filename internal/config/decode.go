package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

type position struct{ line, col int }

// decoder maps a YAML node tree onto Go values strictly: unknown fields,
// wrong types and duplicate keys are errors that carry the field's path and
// position. Scalars have ${ENV} references expanded first.
type decoder struct {
	cfg    *Config
	getenv func(string) (string, bool)
	errs   Errors
}

// scalarDecoder is implemented by types written as one scalar.
type scalarDecoder interface {
	decodeScalar(s string) error
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs) >= 20 {
		return
	}
	e := &FieldError{File: d.cfg.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if _, known := d.cfg.lines[path]; path != "" && (!known || n.Kind == yaml.ScalarNode) {
		// Scalars point at their value; mappings and lists at their key.
		d.cfg.lines[path] = position{n.Line, n.Column}
	}
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
		return
	}
	if sd, ok := v.Addr().Interface().(scalarDecoder); ok {
		s, ok := d.scalar(n, path, "a scalar")
		if ok && s != "" {
			if err := sd.decodeScalar(s); err != nil {
				d.fail(n, path, "%v", err)
			}
		}
		return
	}
	if mm, ok := v.Addr().Interface().(*ModelMap); ok {
		d.modelMap(n, mm, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.Slice:
		d.sliceValue(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "true or false"); ok && s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				d.fail(n, path, "expected true or false, got %q", s)
				return
			}
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int64:
		if s, ok := d.scalar(n, path, "an integer"); ok && s != "" {
			i, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				d.fail(n, path, "expected an integer, got %q", s)
				return
			}
			v.SetInt(i)
		}
	case reflect.Float64:
		if s, ok := d.scalar(n, path, "a number"); ok && s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				d.fail(n, path, "expected a number, got %q", s)
				return
			}
			v.SetFloat(f)
		}
	default:
		panic("config: unsupported field type " + v.Type().String())
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalar returns a scalar's value with ${ENV} references expanded.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected %s, got %s", want, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	s, unset := expand(n.Value, d.getenv)
	for _, name := range unset {
		d.cfg.Warnings = append(d.cfg.Warnings, fmt.Sprintf("%s: environment variable %s is not set", display(path), name))
	}
	return s, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a scalar"
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	fields := map[string]int{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		fp := join(path, key)
		idx, ok := fields[key]
		if !ok {
			msg := "unknown field"
			if s := suggest(key, fields); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			d.fail(k, fp, "%s", msg)
			continue
		}
		if seen[key] {
			d.fail(k, fp, "field given twice")
			continue
		}
		seen[key] = true
		d.cfg.lines[fp] = position{k.Line, k.Column}
		d.decode(val, v.Field(idx), fp)
	}
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		fp := join(path, key)
		if key == "" {
			d.fail(k, fp, "empty name")
			continue
		}
		if v.MapIndex(reflect.ValueOf(key)).IsValid() {
			d.fail(k, fp, "given twice")
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.cfg.lines[fp] = position{k.Line, k.Column}
		d.decode(val, elem, fp)
		v.SetMapIndex(reflect.ValueOf(key), elem)
	}
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
	}
	v.Set(s)
}

func (d *decoder) modelMap(n *yaml.Node, mm *ModelMap, path string) {
	switch {
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		mm.Upstream = map[string]string{}
		for i, item := range n.Content {
			ip := path + "[" + strconv.Itoa(i) + "]"
			d.cfg.lines[ip] = position{item.Line, item.Column}
			s, ok := d.scalar(item, ip, "a model name")
			if !ok {
				continue
			}
			if s == "" {
				d.fail(item, ip, "empty model name")
				continue
			}
			if _, dup := mm.Upstream[s]; dup {
				d.fail(item, ip, "model %q listed twice", s)
				continue
			}
			mm.Names = append(mm.Names, s)
			mm.Upstream[s] = s
		}
	case n.Kind == yaml.MappingNode:
		mm.Upstream = map[string]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			fp := join(path, k.Value)
			d.cfg.lines[fp] = position{val.Line, val.Column}
			if k.Value == "" {
				d.fail(k, fp, "empty model alias")
				continue
			}
			if _, dup := mm.Upstream[k.Value]; dup {
				d.fail(k, fp, "alias given twice")
				continue
			}
			s, ok := d.scalar(val, fp, "an upstream model name")
			if !ok {
				continue
			}
			if s == "" {
				s = k.Value
			}
			mm.Names = append(mm.Names, k.Value)
			mm.Upstream[k.Value] = s
		}
	default:
		d.fail(n, path, "expected a list of model names or a mapping of alias to upstream name")
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns the known field closest to key, if it is close.
func suggest(key string, fields map[string]int) string {
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if d := distance(key, f); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *Duration) decodeScalar(s string) error {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 {
			return fmt.Errorf("must not be negative")
		}
		*d = Duration(time.Duration(secs * float64(time.Second)))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("expected a duration such as 30s or 5m, got %q", s)
	}
	if v < 0 {
		return fmt.Errorf("must not be negative")
	}
	*d = Duration(v)
	return nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1},
}

func (b *ByteSize) decodeScalar(s string) error {
	ls := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(ls, u.suffix) {
			ls, mult = strings.TrimSpace(strings.TrimSuffix(ls, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(ls, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("expected a size such as 32MiB or 1048576, got %q", s)
	}
	*b = ByteSize(n * float64(mult))
	return nil
}
