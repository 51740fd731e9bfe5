// Package tokens estimates token counts with a real BPE tokenizer
// (o200k_base, the encoding of current OpenAI models), whose vocabulary is
// embedded in the binary: nothing is downloaded at run time. Other vendors'
// tokenizers differ, so every count made here is an estimate and is marked
// as one by its callers.
//
// The vocabulary is loaded on first use (about a quarter of a second and
// some tens of MB), so a gateway that never estimates never pays for it.
package tokens

import (
	"sync"

	"github.com/pkoukk/tiktoken-go"
	loader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/llmux/llmux/llm"
)

// Per-item overheads of the chat format, as OpenAI documents them for its
// own models: each message costs a few tokens of framing, and every reply
// is primed with three.
const (
	perMessage = 3
	perName    = 1
	perReply   = 3
	// perImage is a flat estimate for an image whose size is unknown here
	// (OpenAI charges 85 tokens for a low-detail tile, Anthropic about
	// width*height/750).
	perImage = 765
	// perFile is a flat estimate for a document.
	perFile = 1500
)

var (
	once sync.Once
	enc  *tiktoken.Tiktoken
	err  error
)

func encoding() (*tiktoken.Tiktoken, error) {
	once.Do(func() {
		tiktoken.SetBpeLoader(loader.NewOfflineLoader())
		enc, err = tiktoken.GetEncoding("o200k_base")
	})
	return enc, err
}

// Text returns the number of tokens in s.
func Text(s string) int {
	if s == "" {
		return 0
	}
	e, err := encoding()
	if err != nil {
		return (len(s) + 3) / 4 // the embedded vocabulary is broken: the usual rule of thumb
	}
	return len(e.EncodeOrdinary(s))
}

// Request estimates the input tokens of a chat request: messages with their
// framing, tool definitions and the reply's priming.
func Request(req *llm.Request) int { return request(req, Text) }

// Quick estimates the input tokens of a chat request without the
// tokenizer: text counts one token per three bytes, rounded up, with the
// same framing and flat media costs as Request. Three bytes per token is
// above the tokenizer's count for English prose (about four) and near it
// for other scripts and code, so Quick leans high, as an admission check's
// reservation should. It is a pass over the lengths only, some hundred
// times cheaper than Request.
func Quick(req *llm.Request) int { return request(req, quickText) }

func quickText(s string) int { return (len(s) + 2) / 3 }

func request(req *llm.Request, Text func(string) int) int {
	n := perReply
	for i := range req.Messages {
		m := &req.Messages[i]
		n += perMessage
		if m.Name != "" {
			n += perName + Text(m.Name)
		}
		n += parts(m.Parts, Text)
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		n += Text(t.Name) + Text(t.Description) + Text(string(t.Parameters)) + Text(string(t.Raw))
	}
	if rf := req.ResponseFormat; rf != nil {
		n += Text(string(rf.Schema))
	}
	return n
}

// Parts estimates the tokens of message parts.
func Parts(ps []llm.Part) int { return parts(ps, Text) }

func parts(ps []llm.Part, Text func(string) int) int {
	n := 0
	for i := range ps {
		p := &ps[i]
		switch p.Type {
		case llm.PartText, llm.PartRefusal:
			n += Text(p.Text)
		case llm.PartImage:
			n += perImage
		case llm.PartAudio, llm.PartFile:
			n += perFile
		case llm.PartToolCall:
			if c := p.ToolCall; c != nil {
				n += Text(c.Name) + Text(c.Arguments)
			}
		case llm.PartToolResult:
			if r := p.ToolResult; r != nil {
				n += parts(r.Content, Text)
			}
		case llm.PartReasoning:
			if r := p.Reasoning; r != nil {
				n += Text(r.Text)
			}
		}
	}
	return n
}
