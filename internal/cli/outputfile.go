package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// outputFile is one --output-file FORMAT=PATH, resolved: CI wants the JUnit
// file, the JSON report and the table of one run, not three runs that may
// see three different clusters.
type outputFile struct {
	spec    string
	path    string
	printer *render.Printer
}

// addOutputFileFlag registers --output-file on fs (the audit flags' set, so
// nodes has it too).
func (o *CheckOptions) addOutputFileFlag(cmd *cobra.Command, fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.OutputFiles, "output-file", nil, "Also write the report to a file in another format, as FORMAT=PATH (e.g. junit=report.xml, json=report.json, prometheus=daemoncheck.prom); any -o format of the command; template formats as jsonpath=TEMPLATE=PATH. Repeatable; written in the same run as stdout.")
	_ = cmd.RegisterFlagCompletionFunc("output-file", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		view := render.ViewAudit
		if c.Name() == "nodes" {
			view = render.ViewNodes
		}
		var out []string
		for _, f := range render.Completions(view) {
			out = append(out, strings.TrimSuffix(f, "=")+"=")
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// completeOutputFiles resolves every --output-file against the printer
// registry for the command's view, so a wrong format is a usage error before
// anything is read.
func (o *CheckOptions) completeOutputFiles(view render.View, fleet bool) ([]outputFile, error) {
	var out []outputFile
	seen := map[string]string{}
	for _, spec := range o.OutputFiles {
		format, path, err := splitOutputFile(spec)
		if err != nil {
			return nil, usageErrorf("--output-file %q: %v", spec, err)
		}
		if prev, dup := seen[path]; dup {
			return nil, usageErrorf("--output-file %q and %q write the same file %s", prev, spec, path)
		}
		seen[path] = spec
		// A PrintFlags of its own: ForOutput stores the template argument
		// in it, and stdout's printer must keep its own.
		p, err := printerFor(format, view, newPrintFlags(), fleet)
		if err != nil {
			return nil, usageErrorf("--output-file %q: %s", spec, strings.TrimPrefix(err.Error(), "--output "))
		}
		out = append(out, outputFile{spec: spec, path: path, printer: p})
	}
	return out, nil
}

// splitOutputFile splits FORMAT=PATH. A template format carries its own
// argument (jsonpath={.x}=out.txt), so there the path is after the last "=".
func splitOutputFile(spec string) (format, path string, err error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" || rest == "" {
		return "", "", fmt.Errorf("write FORMAT=PATH, e.g. junit=report.xml")
	}
	if strings.HasPrefix(name, "jsonpath") || strings.Contains(name, "template") {
		i := strings.LastIndex(spec, "=")
		if i <= len(name) || i == len(spec)-1 {
			return "", "", fmt.Errorf("a template format is written %s=TEMPLATE=PATH", name)
		}
		return spec[:i], spec[i+1:], nil
	}
	return name, rest, nil
}

// writeReportFiles writes the report to every --output-file. A file that
// cannot be written is exit 3, as stdout is: a CI job must not pass with a
// missing report.
func (o *CheckOptions) writeReportFiles(rep *report.Report) error {
	return o.writeOutputFiles(rep.GeneratedAt, printReport(rep))
}

// printFunc prints with a resolved printer (stdout's or a file's).
type printFunc func(*render.Printer, *bufio.Writer, render.Options) error

func printReport(rep *report.Report) printFunc {
	return func(p *render.Printer, w *bufio.Writer, po render.Options) error { return p.Print(w, rep, po) }
}

// writeOutputFiles prints to every --output-file with print, given the
// file's printer; now is the report's clock (AGE columns).
func (o *CheckOptions) writeOutputFiles(now time.Time, print printFunc) error {
	po := o.run.printOpts
	po.Now = now
	for _, f := range o.run.outputFiles {
		if err := writeOutputFile(f, po, print); err != nil {
			return inputErrorf("writing --output-file %s: %s", f.spec, text.OneLine(err.Error()))
		}
	}
	return nil
}

func writeOutputFile(f outputFile, po render.Options, print printFunc) error {
	file, err := os.Create(f.path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(file, 64*1024)
	perr := print(f.printer, w, po)
	ferr := w.Flush()
	cerr := file.Close()
	for _, e := range []error{perr, ferr, cerr} {
		if e != nil {
			return e
		}
	}
	return nil
}
