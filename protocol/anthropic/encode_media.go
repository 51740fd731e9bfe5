package anthropic

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// toolInput turns a call's arguments (JSON text) into the input object.
func toolInput(args string, p *wirejson.Path) (jsontext.Value, error) {
	trimmed := bytes.TrimSpace([]byte(args))
	if len(trimmed) == 0 {
		return jsontext.Value("{}"), nil
	}
	if trimmed[0] != '{' || rawjson.Valid(trimmed) != nil {
		return nil, llm.InvalidParam(p.String(), "%s: the arguments must be a JSON object for an Anthropic upstream", p.String())
	}
	return jsontext.Value(trimmed), nil
}

// toolID reduces an id to the characters Anthropic accepts
// ([a-zA-Z0-9_-]); a call and its result map alike.
func toolID(id string) string {
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			b := []byte(id)
			for j := i; j < len(b); j++ {
				if !idChar(b[j]) {
					b[j] = '_'
				}
			}
			return string(b)
		}
	}
	return id
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// resultContent encodes a tool result's content: a string when it is one
// plain text, else blocks; nil when empty.
func resultContent(parts []llm.Part, p *wirejson.Path, ext bool) (*content, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	if len(parts) == 1 && parts[0].Type == llm.PartText && parts[0].CacheControl == nil &&
		(!ext || len(parts[0].Extensions) == 0) {
		if parts[0].Text == "" {
			return nil, nil
		}
		return &content{Text: &parts[0].Text}, nil // read only, during the encoding
	}
	c := &content{IsBlock: true}
	pc := p.Field("content")
	for j := range parts {
		part := &parts[j]
		pp := pc.Elem(j)
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			if part.Text != "" {
				c.Blocks = append(c.Blocks, textBlock(part, ext))
			}
		case llm.PartImage, llm.PartFile:
			b, _, err := encodeMedia(part, &pp, ext)
			if err != nil {
				return nil, err
			}
			c.Blocks = append(c.Blocks, b)
		case llm.PartAudio:
			return nil, llm.InvalidParam(pp.String(), "%s: audio is not supported by Anthropic upstreams", pp.String())
		}
	}
	if len(c.Blocks) == 0 {
		return nil, nil
	}
	return c, nil
}

// encodeMedia encodes an image or file part as an image or document block.
func encodeMedia(part *llm.Part, p *wirejson.Path, ext bool) (block, bool, error) {
	m := part.Media
	if m == nil {
		return block{}, false, llm.InvalidParam(p.String(), "%s: media part without content", p.String())
	}
	mt, data := m.MIMEType, m.Data
	if data == "" && strings.HasPrefix(m.URL, "data:") {
		var ok bool
		if mt, data, ok = llm.ParseDataURL(m.URL); !ok {
			return block{}, false, llm.InvalidParam(p.String(), "%s: a data URL must hold base64-encoded data", p.String())
		}
	}
	image := part.Type == llm.PartImage || strings.HasPrefix(mt, "image/")
	b := block{Type: "document", CacheControl: encodeCache(part.CacheControl)}
	if image {
		b.Type = "image"
	}
	switch {
	case data != "":
		switch {
		case image:
			b.Source = &source{Type: "base64", MediaType: mt, Data: data}
		case mt == "" || mt == "application/pdf":
			b.Source = &source{Type: "base64", MediaType: "application/pdf", Data: data}
		case strings.HasPrefix(mt, "text/"):
			text, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				return block{}, false, llm.InvalidParam(p.String(), "%s: the file data is not valid base64", p.String())
			}
			b.Source = &source{Type: "text", MediaType: "text/plain", Data: string(text)}
		default:
			return block{}, false, llm.InvalidParam(p.String(), "%s: files of type %q cannot be sent to an Anthropic upstream (PDF, plain text and images can)", p.String(), mt)
		}
	case strings.HasPrefix(m.URL, "https://") || strings.HasPrefix(m.URL, "http://"):
		b.Source = &source{Type: "url", URL: m.URL}
	case m.FileID != "" && ext:
		b.Source = &source{Type: "file", FileID: m.FileID}
	case m.FileID != "":
		return block{}, false, llm.InvalidParam(p.String(), "%s: a file id of another provider cannot be sent to an Anthropic upstream", p.String())
	default:
		return block{}, false, llm.InvalidParam(p.String(), "%s: this media reference cannot be sent to an Anthropic upstream", p.String())
	}
	if ext {
		b.Unknown = wirejson.Unknown(part.Extensions)
	}
	return b, true, nil
}
