// Package mock serves the benchmark's fake upstreams: OpenAI Chat
// Completions, Anthropic Messages and Gemini generateContent on one HTTP
// handler. Each answers with a fixed, realistic body of about 1 KB, or with a
// stream of a configurable number of content chunks, each flushed on its own,
// with a configurable pause between them.
//
// Every body and stream frame is built once, in New, so that a request costs
// the mock only reading the request body and writing bytes: the benchmark
// measures the gateway, not the mock.
//
// It imports only the standard library, and nothing of llmux: an upstream
// that shared llmux's encoders would share their bugs. Its tests check the
// output with llmux's own protocol decoders instead.
package mock

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape the mock's answers.
type Options struct {
	// Chunks is how many content chunks a stream carries, each holding one
	// word. Frames that carry no content (Anthropic's message_start, the
	// final usage chunk, "data: [DONE]") travel with the first or the last
	// chunk. Default 100.
	Chunks int
	// ChunkDelay is the pause before every content chunk but the first; 0
	// sends them back to back, still each written and flushed on its own.
	ChunkDelay time.Duration
}

// DefaultChunks is Options.Chunks when it is zero.
const DefaultChunks = 100

// Server is the mock upstream; create it with New. It is safe for
// concurrent use.
type Server struct {
	opts      Options
	openai    answer
	anthropic answer
	gemini    answer
	requests  atomic.Int64
}

// answer is one protocol's prebuilt replies.
type answer struct {
	body []byte // the complete, non-streaming response
	// head is written with the first chunk, tail with the last; usage is
	// written before tail when the client asked for usage (OpenAI's
	// stream_options.include_usage).
	head, tail, usage []byte
	chunks            [][]byte
}

// New builds the replies for opts.
func New(opts Options) *Server {
	if opts.Chunks <= 0 {
		opts.Chunks = DefaultChunks
	}
	return &Server{
		opts:      opts,
		openai:    openaiAnswer(opts.Chunks),
		anthropic: anthropicAnswer(opts.Chunks),
		gemini:    geminiAnswer(opts.Chunks),
	}
}

// Options returns the options in effect, defaults applied.
func (s *Server) Options() Options { return s.opts }

// Requests returns how many requests the server has answered or is
// answering.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Paths the mock serves. OpenAI's also without the /v1 prefix, as OpenAI
// base URLs include /v1.
const (
	PathOpenAI    = "/v1/chat/completions"
	PathAnthropic = "/v1/messages"
	// PathGemini is followed by the model and ":generateContent" or
	// ":streamGenerateContent".
	PathGemini = "/v1beta/models/"
)

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP answers POSTs to the three protocols' chat endpoints; anything
// else gets 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufs.Put(buf)
	if _, err := io.Copy(buf, r.Body); err != nil {
		return // the client went away
	}
	body := buf.Bytes()
	path := r.URL.Path
	switch {
	case r.Method != http.MethodPost:
		notFound(w)
	case path == PathOpenAI || path == "/chat/completions":
		w.Header().Set("X-Request-Id", "req_bench")
		s.reply(w, r, &s.openai, hasTrue(body, "stream"), hasTrue(body, "include_usage"))
	case path == PathAnthropic:
		w.Header().Set("Request-Id", "req_bench")
		s.reply(w, r, &s.anthropic, hasTrue(body, "stream"), false)
	case strings.HasPrefix(path, PathGemini) && strings.HasSuffix(path, ":generateContent"):
		s.reply(w, r, &s.gemini, false, false)
	case strings.HasPrefix(path, PathGemini) && strings.HasSuffix(path, ":streamGenerateContent"):
		s.reply(w, r, &s.gemini, true, false)
	default:
		notFound(w)
	}
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"error":{"message":"mock: no such endpoint","type":"invalid_request_error","code":"not_found"}}`)
}

// hasTrue reports whether body sets the member name to true (compact or
// with one space, as JSON encoders write it).
func hasTrue(body []byte, name string) bool {
	key := `"` + name + `":`
	for rest := body; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[i+len(key):], " ")
		if bytes.HasPrefix(rest, []byte("true")) {
			return true
		}
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, a *answer, stream, usage bool) {
	h := w.Header()
	if !stream {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		w.Write(a.body)
		return
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flush := w.(http.Flusher).Flush
	var timer *time.Timer
	if s.opts.ChunkDelay > 0 {
		timer = time.NewTimer(s.opts.ChunkDelay)
		defer timer.Stop()
	}
	last := len(a.chunks) - 1
	for i, c := range a.chunks {
		if i == 0 {
			w.Write(a.head)
		} else if timer != nil {
			timer.Reset(s.opts.ChunkDelay)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			}
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		if i == last {
			if usage {
				w.Write(a.usage)
			}
			w.Write(a.tail)
		}
		flush()
	}
}
