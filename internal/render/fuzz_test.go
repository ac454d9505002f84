package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// hostileWhatIf is a what-if report with s in its names and messages.
func hostileWhatIf(s string) *report.WhatIfReport {
	r := hostileReport(s)
	f := report.WhatIfFinding{Type: report.WhatIfWillNotRun, Severity: report.SeverityError, Failing: true, DaemonSet: "ns-" + s + "/ds-" + s,
		Shapes: []string{"shape-" + s}, Nodes: []string{"node-" + s}, Message: "message " + s, Suggestion: "fix " + s}
	return &report.WhatIfReport{
		TypeMeta:    report.NewWhatIf().TypeMeta,
		GeneratedAt: r.GeneratedAt, Source: "src-" + s, Inputs: []string{"in-" + s}, Partial: true, Unread: r.Unread,
		Changes: []report.DaemonSetChange{{Source: "src-" + s, Namespace: "ns-" + s, Name: "ds-" + s,
			Gained:   []report.NodeGroup{{Pool: "pool-" + s, Count: 1, Range: "node-" + s, Nodes: []string{"node-" + s}}},
			Lost:     []report.NodeGroup{{Pool: "pool-" + s, Reason: "reason " + s, Count: 1, Range: "other-" + s, Nodes: []string{"other-" + s}}},
			Findings: []report.WhatIfFinding{f}, Unknown: []string{"unknown " + s}}},
		Pools: []report.PoolWhatIf{{Source: "src-" + s, Kind: "NodePool", Name: "pool-" + s, Taints: []string{"taint " + s}, Notes: []string{"note " + s},
			Shapes: []report.Shape{{Name: "shape-" + s, FitUnknown: "unknown " + s, DaemonSets: []report.ShapeDaemon{
				{Namespace: "ns-" + s, Name: "ds-" + s, Reason: "reason " + s, Short: "short " + s, Required: true, RequiredBy: "policy " + s}}}},
			Findings: []report.WhatIfFinding{f}}},
	}
}

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
		r := hostileReport(s)
		o := Options{Now: r.GeneratedAt, Node: "node-" + s}
		for _, view := range []View{ViewAudit, ViewDetail, ViewNodes, ViewNode, ViewCapacity} {
			for _, name := range Allowed(view) {
				if name == "jsonpath" || strings.HasPrefix(name, "jsonpath-") || strings.Contains(name, "template") {
					continue // the user's template picks raw values
				}
				p, err := ForOutput(name, view, NewPrintFlags())
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := p.Print(&b, r, o); err != nil {
					t.Fatalf("-o %s (%s): %v", name, view, err)
				}
				checkOutput(t, name+" "+string(view), name, b.String(), s)
			}
			p, _ := ForOutput("", view, NewPrintFlags())
			checkOutput(t, "default "+string(view), "", renderWith(t, func(b *bytes.Buffer) error { return p.Print(b, r, o) }), s)
		}
		fleet := hostileFleet(s)
		for _, name := range append(AllowedFleet(ViewAudit), "") {
			if strings.Contains(name, "template") || strings.HasPrefix(name, "jsonpath") {
				continue
			}
			p, err := ForFleetOutput(name, ViewAudit, NewPrintFlags())
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, "fleet "+name, name, renderWith(t, func(b *bytes.Buffer) error { return p.PrintFleet(b, fleet, o) }), s)
		}
		w := hostileWhatIf(s)
		for _, name := range append(Allowed(ViewWhatIf), "") {
			if strings.Contains(name, "template") || strings.HasPrefix(name, "jsonpath") {
				continue
			}
			p, err := ForOutput(name, ViewWhatIf, NewPrintFlags())
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, "whatif "+name, name, renderWith(t, func(b *bytes.Buffer) error { return p.PrintWhatIf(b, w, o) }), s)
		}
	}
}

// checkOutput checks one printer's output in its format.
func checkOutput(t *testing.T, what, format, out, s string) {
	t.Helper()
	assertNoActiveText(t, what, out, format == "github")
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
		xmlTexts(t, []byte(out))
	case "prometheus":
		p := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := p.TextToMetricFamilies(strings.NewReader(out)); err != nil {
			t.Fatalf("%s: the exposition does not parse: %v\n%s", what, err, out)
		}
	case "markdown":
		assertMarkdownSafe(t, what, out)
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
