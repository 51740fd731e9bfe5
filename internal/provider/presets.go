package provider

import "github.com/llmux/llmux/protocol/openai"

// Registry IDs of the native protocols the presets below speak. They are
// strings, not imports, because a preset is data: provider.Build checks
// that the registry has the protocol.
const (
	protoAnthropic = "anthropic"
	protoGemini    = "gemini"
	protoOllama    = "ollama"
	protoResponses = "responses"
)

// Preset describes a provider type as data: which protocol its upstream
// speaks, where, how it authenticates and what it gets wrong. Adding an
// OpenAI-compatible vendor is adding an entry to presets.
type Preset struct {
	// Type is the name used in the configuration's "type" field.
	Type string
	// Protocol is the registry ID of the upstream's protocol.
	Protocol string
	// BaseURL is the default endpoint.
	BaseURL string
	// KeyEnv lists the environment variables that enable this provider with
	// no configuration file; the first one set holds the key.
	KeyEnv []string
	// BaseURLEnv names a variable holding the base URL instead (a local
	// server), with BaseURLSuffix appended to it.
	BaseURLEnv    string
	BaseURLSuffix string
	// EnvID is the provider id given to a provider enabled from the
	// environment; default Type.
	EnvID string
	// Auth is how the key is sent.
	Auth AuthScheme
	// Headers are sent with every request (a protocol version, say); the
	// configuration's headers and a same-protocol client's own values win.
	Headers map[string]string
	// NeedsMaxTokens marks protocols that require an output limit: a
	// request without one gets the configured max_tokens default.
	NeedsMaxTokens bool
	// KeyOptional marks servers that work without a key.
	KeyOptional bool
	// Quirks are the vendor's deviations from its protocol.
	Quirks Quirks
	// ModelPatterns are glob patterns of the model names this vendor serves,
	// used to route a bare model name when the provider lists no models.
	ModelPatterns []string
	// Title names the vendor in documentation and logs.
	Title string
}

// Quirks are deviations of an OpenAI-compatible vendor that the gateway
// papers over, on the passthrough path as well as the translated one.
type Quirks struct {
	// NoStreamOptions: the vendor rejects stream_options; it reports usage
	// in the last chunk without being asked.
	NoStreamOptions bool
	// MaxTokensField is the vendor's name for max_completion_tokens when it
	// rejects that one.
	MaxTokensField string
	// Drop lists request fields the vendor rejects although they do not
	// change the answer (metadata, store, user, …); they are removed.
	Drop []string
	// Unsupported lists request fields the vendor rejects that do change the
	// answer (logit_bias, logprobs, …); a request that sets one is refused
	// with a 400 naming it, instead of being answered differently.
	Unsupported []string
}

// presets is the one list of provider types besides mock: the native
// protocol types first, then the OpenAI-compatible vendors sorted by Type.
var presets = []Preset{
	{Type: "openai", Title: "OpenAI", Protocol: openai.ID, BaseURL: "https://api.openai.com/v1",
		KeyEnv: []string{"OPENAI_API_KEY"}, Auth: AuthBearer,
		ModelPatterns: []string{"gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-embedding-*", "codex-*", "computer-use-*"}},
	// The Responses API of the same vendor; not enabled from the
	// environment, where the key already enables "openai".
	{Type: "openai-responses", Title: "OpenAI (Responses API)", Protocol: protoResponses, BaseURL: "https://api.openai.com/v1",
		Auth: AuthBearer, ModelPatterns: []string{"gpt-*", "o1*", "o3*", "o4*", "codex-*", "computer-use-*"}},
	{Type: "anthropic", Title: "Anthropic", Protocol: protoAnthropic, BaseURL: "https://api.anthropic.com",
		KeyEnv: []string{"ANTHROPIC_API_KEY"}, Auth: AuthXAPIKey, NeedsMaxTokens: true,
		Headers:       map[string]string{"Anthropic-Version": "2023-06-01"},
		ModelPatterns: []string{"claude-*"}},
	{Type: "gemini", Title: "Google Gemini API", Protocol: protoGemini, BaseURL: "https://generativelanguage.googleapis.com",
		KeyEnv: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, Auth: AuthGoogAPIKey,
		ModelPatterns: []string{"gemini-*", "gemma-*", "learnlm-*"}},
	{Type: "ollama", Title: "Ollama", Protocol: protoOllama, BaseURL: "http://localhost:11434",
		BaseURLEnv: "OLLAMA_BASE_URL", Auth: AuthBearer, KeyOptional: true},
	{Type: "bailian", Title: "Alibaba Cloud Model Studio (DashScope, compatible mode)", Protocol: openai.ID,
		BaseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1", KeyEnv: []string{"DASHSCOPE_API_KEY", "BAILIAN_API_KEY"},
		Auth: AuthBearer, ModelPatterns: []string{"qwen*", "qwq-*", "qvq-*"}},
	{Type: "cerebras", Title: "Cerebras", Protocol: openai.ID, BaseURL: "https://api.cerebras.ai/v1",
		KeyEnv: []string{"CEREBRAS_API_KEY"}, Auth: AuthBearer,
		Quirks: Quirks{Drop: []string{"service_tier"},
			Unsupported: []string{"frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls"}}},
	{Type: "deepseek", Title: "DeepSeek", Protocol: openai.ID, BaseURL: "https://api.deepseek.com/v1",
		KeyEnv: []string{"DEEPSEEK_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"deepseek-*"},
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "fireworks", Title: "Fireworks AI", Protocol: openai.ID, BaseURL: "https://api.fireworks.ai/inference/v1",
		KeyEnv: []string{"FIREWORKS_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"accounts/fireworks/*"},
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "groq", Title: "Groq", Protocol: openai.ID, BaseURL: "https://api.groq.com/openai/v1",
		KeyEnv: []string{"GROQ_API_KEY"}, Auth: AuthBearer,
		Quirks: Quirks{Unsupported: []string{"logit_bias", "logprobs", "top_logprobs"}}},
	{Type: "mistral", Title: "Mistral AI", Protocol: openai.ID, BaseURL: "https://api.mistral.ai/v1",
		KeyEnv: []string{"MISTRAL_API_KEY"}, Auth: AuthBearer,
		ModelPatterns: []string{"mistral-*", "magistral-*", "codestral-*", "devstral-*", "pixtral-*", "ministral-*", "open-mistral-*"},
		Quirks: Quirks{NoStreamOptions: true, MaxTokensField: "max_tokens",
			Drop:        []string{"store", "metadata", "service_tier", "user"},
			Unsupported: []string{"logit_bias", "logprobs", "top_logprobs"}}},
	{Type: "moonshot", Title: "Moonshot AI (Kimi)", Protocol: openai.ID, BaseURL: "https://api.moonshot.ai/v1",
		KeyEnv: []string{"MOONSHOT_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"moonshot-*", "kimi-*"},
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "ollama-openai", Title: "Ollama (OpenAI-compatible /v1)", Protocol: openai.ID, BaseURL: "http://localhost:11434/v1",
		Auth: AuthBearer, KeyOptional: true, Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "openrouter", Title: "OpenRouter", Protocol: openai.ID, BaseURL: "https://openrouter.ai/api/v1",
		KeyEnv: []string{"OPENROUTER_API_KEY"}, Auth: AuthBearer},
	{Type: "perplexity", Title: "Perplexity", Protocol: openai.ID, BaseURL: "https://api.perplexity.ai",
		KeyEnv: []string{"PERPLEXITY_API_KEY", "PPLX_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"sonar*"},
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "siliconflow", Title: "SiliconFlow", Protocol: openai.ID, BaseURL: "https://api.siliconflow.cn/v1",
		KeyEnv: []string{"SILICONFLOW_API_KEY"}, Auth: AuthBearer,
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "together", Title: "Together AI", Protocol: openai.ID, BaseURL: "https://api.together.xyz/v1",
		KeyEnv: []string{"TOGETHER_API_KEY"}, Auth: AuthBearer,
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
	{Type: "xai", Title: "xAI", Protocol: openai.ID, BaseURL: "https://api.x.ai/v1",
		KeyEnv: []string{"XAI_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"grok-*"}},
	{Type: "yi", Title: "01.AI (Yi)", Protocol: openai.ID, BaseURL: "https://api.lingyiwanwu.com/v1",
		KeyEnv: []string{"YI_API_KEY"}, Auth: AuthBearer, ModelPatterns: []string{"yi-*"},
		Quirks: Quirks{MaxTokensField: "max_tokens"}},
}

// MockType is the type of the built-in deterministic upstream.
const MockType = "mock"

// Lookup returns the preset of a provider type.
func Lookup(typ string) (Preset, bool) {
	for _, p := range presets {
		if p.Type == typ {
			return p, true
		}
	}
	return Preset{}, false
}

// Presets returns every preset, in documentation order.
func Presets() []Preset { return append([]Preset(nil), presets...) }

// Types returns every provider type name, mock included.
func Types() []string {
	types := make([]string, 0, len(presets)+1)
	for _, p := range presets {
		types = append(types, p.Type)
	}
	return append(types, MockType)
}
