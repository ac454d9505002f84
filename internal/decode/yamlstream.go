package decode

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Converting a whole YAML List to JSON costs ~40 times its size (117 MB ->
// 4.5 GB): the YAML library builds a node tree and a generic map of every
// object before a single one is decoded. kubectl writes a List as
//
//	apiVersion: v1
//	items:
//	- apiVersion: v1
//	  kind: Pod
//	  ...
//	kind: List
//
// so readYAML splits each document by lines: the top-level lines other than
// the `items:` block form the document's head (small), and each entry of the
// items sequence is converted and routed on its own, as soon as it ends. A
// document laid out otherwise (flow style, `items: [...]`) is converted
// whole, as before, up to MaxObjectBytes. Aliases are resolved within an
// item; an alias to an anchor in another item is an error (kubectl never
// writes anchors).

// readYAML reads a stream of YAML documents separated by "---" lines.
func (r *fileReader) readYAML(name string, br *bufio.Reader) error {
	lr := lineReader{br: br}
	d := &yamlDoc{r: r}
	for doc := 1; ; {
		line, err := lr.next()
		if err != nil && err != io.EOF {
			return &InputError{File: name, Doc: doc, Err: err}
		}
		if sep, rest := docSeparator(line); sep {
			if derr := d.end(); derr != nil {
				return &InputError{File: name, Doc: doc, Err: derr}
			}
			doc++
			d = &yamlDoc{r: r}
			line = rest
		}
		if len(line) > 0 {
			if derr := d.line(line); derr != nil {
				return &InputError{File: name, Doc: doc, Err: derr}
			}
		}
		if err == io.EOF {
			if derr := d.end(); derr != nil {
				return &InputError{File: name, Doc: doc, Err: derr}
			}
			return nil
		}
	}
}

// lineReader returns lines (with their newline) of at most MaxObjectBytes,
// and refuses binary data: /dev/urandom or a core dump is not YAML, and
// without newlines it would otherwise be buffered up to MaxInputBytes.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	// anyBytes accepts NUL bytes (in logs between JSON values).
	anyBytes bool
}

func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if !l.anyBytes && bytes.IndexByte(chunk, 0) >= 0 {
			return nil, errors.New("binary data (a NUL byte), not JSON or YAML")
		}
		l.buf = append(l.buf, chunk...)
		if int64(len(l.buf)) > MaxObjectBytes {
			return nil, fmt.Errorf("a line longer than %d bytes; not a Kubernetes dump", MaxObjectBytes)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return l.buf, err
		}
		return l.buf, nil
	}
}

// docSeparator recognizes "---" (optionally followed by content) and "...".
func docSeparator(line []byte) (bool, []byte) {
	t := bytes.TrimRight(line, " \t\r\n")
	if string(t) == "..." {
		return true, nil
	}
	if !bytes.HasPrefix(line, []byte("---")) {
		return false, nil
	}
	rest := line[3:]
	if len(bytes.TrimSpace(rest)) == 0 {
		return true, nil
	}
	if rest[0] == ' ' || rest[0] == '\t' {
		return true, bytes.TrimLeft(rest, " \t")
	}
	return false, nil
}

// yamlDoc is the state of one YAML document being read.
type yamlDoc struct {
	r          *fileReader
	head       bytes.Buffer
	kind       string // the List's kind, if a head line named it already
	apiVersion string // the List's apiVersion, likewise
	hasItems   bool
	inItems    bool
	indent     int // column of the items' "-", -1 until seen
	item       bytes.Buffer
	n          int
	waiting    []json.RawMessage
}

func indentOf(l []byte) int {
	i := 0
	for i < len(l) && l[i] == ' ' {
		i++
	}
	return i
}

func blankOrComment(l []byte) bool {
	t := bytes.TrimSpace(l)
	return len(t) == 0 || t[0] == '#'
}

func isEntry(l []byte, at int) bool {
	return at < len(l) && l[at] == '-' && (at+1 == len(l) || l[at+1] == ' ' || l[at+1] == '\n' || l[at+1] == '\r')
}

func (d *yamlDoc) line(l []byte) error {
	if d.inItems {
		ind := indentOf(l)
		switch {
		case blankOrComment(l):
			if d.item.Len() > 0 {
				d.item.Write(l)
			}
			return nil
		case d.indent < 0 && isEntry(l, ind):
			d.indent = ind
			fallthrough
		case ind == d.indent && isEntry(l, ind):
			if err := d.flushItem(); err != nil {
				return err
			}
			d.item.Write(l)
			d.item.Bytes()[ind] = ' ' // "- key: v" -> "  key: v": the entry as a mapping
			return nil
		case d.indent >= 0 && ind > d.indent:
			d.item.Write(l)
			if int64(d.item.Len()) > MaxObjectBytes {
				return fmt.Errorf("List item %d is larger than %d bytes", d.n+1, MaxObjectBytes) //nolint:staticcheck // ST1005: "List" is the Kubernetes kind
			}
			return nil
		}
		// Less indented: the items are over; this line is the head's.
		if err := d.flushItem(); err != nil {
			return err
		}
		d.inItems = false
	}
	if d.head.Len() == 0 && !d.hasItems && l[0] == '%' {
		return nil // a directive (%YAML 1.2) before the document
	}
	if d.kind == "" && string(bytes.TrimRight(stripComment(l), " \t\r\n")) == "Items:" {
		return errOldKubectl
	}
	if !d.hasItems && string(bytes.TrimRight(stripComment(l), " \t\r\n")) == "items:" {
		d.hasItems, d.inItems, d.indent = true, true, -1
		return nil
	}
	d.head.Write(l)
	if int64(d.head.Len()) > MaxObjectBytes {
		return fmt.Errorf("a YAML document larger than %d bytes that is not a List of the form kubectl writes; split it into documents (---) or use JSON", MaxObjectBytes)
	}
	if bytes.HasPrefix(l, []byte("kind:")) || bytes.HasPrefix(l, []byte("apiVersion:")) {
		var k typeMeta
		if yaml.Unmarshal(l, &k) == nil {
			d.kind = cmp.Or(k.Kind, d.kind)
			d.apiVersion = cmp.Or(k.APIVersion, d.apiVersion)
		}
	}
	return nil
}

// stripComment drops a trailing " # comment" from a simple key line.
func stripComment(l []byte) []byte {
	if i := bytes.Index(l, []byte(" #")); i >= 0 {
		return l[:i]
	}
	return l
}

func (d *yamlDoc) flushItem() error {
	if d.item.Len() == 0 {
		return nil
	}
	d.n++
	j, err := yaml.YAMLToJSON(d.item.Bytes())
	d.item.Reset()
	if err != nil {
		return fmt.Errorf("%s item %d: not valid YAML: %s", listName(d.kind), d.n, text.OneLine(err.Error()))
	}
	if d.kind == "" && !hasKind(j) {
		d.waiting = append(d.waiting, j)
		return nil
	}
	if err := d.r.object(j, d.kind, d.apiVersion, 2); err != nil {
		return fmt.Errorf("%s item %d: %w", listName(d.kind), d.n, err)
	}
	return nil
}

func (d *yamlDoc) end() error {
	if err := d.flushItem(); err != nil {
		return err
	}
	if !d.hasItems && blankOrCommentOnly(d.head.Bytes()) {
		return nil // an empty document, e.g. after a trailing "---"
	}
	if err := oneValue(d.head.Bytes()); err != nil {
		return err
	}
	j, err := yaml.YAMLToJSON(d.head.Bytes())
	if err != nil {
		return fmt.Errorf("not valid JSON or YAML: %s", text.OneLine(err.Error()))
	}
	j = bytes.TrimSpace(j)
	if !d.hasItems {
		if string(j) == "null" {
			return nil
		}
		return d.r.object(j, "", "", 1)
	}
	var tm typeMeta
	if len(j) == 0 || j[0] != '{' || json.Unmarshal(j, &tm) != nil {
		return errors.New("expected a Kubernetes object (a JSON/YAML mapping)")
	}
	if err := d.r.listKind(tm.Kind, tm.APIVersion); err != nil {
		return err
	}
	for i, item := range d.waiting {
		if err := d.r.object(item, tm.Kind, tm.APIVersion, 2); err != nil {
			return fmt.Errorf("%s item %d: %w", tm.Kind, i+1, err)
		}
	}
	return nil
}

// oneValue refuses a document that holds more than one value: the YAML
// library converts the first and drops the rest without a word, which is
// what a JSON stream (one object after another, no "---") looks like to
// it. Only a document in flow style ({ or [ first) can be one; it is
// checked by a JSON decoder, which reads exactly the one value.
func oneValue(doc []byte) error {
	for len(doc) > 0 {
		i := bytes.IndexByte(doc, '\n')
		if i < 0 {
			i = len(doc) - 1
		}
		if !blankOrComment(doc[:i+1]) {
			break
		}
		doc = doc[i+1:]
	}
	t := bytes.TrimLeft(doc, " \t")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	var first json.RawMessage
	if dec.Decode(&first) != nil {
		return nil // YAML flow style, not JSON: the YAML library decides
	}
	if !blankOrCommentOnly(t[dec.InputOffset():]) {
		return errors.New("more than one JSON value in one YAML document (a JSON stream after YAML?); separate documents with ---, or give JSON alone")
	}
	return nil
}

func blankOrCommentOnly(b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) - 1
		}
		if !blankOrComment(b[:i+1]) {
			return false
		}
		b = b[i+1:]
	}
	return true
}
