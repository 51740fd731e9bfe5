// Package all is the one list of the protocols llmux speaks. Adding a
// protocol is adding its package and one line here; nothing else switches
// on protocol names.
package all

import (
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/anthropic"
	"github.com/llmux/llmux/protocol/gemini"
	"github.com/llmux/llmux/protocol/ollama"
	"github.com/llmux/llmux/protocol/openai"
	"github.com/llmux/llmux/protocol/responses"
)

// Registry returns a registry holding every protocol.
func Registry() *protocol.Registry {
	return protocol.NewRegistry(
		openai.Protocol{},
		responses.Protocol{},
		anthropic.Protocol{},
		gemini.Protocol{},
		ollama.Protocol{},
		ollama.Generate{},
	)
}
