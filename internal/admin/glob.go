package admin

import "github.com/llmux/llmux/internal/glob"

// ValidGlob reports what is wrong with a model pattern of a key's models
// list, or nil. The syntax is package glob's: path.Match's, except that "*"
// and "?" also match "/". Code below the admin API (internal/keys) imports
// internal/glob directly.
func ValidGlob(p string) error { return glob.Valid(p) }

// MatchGlob reports whether the model name matches the whole pattern, which
// ValidGlob should have accepted (an invalid one matches nothing past its
// fault).
func MatchGlob(pattern, name string) bool { return glob.Match(pattern, name) }
