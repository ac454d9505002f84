package render_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/render"
	// Every format: the CI formats and the plan views register themselves.
	_ "github.com/daemoncheck/daemoncheck/internal/render/ci"
	_ "github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/internal/render/rendertest"
)

// FuzzPrinters drives every printer (every -o format, every view, one
// cluster, several, the what-if) with a report that carries the fuzzed
// text wherever a cluster's text goes. Each output must parse in its format
// (JSON and YAML back to the very text, JUnit as XML, the exposition with
// Prometheus' parser, Markdown tables keep their shape and hold no HTML or
// link), and no output may hold a raw control, bidi or zero-width character
// or a GitHub workflow command that came from the input.
func FuzzPrinters(f *testing.F) {
	for _, s := range []string{
		"plain", "\x1b[2J\x1b]0;t\x07", "\u202eevil\u2066\u200b\ufeff", "team-a---prod", "404 --- Not Found\x00",
		"##[stop-commands]tok", "\n::error::forged", "<h1>x</h1>[a](http://e) ![i](http://e) | `c`", "bad \xff\xfe", `\|\\` + "\r\n", "\U000e0041tag",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The text goes to a hundred places in each of some forty
		// outputs: longer inputs find nothing more, only slower.
		printEverything(t, s[:min(len(s), 200)])
	})
}

// printEverything prints reports carrying s in every format and view, and
// checks each output.
func printEverything(t *testing.T, s string) {
	{
		r := rendertest.HostileReport(s)
		o := render.Options{Now: r.GeneratedAt, Node: "node-" + s}
		for _, view := range []render.View{render.ViewAudit, render.ViewDetail, render.ViewNodes, render.ViewNode, render.ViewCapacity} {
			for _, name := range render.Allowed(view) {
				if name == "jsonpath" || strings.HasPrefix(name, "jsonpath-") || strings.Contains(name, "template") {
					continue // the user's template picks raw values
				}
				p, err := render.ForOutput(name, view, render.NewPrintFlags())
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := p.Print(&b, r, o); err != nil {
					t.Fatalf("-o %s (%s): %v", name, view, err)
				}
				checkOutput(t, name+" "+string(view), name, b.String(), s)
			}
			p, _ := render.ForOutput("", view, render.NewPrintFlags())
			checkOutput(t, "default "+string(view), "", rendertest.Render(t, func(b *bytes.Buffer) error { return p.Print(b, r, o) }), s)
		}
		fleet := rendertest.HostileFleet(s)
		for _, name := range append(render.AllowedFleet(render.ViewAudit), "") {
			if strings.Contains(name, "template") || strings.HasPrefix(name, "jsonpath") {
				continue
			}
			p, err := render.ForFleetOutput(name, render.ViewAudit, render.NewPrintFlags())
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, "fleet "+name, name, rendertest.Render(t, func(b *bytes.Buffer) error { return p.PrintFleet(b, fleet, o) }), s)
		}
		w := rendertest.HostileWhatIf(s)
		for _, name := range append(render.Allowed(render.ViewWhatIf), "") {
			if strings.Contains(name, "template") || strings.HasPrefix(name, "jsonpath") {
				continue
			}
			p, err := render.ForOutput(name, render.ViewWhatIf, render.NewPrintFlags())
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, "whatif "+name, name, rendertest.Render(t, func(b *bytes.Buffer) error { return p.PrintWhatIf(b, w, o) }), s)
		}
	}
}

// checkOutput checks one printer's output in its format.
func checkOutput(t *testing.T, what, format, out, s string) {
	t.Helper()
	rendertest.NoActiveText(t, what, out, format == "github")
	// encoding/json writes each byte that is not UTF-8 as U+FFFD; so
	// does a conversion to runes.
	want := "ds-" + string([]rune(s))
	switch format {
	case "json", "yaml", "kyaml":
		var v any
		unmarshal := func(b []byte, v any) error { return yaml.Unmarshal(b, v) }
		if format == "json" {
			unmarshal = json.Unmarshal
		}
		if err := unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%s: not %s: %v\n%s", what, format, err, out)
		}
		if !holds(v, want) {
			t.Errorf("%s: %q is not in the data read back:\n%s", what, want, out)
		}
	case "junit":
		rendertest.XMLTexts(t, []byte(out))
	case "prometheus":
		p := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := p.TextToMetricFamilies(strings.NewReader(out)); err != nil {
			t.Fatalf("%s: the exposition does not parse: %v\n%s", what, err, out)
		}
	case "markdown":
		rendertest.MarkdownSafe(t, what, out)
	}
}

// holds says whether v (JSON or YAML read back) has the string s anywhere.
func holds(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		for _, e := range x {
			if holds(e, s) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holds(e, s) {
				return true
			}
		}
	}
	return false
}
