package config

import (
	"os"
	"strings"
)

// Environment variables llmux itself reads (providers' key variables come
// from the provider table the caller passes to FromEnv).
const (
	// EnvConfig names the configuration file when --config is not given.
	EnvConfig = "LLMUX_CONFIG"
	// EnvListen overrides the listen address of a configuration assembled
	// from the environment.
	EnvListen = "LLMUX_LISTEN"
	// EnvAdminKey sets the admin key of a configuration assembled from the
	// environment.
	EnvAdminKey = "LLMUX_ADMIN_KEY"
	// EnvKeys sets static client keys (comma-separated) of a configuration
	// assembled from the environment.
	EnvKeys = "LLMUX_KEYS"
)

// Getenv is os.LookupEnv; tests replace the environment by passing their own.
func Getenv(name string) (string, bool) { return os.LookupEnv(name) }

// ConfigPath returns the configuration file to use: flag when given, else
// $LLMUX_CONFIG, else "".
func ConfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	v, _ := os.LookupEnv(EnvConfig)
	return v
}

// expand replaces ${NAME} and ${NAME:-default} in s with environment values;
// "$$" stands for a literal "$". It returns the names referenced but unset
// (and without a default).
func expand(s string, getenv func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var unset []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		ref := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if v, ok := getenv(name); ok && (v != "" || !hasDef) {
			b.WriteString(v)
		} else if hasDef {
			b.WriteString(def)
		} else {
			unset = append(unset, name)
		}
		i += 2 + end
	}
	return b.String(), unset
}
