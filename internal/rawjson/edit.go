package rawjson

// Edit changes one top-level member.
type Edit struct {
	// Key names the member.
	Key string
	// Value, when not nil, replaces the member's value (raw JSON). A Value
	// for a key the object lacks adds the member at the end.
	Value []byte
	// Rename, when not empty, gives the member a new name.
	Rename string
	// Delete removes the member.
	Delete bool
}

// Apply appends to dst the object data with edits applied to its members (as
// returned by Members for data). Members the edits do not touch keep their
// exact bytes, and so do the separators between two untouched neighbours.
// With no applicable edit, the result is data itself.
func Apply(dst, data []byte, members []Member, edits []Edit) []byte {
	if len(edits) == 0 {
		return append(dst, data...)
	}
	var small [16]bool
	var used []bool // which edits matched a member
	if len(edits) <= len(small) {
		used = small[:len(edits)]
	} else {
		used = make([]bool, len(edits))
	}
	open := indexByte(data, '{') + 1
	if len(members) > 0 {
		open = members[0].Start
	}
	dst = append(dst, data[:open]...)
	wrote := false
	prevKept := -1
	for i := range members {
		m := &members[i]
		e, idx := find(edits, m.Key)
		if idx >= 0 {
			used[idx] = true
		}
		if e != nil && e.Delete {
			continue
		}
		switch {
		case !wrote:
		case prevKept == i-1:
			dst = append(dst, data[members[i-1].ValueEnd:m.Start]...)
		default:
			dst = append(dst, ',')
		}
		if e != nil && e.Rename != "" {
			dst = AppendString(dst, e.Rename)
			dst = append(dst, data[m.Start+len(m.Key)+2:m.ValueStart]...)
		} else {
			dst = append(dst, data[m.Start:m.ValueStart]...)
		}
		if e != nil && e.Value != nil {
			dst = append(dst, e.Value...)
		} else {
			dst = append(dst, data[m.ValueStart:m.ValueEnd]...)
		}
		wrote = true
		prevKept = i
	}
	for i := range edits {
		e := &edits[i]
		if used[i] || e.Delete || e.Value == nil {
			continue
		}
		if wrote {
			dst = append(dst, ',')
		}
		name := e.Key
		if e.Rename != "" {
			name = e.Rename
		}
		dst = AppendString(dst, name)
		dst = append(dst, ':')
		dst = append(dst, e.Value...)
		wrote = true
	}
	end := len(data)
	for end > 0 && data[end-1] != '}' {
		end--
	}
	closeAt := end - 1
	if len(members) > 0 {
		closeAt = members[len(members)-1].ValueEnd
		if prevKept != len(members)-1 {
			// The last member was deleted: skip to the closing brace.
			closeAt = end - 1
		}
	}
	if closeAt < 0 {
		closeAt = 0
	}
	return append(dst, data[closeAt:]...)
}

func find(edits []Edit, key []byte) (*Edit, int) {
	for i := range edits {
		if edits[i].Key == string(key) {
			return &edits[i], i
		}
	}
	return nil, -1
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
