package mock

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/anthropic"
	"github.com/llmux/llmux/protocol/gemini"
	"github.com/llmux/llmux/protocol/openai"
)

// The request bodies are irrelevant to the mock except for the stream flags.
const (
	openaiReq       = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	openaiStream    = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	openaiUsage     = `{"model":"gpt-4o-mini","stream": true,"stream_options":{"include_usage": true},"messages":[]}`
	anthropicReq    = `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	anthropicStream = `{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp
}

// TestCompleteBodies decodes each protocol's complete answer with llmux's
// own egress decoder.
func TestCompleteBodies(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	for _, tt := range []struct {
		name, path, body string
		egress           protocol.Egress
	}{
		{"openai", PathOpenAI, openaiReq, openai.Protocol{}},
		{"openai without /v1", "/chat/completions", openaiReq, openai.Protocol{}},
		{"anthropic", PathAnthropic, anthropicReq, anthropic.Protocol{}},
		{"gemini", PathGemini + "gemini-2.5-flash:generateContent", `{"contents":[]}`, gemini.Protocol{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, srv.URL+tt.path, tt.body)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if n := len(body); n < 800 || n > 1300 {
				t.Errorf("body is %d bytes, want about 1 KB", n)
			}
			got, err := tt.egress.DecodeResponse(body)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if got.Text() != answerText() {
				t.Errorf("text %q", got.Text())
			}
			if got.Choices[0].FinishReason != llm.FinishStop {
				t.Errorf("finish %q", got.Choices[0].FinishReason)
			}
			if got.Usage.InputTokens != promptTokens || got.Usage.OutputTokens != outputTokens {
				t.Errorf("usage %+v", got.Usage)
			}
		})
	}
}

// TestStreams decodes each protocol's stream with llmux's own stream
// decoder: the configured number of text deltas, a stop, and usage.
func TestStreams(t *testing.T) {
	const chunks = 7
	srv := httptest.NewServer(New(Options{Chunks: chunks}))
	defer srv.Close()
	for _, tt := range []struct {
		name, path, body string
		egress           protocol.Egress
		usage            bool
	}{
		{"openai", PathOpenAI, openaiStream, openai.Protocol{}, false},
		{"openai with usage", PathOpenAI, openaiUsage, openai.Protocol{}, true},
		{"anthropic", PathAnthropic, anthropicStream, anthropic.Protocol{}, true},
		{"gemini", PathGemini + "gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[]}`, gemini.Protocol{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, srv.URL+tt.path, tt.body)
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type %q", ct)
			}
			st := tt.egress.NewStreamDecoder(resp.Body)
			defer st.Close()
			var text strings.Builder
			var deltas int
			var finish llm.FinishReason
			var usage *llm.Usage
			for {
				ev, err := st.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch ev.Type {
				case llm.EventText:
					deltas++
					text.WriteString(ev.Text)
				case llm.EventFinish:
					finish = ev.FinishReason
				case llm.EventUsage:
					usage = ev.Usage
				}
			}
			want := ""
			for i := range chunks {
				want += word(i)
			}
			if deltas != chunks || text.String() != want {
				t.Errorf("%d deltas %q, want %d %q", deltas, text.String(), chunks, want)
			}
			if finish != llm.FinishStop {
				t.Errorf("finish %q", finish)
			}
			if tt.usage && (usage == nil || usage.OutputTokens != chunks) {
				t.Errorf("usage %+v, want %d output tokens", usage, chunks)
			}
			if !tt.usage && usage != nil {
				t.Errorf("usage %+v sent without include_usage", usage)
			}
		})
	}
}

// TestChunkDelay: chunks arrive one by one, the delay apart.
func TestChunkDelay(t *testing.T) {
	const chunks, delay = 5, 30 * time.Millisecond
	srv := httptest.NewServer(New(Options{Chunks: chunks, ChunkDelay: delay}))
	defer srv.Close()
	start := time.Now()
	resp := post(t, srv.URL+PathOpenAI, openaiStream)
	defer resp.Body.Close()
	var arrivals []time.Duration
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `data: {`) && strings.Contains(sc.Text(), `"content"`) {
			arrivals = append(arrivals, time.Since(start))
		}
	}
	if len(arrivals) != chunks {
		t.Fatalf("%d content chunks, want %d", len(arrivals), chunks)
	}
	for i := 1; i < chunks; i++ {
		if gap := arrivals[i] - arrivals[i-1]; gap < delay*8/10 {
			t.Errorf("chunk %d came %v after the one before, want about %v", i, gap, delay)
		}
	}
}

// TestClientGoneStopsStream: a client that leaves ends the handler at the
// next pause instead of holding it for the rest of the stream.
func TestClientGoneStopsStream(t *testing.T) {
	m := New(Options{Chunks: 1000, ChunkDelay: time.Hour})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.ServeHTTP(w, r)
		close(done)
	}))
	defer srv.Close()
	resp := post(t, srv.URL+PathAnthropic, anthropicStream)
	buf := make([]byte, 64)
	resp.Body.Read(buf)
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs after the client left")
	}
}

func TestNotFound(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	for _, tt := range []struct{ method, path string }{
		{"GET", PathOpenAI},
		{"POST", "/v1/embeddings"},
		{"POST", PathGemini + "gemini:countTokens"},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tt.method, tt.path, resp.StatusCode)
		}
	}
	if n := New(Options{}).Requests(); n != 0 {
		t.Errorf("a new server counts %d requests", n)
	}
}

func TestHasTrue(t *testing.T) {
	for _, tt := range []struct {
		body string
		want bool
	}{
		{`{"stream":true}`, true},
		{`{"stream": true}`, true},
		{`{"stream":false}`, false},
		{`{"stream_options":{"include_usage":true}}`, false},
		{`{"stream":false,"x":{"stream":true}}`, true}, // not a parser: any member of that name
		{`{"streaming":true}`, false},
		{``, false},
	} {
		if got := hasTrue([]byte(tt.body), "stream"); got != tt.want {
			t.Errorf("hasTrue(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
	if !bytes.Contains(New(Options{}).openai.usage, []byte(`"usage"`)) {
		t.Error("the OpenAI usage chunk carries no usage")
	}
}
