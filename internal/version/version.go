// Package version holds the build's version string.
package version

import "runtime/debug"

// Version is set at link time (-ldflags "-X github.com/llmux/llmux/internal/version.Version=v1.2.3");
// without it, the module version or "dev".
var Version = ""

// String returns the version.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
