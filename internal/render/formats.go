package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/text"
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
	// ViewCapacity is `capacity`: the daemons' overhead per pool (-o wide:
	// per node). Its machine formats print the DaemonCapacityReport.
	ViewCapacity View = "capacity"
	// ViewWhatIf is `whatif`: a what-if report (WhatIfReport).
	ViewWhatIf View = "whatif"
)

// RenderFunc prints a report for people.
type RenderFunc func(w io.Writer, r *report.Report, o Options) error

// FleetRenderFunc prints the report of several clusters for people.
type FleetRenderFunc func(w io.Writer, f *report.FleetReport, o Options) error

// WhatIfRenderFunc prints a what-if report for people.
type WhatIfRenderFunc func(w io.Writer, r *report.WhatIfReport, o Options) error

// Format is one -o value. This registry is the one list of formats, as
// kubectl's PrintFlags.AllowedFormats is: it drives -o help, completion,
// the error for an unknown value, which commands accept what, and dispatch.
// A new format is one entry here and its printer; a printer in another
// package adds itself to its entry with Register.
type Format struct {
	Name string
	// Template formats take an argument: -o jsonpath='{...}'.
	Template bool
	// Machine formats print the report object itself, with kubectl's own
	// printers (cli-runtime), in every view.
	Machine bool
	// Render prints a human format, per view it supports.
	Render map[View]RenderFunc
	// Fleet prints a human format for several clusters (--contexts), per
	// view; a format without it is refused there. Machine formats print
	// the FleetReport object.
	Fleet map[View]FleetRenderFunc
	// RenderWhatIf prints the format in the what-if view.
	RenderWhatIf WhatIfRenderFunc
}

// Default is the -o value when none is given.
const Default = ""

// formats lists every -o value in the order help, completion and errors
// list them. The printers of this package are here; those of the capacity
// and what-if views (internal/render/plan) and of the CI formats
// (internal/render/ci) add themselves with Register, as render cannot
// import them (they build on its tables, wrapping and words). A format
// without a printer for a view is not offered there.
var formats = []Format{
	{Name: Default, Render: map[View]RenderFunc{ViewAudit: Table, ViewDetail: Describe, ViewNodes: Matrix, ViewNode: NodeDetail},
		Fleet: map[View]FleetRenderFunc{ViewAudit: FleetTable, ViewDetail: FleetDescribe}},
	{Name: "wide", Render: map[View]RenderFunc{ViewAudit: Table, ViewDetail: Table, ViewNodes: Matrix, ViewNode: NodeDetail},
		Fleet: map[View]FleetRenderFunc{ViewAudit: FleetTable, ViewDetail: FleetTable}},
	{Name: "json", Machine: true},
	{Name: "yaml", Machine: true},
	{Name: "junit"},
	{Name: "markdown"},
	{Name: "jsonpath", Machine: true, Template: true},
	{Name: "jsonpath-file", Machine: true, Template: true},
	{Name: "jsonpath-as-json", Machine: true, Template: true},
	{Name: "go-template", Machine: true, Template: true},
	{Name: "go-template-file", Machine: true, Template: true},
	{Name: "template", Machine: true, Template: true},
	{Name: "templatefile", Machine: true, Template: true},
	{Name: "github"},
	{Name: "prometheus"},
	{Name: "name", Render: map[View]RenderFunc{ViewAudit: Names, ViewDetail: Names, ViewNodes: NodeNames, ViewNode: NodeNames}},
	{Name: "html", Render: map[View]RenderFunc{ViewAudit: HTML, ViewDetail: HTML, ViewNodes: HTML}},
}

// Register adds f's printers (per view, per fleet view, what-if) to the
// format formats lists as f.Name. The packages with printers of their own
// call it from their init, and whoever prints (cli) imports them. A name
// formats does not list, a machine or template flag, or a view that
// already has a printer is a mistake in the code, not in the input: it
// panics at start-up.
func Register(f Format) {
	if f.Machine || f.Template {
		panic("render.Register: format " + f.Name + ": machine and template formats are kubectl's printers")
	}
	for i := range formats {
		to := &formats[i]
		if to.Name != f.Name {
			continue
		}
		for v, p := range f.Render {
			if to.Render[v] != nil {
				panic(fmt.Sprintf("render.Register: format %q has a printer for %s already", f.Name, v))
			}
			if to.Render == nil {
				to.Render = map[View]RenderFunc{}
			}
			to.Render[v] = p
		}
		for v, p := range f.Fleet {
			if to.Fleet[v] != nil {
				panic(fmt.Sprintf("render.Register: format %q has a fleet printer for %s already", f.Name, v))
			}
			if to.Fleet == nil {
				to.Fleet = map[View]FleetRenderFunc{}
			}
			to.Fleet[v] = p
		}
		if f.RenderWhatIf != nil {
			if to.RenderWhatIf != nil {
				panic(fmt.Sprintf("render.Register: format %q has a what-if printer already", f.Name))
			}
			to.RenderWhatIf = f.RenderWhatIf
		}
		return
	}
	panic(fmt.Sprintf("render.Register: no format %q in the registry (formats)", f.Name))
}

func (f *Format) supports(v View, fleet bool) bool {
	if fleet {
		return f.Machine || f.Fleet[v] != nil
	}
	return f.Machine || f.Render[v] != nil || (v == ViewWhatIf && f.RenderWhatIf != nil)
}

// Allowed lists the -o values the view accepts, in registry order.
func Allowed(v View) []string { return allowed(v, false) }

// AllowedFleet lists the -o values the view accepts for several clusters.
func AllowedFleet(v View) []string { return allowed(v, true) }

func allowed(v View, fleet bool) []string {
	var out []string
	for i := range formats {
		if f := &formats[i]; f.Name != Default && f.supports(v, fleet) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Completions are the -o completions of a view (template formats end in
// "=" for the argument).
func Completions(v View) []string { return completions(v, false) }

// FleetCompletions are the -o completions of a view of several clusters.
func FleetCompletions(v View) []string { return completions(v, true) }

func completions(v View, fleet bool) []string {
	var out []string
	for i := range formats {
		if f := &formats[i]; f.Name != Default && f.supports(v, fleet) {
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
	Machine bool
	print   RenderFunc
	fleet   FleetRenderFunc
	whatIf  WhatIfRenderFunc
}

// Print prints the report.
func (p *Printer) Print(w io.Writer, r *report.Report, o Options) error {
	return p.fit(w, o, func(w io.Writer, o Options) error { return p.print(w, r, o) })
}

// PrintFleet prints the report of several clusters (a printer from
// ForFleetOutput).
func (p *Printer) PrintFleet(w io.Writer, f *report.FleetReport, o Options) error {
	return p.fit(w, o, func(w io.Writer, o Options) error { return p.fleet(w, f, o) })
}

// PrintWhatIf prints a what-if report (a printer for ViewWhatIf).
func (p *Printer) PrintWhatIf(w io.Writer, r *report.WhatIfReport, o Options) error {
	return p.fit(w, o, func(w io.Writer, o Options) error { return p.whatIf(w, r, o) })
}

// fit is the one width policy of the views people read in a terminal (the
// default and -o wide): views wrap prose and choose layouts for
// o.MaxWidth, and whatever line is still longer (a table's last columns, a
// word longer than the screen) is cut there with an ellipsis, so no line
// ever wraps mid-word. In pipes and files (MaxWidth 0) nothing is cut.
// Formats for other readers (CI, Prometheus, Markdown) get no width and
// no colour.
func (p *Printer) fit(w io.Writer, o Options, print func(io.Writer, Options) error) error {
	o.Wide = p.Name == "wide"
	if p.Name != Default && !o.Wide {
		o.MaxWidth, o.Color = 0, false
		return print(w, o)
	}
	return cutToWidth(w, o, func(w io.Writer) error { return print(w, o) })
}

// ForOutput resolves -o for a view. pf carries the template argument of
// template formats (kubectl's --template flag) and prints machine formats.
func ForOutput(output string, v View, pf *PrintFlags) (*Printer, error) {
	return forOutput(output, v, pf, false)
}

// ForFleetOutput resolves -o for a view of several clusters (--contexts).
func ForFleetOutput(output string, v View, pf *PrintFlags) (*Printer, error) {
	return forOutput(output, v, pf, true)
}

func forOutput(output string, v View, pf *PrintFlags, fleet bool) (*Printer, error) {
	name, _, hasArg := strings.Cut(output, "=")
	for i := range formats {
		f := &formats[i]
		if f.Name != name || (hasArg && !f.Template) || !f.supports(v, fleet) {
			continue
		}
		if !f.Machine {
			return &Printer{Name: f.Name, print: f.Render[v], fleet: f.Fleet[v], whatIf: f.RenderWhatIf}, nil
		}
		*pf.OutputFormat = output
		rp, err := pf.ToPrinter()
		if err != nil {
			return nil, fmt.Errorf("--output %q: %s", output, text.OneLine(err.Error()))
		}
		return &Printer{Name: f.Name, Machine: true,
			print: func(w io.Writer, r *report.Report, _ Options) error {
				if v == ViewCapacity {
					return rp.PrintObj(report.NewCapacityReport(r), w)
				}
				return rp.PrintObj(r, w)
			},
			fleet:  func(w io.Writer, r *report.FleetReport, _ Options) error { return rp.PrintObj(r, w) },
			whatIf: func(w io.Writer, r *report.WhatIfReport, _ Options) error { return rp.PrintObj(r, w) },
		}, nil
	}
	what := "is not a known format"
	for i := range formats {
		if formats[i].Name == name && !hasArg {
			what = "is not supported by " + map[View]string{ViewAudit: "this command", ViewDetail: "this command", ViewNodes: "nodes", ViewNode: "nodes", ViewCapacity: "capacity", ViewWhatIf: "whatif"}[v]
			if fleet && formats[i].supports(v, false) {
				what = "is not supported for several clusters (--contexts, --all-contexts)"
			}
		}
	}
	return nil, fmt.Errorf("--output %q %s; use one of: %s", output, what, strings.Join(allowed(v, fleet), ", "))
}

// Names prints "-n NAMESPACE daemonset/NAME" per DaemonSet shown: kubectl
// get -o name's daemonset/NAME with its namespace, since an audit spans
// namespaces and a bare name is ambiguous there. Each line is the
// arguments of a kubectl command (xargs -L1 kubectl describe). An Advanced
// DaemonSet is daemonset.apps.kruise.io/NAME, its resource: kubectl reads
// a bare daemonset as the core kind.
func Names(w io.Writer, r *report.Report, _ Options) error {
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		typ := "daemonset"
		if ds.Resource != "" {
			typ = ds.Resource
		}
		if _, err := fmt.Fprintf(w, "-n %s %s/%s\n", escape.Terminal(ds.Namespace), escape.Terminal(typ), escape.Terminal(ds.Name)); err != nil {
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
		if _, err := fmt.Fprintf(w, "node/%s\n", escape.Terminal(n)); err != nil {
			return err
		}
	}
	return nil
}
