package sse

import "bytes"

// AppendEvent appends one SSE event to dst: an "event:" line when name is
// not empty, one "data:" line per line of data, and the blank line that ends
// the event.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		dst = append(dst, "data: "...)
		dst = append(dst, bytes.TrimSuffix(data[:i], []byte{'\r'})...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}

// AppendLine appends one NDJSON line to dst.
func AppendLine(dst, line []byte) []byte {
	return append(append(dst, line...), '\n')
}
