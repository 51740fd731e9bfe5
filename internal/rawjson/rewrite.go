package rawjson

import "bytes"

// Name returns the member's name with its escapes decoded: the name a JSON
// decoder (and so the upstream) reads.
func (m *Member) Name() string {
	if bytes.IndexByte(m.Key, '\\') < 0 {
		return string(m.Key)
	}
	s, err := String(append(append([]byte{'"'}, m.Key...), '"'))
	if err != nil {
		return string(m.Key)
	}
	return s
}

// NameIs reports whether the member's decoded name is name, without
// allocating for the usual key that has no escapes.
func (m *Member) NameIs(name string) bool {
	if bytes.IndexByte(m.Key, '\\') < 0 {
		return string(m.Key) == name
	}
	return m.Name() == name
}

// OneOf returns the first of names that is the member's decoded name, or
// "". It allocates only for a name spelled with escapes.
func (m *Member) OneOf(names ...string) string {
	for _, name := range names {
		if m.NameIs(name) {
			return name
		}
	}
	return ""
}

// Index returns the index of the first member whose decoded name is name,
// or -1.
func Index(ms []Member, name string) int {
	for i := range ms {
		if ms[i].NameIs(name) {
			return i
		}
	}
	return -1
}

// RawKey returns name as the body spells it (escapes and all), which is
// what an Edit's Key matches; name itself when no member has it.
func RawKey(ms []Member, name string) string {
	if i := Index(ms, name); i >= 0 && string(ms[i].Key) != name {
		return string(ms[i].Key)
	}
	return name
}

// FieldEdits appends to edits the changes a passed-through body needs for
// an upstream's quirks, matching members by their decoded names: every
// member named in drop is deleted, a member named in rename is renamed (or
// deleted when the new name is present already). It returns the first name
// of refuse that the body sets to anything but null, for the caller to
// refuse the request, and then no edits.
func FieldEdits(data []byte, ms []Member, edits []Edit, drop []string, rename map[string]string, refuse []string) ([]Edit, string) {
	for _, name := range refuse {
		for i := range ms {
			if ms[i].NameIs(name) && Kind(ms[i].Value(data)) != "null" {
				return edits, name
			}
		}
	}
	for _, name := range drop {
		for i := range ms {
			if ms[i].NameIs(name) {
				edits = append(edits, Edit{Key: string(ms[i].Key), Delete: true})
			}
		}
	}
	for from, to := range rename {
		i := Index(ms, from)
		switch {
		case i < 0:
		case Index(ms, to) >= 0:
			edits = append(edits, Edit{Key: string(ms[i].Key), Delete: true})
		default:
			edits = append(edits, Edit{Key: string(ms[i].Key), Rename: to})
		}
	}
	return edits, ""
}
