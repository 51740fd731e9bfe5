package provider

import (
	"errors"
	"fmt"
	"math"
	"reflect"
)

// conforms checks v against the subset of JSON Schema the mock fills:
// type (one or a list), enum, properties (every one must be present) and
// items.
func conforms(schema map[string]any, v any, path string) error {
	if enum, ok := schema["enum"].([]any); ok {
		for _, e := range enum {
			if reflect.DeepEqual(e, v) {
				return nil
			}
		}
		return fmt.Errorf("%s = %v, not one of %v", path, v, enum)
	}
	var types []string
	switch typ := schema["type"].(type) {
	case string:
		types = []string{typ}
	case []any:
		for _, x := range typ {
			s, _ := x.(string)
			types = append(types, s)
		}
	}
	if len(types) == 0 {
		if _, ok := schema["properties"]; ok {
			types = []string{"object"}
		}
	}
	if len(types) == 0 {
		return nil
	}
	var errs []error
	for _, typ := range types {
		err := conformsType(typ, schema, v, path)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func conformsType(typ string, schema map[string]any, v any, path string) error {
	wrong := fmt.Errorf("%s = %#v, want %s", path, v, typ)
	switch typ {
	case "string":
		if _, ok := v.(string); !ok {
			return wrong
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			return wrong
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return wrong
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return wrong
		}
	case "null":
		if v != nil {
			return wrong
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return wrong
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range a {
			if err := conforms(items, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return wrong
		}
		props, _ := schema["properties"].(map[string]any)
		for name, ps := range props {
			x, ok := o[name]
			if !ok {
				return fmt.Errorf("%s.%s is missing", path, name)
			}
			sub, _ := ps.(map[string]any)
			if err := conforms(sub, x, path+"."+name); err != nil {
				return err
			}
		}
	}
	return nil
}
