package escape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
)

// JSON and YAML carry the report's data exactly, so the escaping of the
// other formats (text.Terminal) cannot apply: a script must read back the
// very name the cluster holds. But they reach terminals and CI logs too
// (`-o json` in a job), where a bidi override reorders what is read and
// "##[" is a workflow command. Both formats can write any character as an
// escape that readers decode to the same data: JSON as \u202e inside a
// string, YAML as \u202e inside a double-quoted scalar. The printers below
// do that for the characters text.Terminal writes visibly and for "##[";
// output without them (nearly all) is byte for byte kubectl's. Templates
// (jsonpath, go-template) print the values the user picked, as they are.

// JSONPrinter is a JSON printer whose output has the characters that act on a
// reader written as escapes.
type JSONPrinter struct{ Delegate printers.ResourcePrinter }

func (p JSONPrinter) PrintObj(obj runtime.Object, w io.Writer) error {
	var b bytes.Buffer
	if err := p.Delegate.PrintObj(obj, &b); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// escapeJSON escapes what needs it in encoding/json's output, where such a
// character (a control character is escaped already) can only be inside a
// string: \uXXXX is the same string to every JSON reader.
func escapeJSON(b []byte) []byte {
	if !needsEscape(b) {
		return b
	}
	var out bytes.Buffer
	for i := 0; i < len(b); {
		if bytes.HasPrefix(b[i:], []byte("##[")) {
			out.WriteString(`##\u005b`)
			i += 3
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		// DEL: encoding/json leaves it raw; it only occurs in strings.
		if actsOnReader(r) || r < utf8.RuneSelf && rawControl(byte(r)) {
			writeJSONEscape(&out, r)
		} else {
			out.Write(b[i : i+n])
		}
		i += n
	}
	return out.Bytes()
}

func writeJSONEscape(out *bytes.Buffer, r rune) {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		fmt.Fprintf(out, `\u%04x\u%04x`, r1, r2)
		return
	}
	fmt.Fprintf(out, `\u%04x`, r)
}

// actsOnReader is what text.Terminal writes visibly and JSON or YAML may
// carry raw: format characters (bidi, zero-width), the line and paragraph
// separators, noncharacters, C1 controls.
func actsOnReader(r rune) bool {
	return r >= 0x80 && r < 0xa0 || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r&0xfffe == 0xfffe || r >= 0xfdd0 && r <= 0xfdef
}

// needsEscape says whether b holds "##[" or a character actsOnReader.
func needsEscape(b []byte) bool {
	if bytes.Contains(b, []byte("##[")) {
		return true
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			if rawControl(b[i]) {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if actsOnReader(r) {
			return true
		}
		i += n
	}
	return false
}

// YAMLPrinter is a YAML printer whose output has the characters that act on a
// reader written as escapes, and no line that starts with "::" (a block
// scalar's line would).
type YAMLPrinter struct{ Delegate printers.ResourcePrinter }

func (p YAMLPrinter) PrintObj(obj runtime.Object, w io.Writer) error {
	var b bytes.Buffer
	if err := p.Delegate.PrintObj(obj, &b); err != nil {
		// The YAML printer reads its own JSON back with a YAML reader,
		// which refuses DEL: write it from the JSON with DEL escaped.
		out, jerr := yamlViaJSON(obj, false)
		if jerr != nil {
			return err
		}
		b.Reset()
		b.Write(out)
	}
	out := b.Bytes()
	if bytes.ContainsFunc(out, func(r rune) bool { return r < utf8.RuneSelf && rawControl(byte(r)) }) {
		// The YAML printer writes DEL raw, which no YAML reader takes back
		// (it is not printable in YAML): write the object again from its
		// JSON, where it can be an escape.
		var err error
		if out, err = yamlViaJSON(obj, bytes.HasPrefix(out, []byte("---\n"))); err != nil {
			return err
		}
	}
	if needsEscape(out) || startsCommand(out) {
		var err error
		if out, err = escapeYAML(out); err != nil {
			return err
		}
	}
	_, err := w.Write(out)
	return err
}

// startsCommand says whether a line of b starts (after white space) with
// "::", which the Actions runner executes.
func startsCommand(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(bytes.TrimLeftFunc(l, unicode.IsSpace), []byte("::")) {
			return true
		}
	}
	return false
}

// escapeYAML writes the document again with every scalar that holds such
// text double-quoted (the one YAML style with escapes) on one line (no
// folding, no block scalar: no line of its own can start with "::"), then
// escapes the characters there. Keys, order, tags and the other scalars'
// styles stay as the first printer wrote them.
func escapeYAML(doc []byte) ([]byte, error) {
	sep := []byte("---\n")
	lead := bytes.HasPrefix(doc, sep)
	var root yaml.Node
	if err := yaml.Unmarshal(bytes.TrimPrefix(doc, sep), &root); err != nil {
		return nil, fmt.Errorf("escaping the YAML output: %w", err)
	}
	quoteHostile(&root)
	var out bytes.Buffer
	if lead {
		out.Write(sep)
	}
	if err := encodeYAML(&out, &root); err != nil {
		return nil, err
	}
	// Every such character is now in a double-quoted scalar, where the
	// escapes below mean the character itself.
	b := out.Bytes()
	var esc bytes.Buffer
	for i := 0; i < len(b); {
		if bytes.HasPrefix(b[i:], []byte("##[")) {
			esc.WriteString(`##\x5b`)
			i += 3
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r < utf8.RuneSelf && rawControl(byte(r)):
			fmt.Fprintf(&esc, `\x%02x`, r)
		case actsOnReader(r) && r > 0xffff:
			fmt.Fprintf(&esc, `\U%08x`, r)
		case actsOnReader(r):
			fmt.Fprintf(&esc, `\u%04x`, r)
		default:
			esc.Write(b[i : i+n])
		}
		i += n
	}
	return esc.Bytes(), nil
}

// rawControl says whether an ASCII byte is a control character YAML does
// not allow raw (all but tab, newline and carriage return), or DEL.
func rawControl(c byte) bool {
	return c == 0x7f || c < 0x20 && c != '\t' && c != '\n' && c != '\r'
}

// yamlViaJSON writes obj as YAML from its JSON, with every raw control
// byte as a JSON escape first (encoding/json leaves DEL raw), so the YAML
// reader gets the string with the character in it; keys are sorted, as the
// YAML printer sorts them.
func yamlViaJSON(obj runtime.Object, lead bool) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var clean bytes.Buffer
	for _, c := range data {
		if rawControl(c) {
			fmt.Fprintf(&clean, `\u%04x`, c)
			continue
		}
		clean.WriteByte(c)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(clean.Bytes(), &root); err != nil {
		return nil, fmt.Errorf("escaping the YAML output: %w", err)
	}
	sortKeys(&root)
	markFlowless(&root)
	var out bytes.Buffer
	if lead {
		out.WriteString("---\n")
	}
	quoteHostile(&root)
	if err := encodeYAML(&out, &root); err != nil {
		return nil, err
	}
	// The encoder writes DEL raw even double-quoted; every scalar that
	// holds one is double-quoted (quoteHostile), where \x7f means it.
	var esc bytes.Buffer
	for _, c := range out.Bytes() {
		if rawControl(c) {
			fmt.Fprintf(&esc, `\x%02x`, c)
			continue
		}
		esc.WriteByte(c)
	}
	return esc.Bytes(), nil
}

// encodeYAML writes root as the escaping paths write YAML: two-space
// indent, sequences not indented under their key (the YAML printer's look).
func encodeYAML(out *bytes.Buffer, root *yaml.Node) error {
	enc := yaml.NewEncoder(out)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("escaping the YAML output: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("escaping the YAML output: %w", err)
	}
	return nil
}

// sortKeys orders every mapping's keys, as the YAML printer does.
func sortKeys(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i][0].Value < pairs[j][0].Value })
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p[0], p[1])
		}
	}
	for _, c := range n.Content {
		sortKeys(c)
	}
}

// markFlowless writes JSON's flow collections and quoted strings in YAML's
// block style, as the YAML printer does; quoteHostile then quotes what
// needs escapes.
func markFlowless(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle | yaml.DoubleQuotedStyle
	for _, c := range n.Content {
		markFlowless(c)
	}
}

// quoteHostile double-quotes every scalar (key or value) that holds "##[",
// "::", a newline or a character actsOnReader.
func quoteHostile(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && (needsEscape([]byte(n.Value)) || strings.Contains(n.Value, "::") || strings.Contains(n.Value, "\n")) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		quoteHostile(c)
	}
}
