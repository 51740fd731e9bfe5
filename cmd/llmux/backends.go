package main

// The store implementations this binary offers; internal/app opens
// whichever the configured DSN names.
import (
	_ "github.com/llmux/llmux/internal/store/postgres" // registers postgres:// and postgresql://
	_ "github.com/llmux/llmux/internal/store/sqlite"   // registers sqlite://
)
