package printer

import (
	"fmt"
	"io"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/daemoncheck/daemoncheck/pkg/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// View is what a command shows of a report; formats say which views they
// can render.
type View string

const (
	// ViewAudit is the root command: summary and findings.
	ViewAudit View = "audit"
	// ViewDetail is the root command with a DaemonSet NAME.
	ViewDetail View = "detail"
	// ViewNodes is `nodes`: the coverage matrix.
	ViewNodes View = "nodes"
	// ViewNode is `nodes NODE`: one node in detail.
	ViewNode View = "node"
	// ViewWhatIf is `whatif`: a what-if report (WhatIfReport).
	ViewWhatIf View = "whatif"
)

// RenderFunc prints a report for people.
type RenderFunc func(w io.Writer, r *report.Report, o Options) error

// WhatIfRenderFunc prints a what-if report for people.
type WhatIfRenderFunc func(w io.Writer, r *report.WhatIfReport, o Options) error

// Format is one -o value. This registry is the one list of formats, as
// kubectl's PrintFlags.AllowedFormats is: it drives -o help, completion,
// the error for an unknown value, which commands accept what, and dispatch.
// A new format is one entry here and its printer.
type Format struct {
	Name string
	// Template formats take an argument: -o jsonpath='{...}'.
	Template bool
	// Machine formats print the report object itself, with kubectl's own
	// printers (cli-runtime), in every view.
	Machine bool
	// Render prints a human format, per view it supports.
	Render map[View]RenderFunc
	// RenderWhatIf prints the format in the what-if view.
	RenderWhatIf WhatIfRenderFunc
}

// Default is the -o value when none is given.
const Default = ""

var formats = []Format{
	{Name: Default, Render: map[View]RenderFunc{ViewAudit: Table, ViewDetail: Describe, ViewNodes: Matrix, ViewNode: NodeDetail}, RenderWhatIf: WhatIfTable},
	{Name: "wide", Render: map[View]RenderFunc{ViewAudit: Table, ViewDetail: Table, ViewNodes: Matrix, ViewNode: NodeDetail}, RenderWhatIf: WhatIfTable},
	{Name: "json", Machine: true},
	{Name: "yaml", Machine: true},
	{Name: "junit", Render: map[View]RenderFunc{ViewAudit: JUnit, ViewDetail: JUnit}, RenderWhatIf: WhatIfJUnit},
	{Name: "markdown", Render: map[View]RenderFunc{ViewAudit: Markdown, ViewDetail: Markdown}, RenderWhatIf: WhatIfMarkdown},
	{Name: "jsonpath", Machine: true, Template: true},
	{Name: "jsonpath-file", Machine: true, Template: true},
	{Name: "jsonpath-as-json", Machine: true, Template: true},
	{Name: "go-template", Machine: true, Template: true},
	{Name: "go-template-file", Machine: true, Template: true},
	{Name: "template", Machine: true, Template: true},
	{Name: "templatefile", Machine: true, Template: true},
	{Name: "github", Render: map[View]RenderFunc{ViewAudit: GitHub, ViewDetail: GitHub}},
	{Name: "prometheus", Render: map[View]RenderFunc{ViewAudit: Prometheus, ViewDetail: Prometheus}},
	{Name: "name", Render: map[View]RenderFunc{ViewAudit: Names, ViewDetail: Names, ViewNodes: NodeNames, ViewNode: NodeNames}},
}

func (f *Format) supports(v View) bool {
	return f.Machine || f.Render[v] != nil || (v == ViewWhatIf && f.RenderWhatIf != nil)
}

// Allowed lists the -o values the view accepts, in registry order.
func Allowed(v View) []string {
	var out []string
	for i := range formats {
		if f := &formats[i]; f.Name != Default && f.supports(v) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Completions are the -o completions of a view (template formats end in
// "=" for the argument).
func Completions(v View) []string {
	var out []string
	for i := range formats {
		if f := &formats[i]; f.Name != Default && f.supports(v) {
			if f.Template {
				out = append(out, f.Name+"=")
			} else {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// Help is the -o flag's usage for the views of a command.
func Help(views ...View) string {
	seen := map[string]bool{}
	var names []string
	for _, v := range views {
		for _, n := range Allowed(v) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return "Output format. One of: (" + strings.Join(names, ", ") + ")."
}

// Printer prints a report in one resolved format.
type Printer struct {
	// Name is the format's name (Default for the default view).
	Name string
	// Machine is true for formats printed from the report object by
	// kubectl's printers (json, yaml, templates).
	Machine     bool
	print       RenderFunc
	printWhatIf WhatIfRenderFunc
}

// Print prints the report.
func (p *Printer) Print(w io.Writer, r *report.Report, o Options) error {
	o.Wide = p.Name == "wide"
	return p.print(w, r, o)
}

// PrintWhatIf prints a what-if report.
func (p *Printer) PrintWhatIf(w io.Writer, r *report.WhatIfReport, o Options) error {
	o.Wide = p.Name == "wide"
	return p.printWhatIf(w, r, o)
}

// ForOutput resolves -o for a view. pf carries the template argument of
// template formats (kubectl's --template flag) and prints machine formats.
func ForOutput(output string, v View, pf *genericclioptions.PrintFlags) (*Printer, error) {
	name, _, hasArg := strings.Cut(output, "=")
	for i := range formats {
		f := &formats[i]
		if f.Name != name || (hasArg && !f.Template) || !f.supports(v) {
			continue
		}
		if !f.Machine {
			return &Printer{Name: f.Name, print: f.Render[v], printWhatIf: f.RenderWhatIf}, nil
		}
		*pf.OutputFormat = output
		rp, err := pf.ToPrinter()
		if err != nil {
			return nil, fmt.Errorf("--output %q: %s", output, text.OneLine(err.Error()))
		}
		return &Printer{Name: f.Name, Machine: true, print: func(w io.Writer, r *report.Report, _ Options) error {
			return rp.PrintObj(r, w)
		}, printWhatIf: func(w io.Writer, r *report.WhatIfReport, _ Options) error {
			return rp.PrintObj(r, w)
		}}, nil
	}
	what := "is not a known format"
	for i := range formats {
		if formats[i].Name == name && !hasArg {
			what = "is not supported by " + map[View]string{ViewAudit: "this command", ViewDetail: "this command", ViewNodes: "nodes", ViewNode: "nodes", ViewWhatIf: "whatif"}[v]
		}
	}
	return nil, fmt.Errorf("--output %q %s; use one of: %s", output, what, strings.Join(Allowed(v), ", "))
}

// Names prints daemonset/NAME per DaemonSet shown, as kubectl get -o name,
// for scripts (xargs kubectl describe).
func Names(w io.Writer, r *report.Report, _ Options) error {
	for i := range r.DaemonSets {
		if _, err := fmt.Fprintf(w, "daemonset/%s\n", r.DaemonSets[i].Name); err != nil {
			return err
		}
	}
	return nil
}

// NodeNames prints node/NAME per node shown, in natural order.
func NodeNames(w io.Writer, r *report.Report, _ Options) error {
	ns := make([]string, 0, len(r.Nodes))
	for i := range r.Nodes {
		ns = append(ns, r.Nodes[i].Name)
	}
	names.Sort(ns)
	for _, n := range ns {
		if _, err := fmt.Fprintf(w, "node/%s\n", n); err != nil {
			return err
		}
	}
	return nil
}
