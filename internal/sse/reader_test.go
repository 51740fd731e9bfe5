package sse

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type wantEvent struct{ name, data string }

func readAll(t *testing.T, r io.Reader) []wantEvent {
	t.Helper()
	sr := NewReader(r)
	var got []wantEvent
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, wantEvent{string(ev.Name), string(ev.Data)})
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []wantEvent
	}{
		{"lf", "data: a\n\ndata: b\n\n", []wantEvent{{"", "a"}, {"", "b"}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []wantEvent{{"", "a"}, {"", "b"}}},
		{"cr only", "data: a\r\rdata: b\r\r", []wantEvent{{"", "a"}, {"", "b"}}},
		{"named", "event: message_start\ndata: {}\n\n", []wantEvent{{"message_start", "{}"}}},
		{"multi data lines", "data: a\ndata: b\ndata: c\n\n", []wantEvent{{"", "a\nb\nc"}}},
		{"comments and blanks skipped", ": ping\n\n\n\ndata: x\n\n", []wantEvent{{"", "x"}}},
		{"no space after colon", "data:x\n\n", []wantEvent{{"", "x"}}},
		{"only one space stripped", "data:  x\n\n", []wantEvent{{"", " x"}}},
		{"unknown field ignored", "id: 7\nretry: 10\ndata: x\n\n", []wantEvent{{"", "x"}}},
		{"field without colon", "data\n\n", []wantEvent{{"", ""}}},
		{"last event without blank line", "data: a\n\ndata: [DONE]", []wantEvent{{"", "a"}, {"", "[DONE]"}}},
		{"last event with one newline", "data: a\n", []wantEvent{{"", "a"}}},
		{"empty input", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "onebyte"} {
				var r io.Reader = strings.NewReader(tt.input)
				if mode == "onebyte" {
					r = iotest.OneByteReader(r)
				}
				got := readAll(t, r)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d events %q, want %q", mode, len(got), got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("%s: event %d = %q, want %q", mode, i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

func TestReaderRawIsExactBytes(t *testing.T) {
	in := "event: a\r\ndata: 1\r\n\r\n: comment\ndata: 2\n\n"
	sr := NewReader(iotest.HalfReader(strings.NewReader(in)))
	var raw strings.Builder
	for {
		ev, err := sr.Next()
		if err != nil {
			break
		}
		raw.Write(ev.Raw)
	}
	if raw.String() != in {
		t.Fatalf("concatenated Raw = %q, want %q", raw.String(), in)
	}
}

func TestReaderLargeEvent(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // beyond bufio.Scanner's 64 KiB
	got := readAll(t, strings.NewReader("data: "+big+"\n\n"))
	if len(got) != 1 || got[0].data != big {
		t.Fatalf("large event not returned whole")
	}
}

func TestReaderMaxEventSize(t *testing.T) {
	sr := NewReader(strings.NewReader("data: " + strings.Repeat("x", 10000) + "\n\n"))
	sr.SetMaxEventSize(4096)
	if _, err := sr.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(boom))
	sr := NewReader(r)
	if ev, err := sr.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first event = %q, %v", ev.Data, err)
	}
	if _, err := sr.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error (a partial event is not dispatched on a broken connection)", err)
	}
}

func TestLineReader(t *testing.T) {
	in := "{\"a\":1}\n\n{\"b\":2}\r\n  \n{\"c\":3}"
	lr := NewLineReader(iotest.OneByteReader(strings.NewReader(in)))
	var got []string
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(line))
	}
	want := []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAppendEvent(t *testing.T) {
	got := string(AppendEvent(nil, "ping", []byte("a\nb")))
	want := "event: ping\ndata: a\ndata: b\n\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	ev := readAll(t, strings.NewReader(got))
	if len(ev) != 1 || ev[0].data != "a\nb" || ev[0].name != "ping" {
		t.Fatalf("round trip = %q", ev)
	}
}

// TestRecordedStreams parses every recorded provider stream: each event must
// carry JSON data (or OpenAI's [DONE]).
func TestRecordedStreams(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/fixtures/*/*.sse")
	if len(files) == 0 {
		t.Fatal("no recorded streams found under testdata/fixtures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs := readAll(t, strings.NewReader(string(b)))
		if len(evs) == 0 {
			t.Errorf("%s: no events", f)
		}
		for i, ev := range evs {
			if ev.data != "[DONE]" && !strings.HasPrefix(ev.data, "{") {
				t.Errorf("%s: event %d data %.40q is not JSON", f, i, ev.data)
			}
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("data: a\n\n"))
	f.Add([]byte("event: x\r\ndata: {}\r\n\r\n"))
	f.Add([]byte(": c\rdata: 1\r\r"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sr := NewReader(iotest.HalfReader(strings.NewReader(string(in))))
		sr.SetMaxEventSize(1 << 12)
		total := 0
		for i := 0; i < 10000; i++ {
			ev, err := sr.Next()
			if err != nil {
				break
			}
			total += len(ev.Raw)
			if len(ev.Raw) == 0 {
				t.Fatal("event with empty Raw")
			}
		}
		if total > len(in) {
			t.Fatalf("Raw bytes %d exceed input %d", total, len(in))
		}
	})
}

// TestReaderSmallReadsOfLargeEvent: a big event arriving a few bytes at a
// time must not be rescanned from its start on every read (that was
// quadratic: minutes of CPU for a 16 MiB event from a slow upstream).
func TestReaderSmallReadsOfLargeEvent(t *testing.T) {
	big := strings.Repeat("y", 1<<20)
	in := "event: big\ndata: " + big + "\ndata: tail\n\ndata: next\n\n"
	sr := NewReader(iotest.OneByteReader(strings.NewReader(in)))
	ev, err := sr.Next()
	if err != nil || string(ev.Name) != "big" || string(ev.Data) != big+"\ntail" {
		t.Fatalf("first event: err %v, name %q, %d data bytes", err, ev.Name, len(ev.Data))
	}
	if ev, err := sr.Next(); err != nil || string(ev.Data) != "next" {
		t.Fatalf("second event: %q %v", ev.Data, err)
	}
}

func TestReaderKeepComments(t *testing.T) {
	in := ": OPENROUTER PROCESSING\n\ndata: a\n\n: ping\n: ping\n\n"
	sr := NewReader(strings.NewReader(in))
	sr.KeepComments()
	var got []string
	for {
		ev, err := sr.Next()
		if err != nil {
			break
		}
		got = append(got, fmt.Sprintf("%v|%s|%q", ev.Comment, ev.Data, ev.Raw))
	}
	want := []string{
		`true||": OPENROUTER PROCESSING\n\n"`,
		`false|a|"data: a\n\n"`,
		`true||": ping\n: ping\n\n"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func BenchmarkReader(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		sb.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n")
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sr := NewReader(strings.NewReader(in))
		for {
			if _, err := sr.Next(); err != nil {
				break
			}
		}
	}
}

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"done\":true}\n"))
	f.Add([]byte("{\"a\":1}\r\n\r\n  \n{\"b\":2}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lr := NewLineReader(iotest.HalfReader(strings.NewReader(string(in))))
		lr.SetMaxLineSize(1 << 12)
		total := 0
		for i := 0; i < 10000; i++ {
			line, err := lr.Next()
			if err != nil {
				break
			}
			if len(strings.TrimSpace(string(line))) == 0 {
				t.Fatal("blank line returned")
			}
			total += len(line)
		}
		if total > len(in) {
			t.Fatalf("returned %d bytes from %d", total, len(in))
		}
	})
}

// oneEventReader returns one event per Read, as a slow upstream does.
type oneEventReader struct{ events []string }

func (r *oneEventReader) Read(p []byte) (int, error) {
	if len(r.events) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.events[0])
	if r.events[0] = r.events[0][n:]; r.events[0] == "" {
		r.events = r.events[1:]
	}
	return n, nil
}

// TestReaderBufferSize: a stream that sends one small event at a time keeps
// the small initial buffer for its whole life (thousands of held streams
// hold one each); one whose reads fill the buffer gets the larger
// read-ahead, and one event larger than both still fits.
func TestReaderBufferSize(t *testing.T) {
	chunk := `data: {"choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n"
	tests := []struct {
		name string
		r    io.Reader
		want int
	}{
		{"slow stream", &oneEventReader{events: slices.Repeat([]string{chunk}, 50)}, initialBuffer},
		{"busy stream", strings.NewReader(strings.Repeat(chunk, 200)), readAhead},
		{"large event", &oneEventReader{events: []string{chunk, "data: " + strings.Repeat("x", 10000) + "\n\n", chunk}}, 16 << 10},
	}
	for _, tt := range tests {
		sr := NewReader(tt.r)
		for {
			if _, err := sr.Next(); err != nil {
				break
			}
		}
		if got := len(sr.b.buf); got != tt.want {
			t.Errorf("%s: buffer of %d bytes, want %d", tt.name, got, tt.want)
		}
	}
}
