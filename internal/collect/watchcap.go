package collect

import (
	"encoding/binary"
	"fmt"
	"io"
	"mime"
)

// EventTooLargeError says one event of a watch stream exceeded
// MaxEventBytes. It ends the stream: client-go turns it into the watch's
// last event, an error, and the watch starts over as after any broken
// stream (a Reflector lists again, with backoff).
type EventTooLargeError struct {
	URL   string
	Limit int64
	// Size is the size the event announced (protobuf frames carry it), or
	// 0 when only the bytes read so far are known (JSON).
	Size int64
}

func (e *EventTooLargeError) Error() string {
	size := fmt.Sprintf("larger than %d MiB", e.Limit>>20)
	if e.Size > 0 {
		size = fmt.Sprintf("%d MiB, over the %d MiB a watch event may have", e.Size>>20, e.Limit>>20)
	}
	return fmt.Sprintf("an event of the watch stream %s is %s (etcd refuses objects over 1.5 MiB); ending the watch (a proxy or a hostile server?)", e.URL, size)
}

// capEvents bounds each event of a watch stream whose framing it knows:
// protobuf (each event after a 4-byte big-endian length) and JSON (one
// value after another). The bytes pass through unchanged; the first event
// over limit ends the stream with EventTooLargeError before the decoder
// has buffered more than limit of it. A stream of any other type passes
// as it is: client-go decodes watch streams in these two only.
func capEvents(body io.ReadCloser, contentType string, limit int64, url string) io.ReadCloser {
	mt, _, _ := mime.ParseMediaType(contentType)
	tooLarge := func(size int64) error { return &EventTooLargeError{URL: url, Limit: limit, Size: size} }
	switch mt {
	case "application/vnd.kubernetes.protobuf":
		return &framedBody{rc: body, scan: (&protobufFrames{limit: limit, tooLarge: tooLarge}).scan}
	case "application/json":
		return &framedBody{rc: body, scan: (&jsonFrames{limit: limit, tooLarge: tooLarge}).scan}
	}
	return body
}

// framedBody passes a stream through a frame scanner. scan looks at the
// bytes read and returns how many may be handed on and, when a frame is
// over its limit, the error to end the stream with; the bytes of the
// frames before it are handed on first.
type framedBody struct {
	rc   io.ReadCloser
	scan func(p []byte) (keep int, err error)
	err  error
}

func (b *framedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	keep, over := b.scan(p[:n])
	if over != nil {
		b.err = over
		if keep == 0 {
			return 0, over
		}
		return keep, nil
	}
	return n, err
}

func (b *framedBody) Close() error { return b.rc.Close() }

// protobufFrames follows the length prefixes of a protobuf watch stream: an
// event announcing more than limit is refused before any of it is read.
type protobufFrames struct {
	limit    int64
	tooLarge func(size int64) error
	header   [4]byte
	inHeader int   // header bytes of the next frame seen so far
	left     int64 // bytes of the current frame still to come
}

func (f *protobufFrames) scan(p []byte) (int, error) {
	start := 0 // where the frame being read began in p
	for i := 0; i < len(p); {
		if f.left > 0 {
			k := min(int64(len(p)-i), f.left)
			f.left -= k
			i += int(k)
			continue
		}
		if f.inHeader == 0 {
			start = i
		}
		f.header[f.inHeader] = p[i]
		f.inHeader++
		i++
		if f.inHeader == len(f.header) {
			f.inHeader = 0
			size := int64(binary.BigEndian.Uint32(f.header[:]))
			if size > f.limit {
				return start, f.tooLarge(size)
			}
			f.left = size
		}
	}
	return len(p), nil
}

// jsonFrames follows the values of a JSON watch stream (objects, one after
// another) with a scanner of strings and nesting: json.Decoder buffers a
// whole value before it decodes it, so the bytes since the last complete
// value are what it holds. Whitespace and anything outside an object count
// too: a stream of nothing but spaces must end as well.
type jsonFrames struct {
	limit         int64
	tooLarge      func(size int64) error
	size          int64 // bytes since the last complete value
	depth         int
	inString, esc bool
}

func (f *jsonFrames) scan(p []byte) (int, error) {
	start := 0 // where the value being read began in p
	for i, c := range p {
		f.size++
		if f.size > f.limit {
			return start, f.tooLarge(0)
		}
		switch {
		case f.esc:
			f.esc = false
		case f.inString:
			switch c {
			case '\\':
				f.esc = true
			case '"':
				f.inString = false
			}
		case c == '"':
			f.inString = true
		case c == '{' || c == '[':
			f.depth++
		case (c == '}' || c == ']') && f.depth > 0:
			if f.depth--; f.depth == 0 {
				f.size, start = 0, i+1
			}
		}
	}
	return len(p), nil
}
