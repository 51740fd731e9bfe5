package gemini

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// Wire structs of the Gemini API (camelCase, as the API emits it; decoding
// client input also matches snake_case, see decodeOptions). Optional fields
// are pointers or carry omitzero so that encoding sends only what was set;
// structs that clients extend keep their unknown members.

type generateRequest struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *instruction      `json:"systemInstruction,omitzero"`
	Tools             []tool            `json:"tools,omitzero"`
	ToolConfig        *toolConfig       `json:"toolConfig,omitzero"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitzero"`
	// Model is the resource name some clients repeat in the body (and that
	// countTokens' generateContentRequest needs); the URL's model wins.
	Model string `json:"model,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// countRequest is a countTokens body: contents alone, or a whole generate
// request (the form that counts system instructions and tools too).
type countRequest struct {
	Contents               []content        `json:"contents,omitzero"`
	GenerateContentRequest *generateRequest `json:"generateContentRequest,omitzero"`
	// Vertex accepts these at the top level; so does the ingress.
	SystemInstruction *instruction      `json:"systemInstruction,omitzero"`
	Tools             []tool            `json:"tools,omitzero"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitzero"`
}

type countResponse struct {
	TotalTokens int `json:"totalTokens"`
}

type content struct {
	Role  string `json:"role,omitzero"`
	Parts []part `json:"parts"`
}

// instruction is systemInstruction: a content object, or (leniently) a
// plain string.
type instruction content

func (c *instruction) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == '"' {
		s, err := wirejson.ReadString(dec)
		*c = instruction{Parts: []part{{Text: someText(s)}}}
		return err
	}
	return json.UnmarshalDecode(dec, (*content)(c))
}

func (c instruction) MarshalJSONTo(enc *jsontext.Encoder) error {
	return json.MarshalEncode(enc, content(c))
}

type part struct {
	Text                optText           `json:"text,omitzero"`
	Thought             bool              `json:"thought,omitzero"`
	ThoughtSignature    string            `json:"thoughtSignature,omitzero"`
	InlineData          *blob             `json:"inlineData,omitzero"`
	FileData            *fileData         `json:"fileData,omitzero"`
	FunctionCall        *functionCall     `json:"functionCall,omitzero"`
	FunctionResponse    *functionResponse `json:"functionResponse,omitzero"`
	ExecutableCode      jsontext.Value    `json:"executableCode,omitzero"`
	CodeExecutionResult jsontext.Value    `json:"codeExecutionResult,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type blob struct {
	MIMEType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MIMEType string `json:"mimeType,omitzero"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string         `json:"id,omitzero"`
	Name string         `json:"name"`
	Args jsontext.Value `json:"args,omitzero"`
}

type functionResponse struct {
	ID       string         `json:"id,omitzero"`
	Name     string         `json:"name"`
	Response jsontext.Value `json:"response,omitzero"`
	// Parts holds media of a multimodal function response (Gemini 3).
	Parts []part `json:"parts,omitzero"`
}

type executableCode struct {
	Language string `json:"language,omitzero"`
	Code     string `json:"code"`
}

type codeResult struct {
	Outcome string `json:"outcome,omitzero"`
	Output  string `json:"output,omitzero"`
}

// tool is one entry of tools[]: function declarations, and hosted tools
// (googleSearch, codeExecution, …) as unknown members.
type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type functionDeclaration struct {
	Name                 string         `json:"name"`
	Description          string         `json:"description,omitzero"`
	Parameters           jsontext.Value `json:"parameters,omitzero"`
	ParametersJSONSchema jsontext.Value `json:"parametersJsonSchema,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type toolConfig struct {
	FunctionCallingConfig *functionCallingConfig `json:"functionCallingConfig,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode,omitzero"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type generationConfig struct {
	Temperature        *float64        `json:"temperature,omitzero"`
	TopP               *float64        `json:"topP,omitzero"`
	TopK               *float64        `json:"topK,omitzero"`
	CandidateCount     *int            `json:"candidateCount,omitzero"`
	MaxOutputTokens    *int            `json:"maxOutputTokens,omitzero"`
	StopSequences      []string        `json:"stopSequences,omitzero"`
	Seed               *int64          `json:"seed,omitzero"`
	PresencePenalty    *float64        `json:"presencePenalty,omitzero"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitzero"`
	ResponseLogprobs   *bool           `json:"responseLogprobs,omitzero"`
	Logprobs           *int            `json:"logprobs,omitzero"`
	ResponseMIMEType   string          `json:"responseMimeType,omitzero"`
	ResponseSchema     jsontext.Value  `json:"responseSchema,omitzero"`
	ResponseJSONSchema jsontext.Value  `json:"responseJsonSchema,omitzero"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type thinkingConfig struct {
	IncludeThoughts *bool  `json:"includeThoughts,omitzero"`
	ThinkingBudget  *int   `json:"thinkingBudget,omitzero"`
	ThinkingLevel   string `json:"thinkingLevel,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// Responses.

type generateResponse struct {
	Candidates     []candidate    `json:"candidates,omitzero"`
	PromptFeedback jsontext.Value `json:"promptFeedback,omitzero"`
	UsageMetadata  *usageMetadata `json:"usageMetadata,omitzero"`
	ModelVersion   string         `json:"modelVersion,omitzero"`
	ResponseID     string         `json:"responseId,omitzero"`
	CreateTime     string         `json:"createTime,omitzero"`
	// Error is set on an error chunk inside a stream.
	Error *errorBody `json:"error,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type candidate struct {
	Content        *content        `json:"content,omitzero"`
	FinishReason   string          `json:"finishReason,omitzero"`
	Index          *int            `json:"index,omitzero"`
	LogprobsResult *logprobsResult `json:"logprobsResult,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason"`
}

type logprobsResult struct {
	TopCandidates    []topCandidates    `json:"topCandidates,omitzero"`
	ChosenCandidates []logprobCandidate `json:"chosenCandidates"`
}

type topCandidates struct {
	Candidates []logprobCandidate `json:"candidates"`
}

type logprobCandidate struct {
	Token          string  `json:"token"`
	LogProbability float64 `json:"logProbability"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitzero"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitzero"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount,omitzero"`
	TotalTokenCount         int `json:"totalTokenCount"`
}

// Errors.

type errorEnvelope struct {
	Error *errorBody `json:"error"`
}

type errorBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status,omitzero"`
	Details []jsontext.Value `json:"details,omitzero"`
}

// Models.

type modelList struct {
	Models        []modelInfo `json:"models"`
	NextPageToken string      `json:"nextPageToken,omitzero"`
}

type modelInfo struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId,omitzero"`
	Version                    string   `json:"version,omitzero"`
	DisplayName                string   `json:"displayName,omitzero"`
	Description                string   `json:"description,omitzero"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods,omitzero"`
}

// decodeOptions match member names case-insensitively and ignoring '_'
// and '-', so that the snake_case the API accepts (and Google's own REST
// samples use) decodes like camelCase.
var decodeOptions = json.MatchCaseInsensitiveNames(true)

// optText is a part's text: set (possibly empty, as Gemini sends a part
// that only carries a thoughtSignature) or absent. A value type rather than
// a *string, so that decoding a text delta allocates only the string.
type optText struct {
	S   string
	Set bool
}

func someText(s string) optText { return optText{S: s, Set: true} }

func (t optText) IsZero() bool { return !t.Set }

func (t optText) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(t.S))
}

func (t *optText) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		*t = optText{}
		return err
	}
	s, err := wirejson.ReadString(dec)
	*t = optText{S: s, Set: err == nil}
	return err
}

// sticky is a string member that repeats on every stream chunk (the model
// version, the response id): decoding the same value again allocates
// nothing.
type sticky string

func (s *sticky) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if len(v) >= 2 && v[0] == '"' && string(v[1:len(v)-1]) == string(*s) {
		return nil
	}
	if v.Kind() != '"' {
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected a string"}
	}
	str, err := rawjson.String(v)
	*s = sticky(str)
	return err
}

// optInt is an optional integer without a pointer.
type optInt struct {
	N   int
	Set bool
}

func (o *optInt) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		*o = optInt{}
		return err
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	n, ok := parseInt(v)
	if !ok {
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected an integer"}
	}
	*o = optInt{N: n, Set: true}
	return nil
}

// parseInt parses a JSON integer of at most 9 digits.
func parseInt(v []byte) (int, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// optUsage is an optional usageMetadata without a pointer.
type optUsage struct {
	U   usageMetadata
	Set bool
}

func (o *optUsage) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		*o = optUsage{}
		return err
	}
	o.U = usageMetadata{}
	err := json.UnmarshalDecode(dec, &o.U)
	o.Set = err == nil
	return err
}
