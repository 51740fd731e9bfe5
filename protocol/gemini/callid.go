package gemini

import (
	"strconv"
	"strings"
)

// callIDPrefix starts every function-call id this package makes up. It
// marks the id as not Gemini's own: the egress encoder never sends it
// upstream. The rest of the id is letters, digits and '_', which every
// protocol's id pattern accepts.
const callIDPrefix = "call_gemini_"

// generatedID reports whether id was made up by this package.
func generatedID(id string) bool { return strings.HasPrefix(id, callIDPrefix) }

// callID returns the stable id of a function call that came without one:
// a 64-bit FNV-1a hash of where the call is (scope, the candidate or
// content index, its position) and what it is (name and arguments).
func callID(scope string, group, pos int, name string, args []byte) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	mix := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime // separator: no field can end in another
	}
	mix(scope)
	mix(strconv.Itoa(group))
	mix(strconv.Itoa(pos))
	mix(name)
	for _, c := range args {
		h = (h ^ uint64(c)) * prime
	}
	var b [len(callIDPrefix) + 16]byte
	copy(b[:], callIDPrefix)
	for i := len(b) - 1; i >= len(callIDPrefix); i-- {
		b[i] = hexDigits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// callMatcher pairs function responses with the calls they answer, as
// Gemini does: by id when the response has one, else with the oldest
// unanswered call of the same name.
type callMatcher struct {
	open []openCall
}

type openCall struct {
	id, name string
	answered bool
}

// call records a call.
func (m *callMatcher) call(id, name string) {
	m.open = append(m.open, openCall{id: id, name: name})
}

// answer returns the call id a response answers, or "" when no recorded
// call matches.
func (m *callMatcher) answer(id, name string) string {
	if id != "" {
		for i := range m.open {
			if m.open[i].id == id {
				m.open[i].answered = true
				break
			}
		}
		return id
	}
	for i := range m.open {
		if c := &m.open[i]; !c.answered && c.name == name {
			c.answered = true
			return c.id
		}
	}
	return ""
}
