package wirejson

import "strconv"

// Path is where a value sits in a body, for error messages. Decoders and
// encoders extend it as they descend and render it (String) only when an
// error names it, so that a valid request costs no string building. A
// Path refers to its parent: keep it on the stack, as the descent does.
type Path struct {
	parent *Path
	name   string // a member name; "" for an element
	index  int
}

// Root returns the path of a top-level member.
func Root(name string) Path { return Path{name: name} }

// Field returns the path of member name of the value at p.
func (p *Path) Field(name string) Path { return Path{parent: p, name: name} }

// Elem returns the path of element i of the array at p.
func (p *Path) Elem(i int) Path { return Path{parent: p, index: i} }

// String renders the path in the clients' dotted notation:
// messages[0].content.
func (p *Path) String() string { return string(p.append(nil)) }

func (p *Path) append(b []byte) []byte {
	if p == nil {
		return b
	}
	b = p.parent.append(b)
	if p.name == "" {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		return append(b, ']')
	}
	if len(b) > 0 {
		b = append(b, '.')
	}
	return append(b, p.name...)
}
