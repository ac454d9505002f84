package cli

import (
	"bufio"
	"cmp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/daemoncheck/daemoncheck/internal/outfile"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// --output-file FORMAT=PATH: the flag and its resolution against the
// command's formats; package outfile writes the files.

// addOutputFileFlag registers --output-file with the formats of view.
func (o *outputFlags) addOutputFileFlag(cmd *cobra.Command, view render.View) {
	cmd.Flags().StringArrayVar(&o.OutputFiles, "output-file", nil, "Also write FORMAT=PATH, e.g. "+outputFileExample(view)+".")
	registerOutputFileCompletion(cmd, view)
}

// registerOutputFileCompletion completes --output-file's FORMAT= from the
// formats of view.
func registerOutputFileCompletion(cmd *cobra.Command, view render.View) {
	_ = cmd.RegisterFlagCompletionFunc("output-file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, f := range render.Completions(view) {
			out = append(out, strings.TrimSuffix(f, "=")+"=")
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// outputFileExample is an --output-file value for the help of view: its
// first format after wide.
func outputFileExample(view render.View) string {
	ext := map[string]string{"junit": "xml", "markdown": "md", "prometheus": "prom"}
	for _, f := range render.Allowed(view) {
		if f != "wide" {
			return f + "=report." + cmp.Or(ext[f], f)
		}
	}
	return "json=report.json"
}

// completeOutputFiles resolves every --output-file against the printer
// registry for the command's view, so a wrong format is a usage error before
// anything is read.
func (o *outputFlags) completeOutputFiles(view render.View, fleet bool) (outfile.Files, error) {
	files, err := outfile.Resolve(o.OutputFiles, func(format string) (*render.Printer, error) {
		// A PrintFlags of its own: ForOutput stores the template argument
		// in it, and stdout's printer must keep its own.
		return printerFor(format, view, newPrintFlags(), fleet)
	})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return files, nil
}

// writeReportFiles writes the report to every --output-file. A file that
// cannot be written is exit 3, as stdout is: a CI job must not pass with a
// missing report.
func (o *runner) writeReportFiles(rep *report.Report) error {
	return o.writeOutputFiles(rep.GeneratedAt, printReport(rep))
}

func printReport(rep *report.Report) outfile.Print {
	return func(p *render.Printer, w *bufio.Writer, po render.Options) error { return p.Print(w, rep, po) }
}

// writeOutputFiles prints to every --output-file with print, given the
// file's printer; now is the report's clock (AGE columns).
func (o *runner) writeOutputFiles(now time.Time, print outfile.Print) error {
	po := o.run.out.opts
	po.Now = now
	if err := o.run.out.files.Write(po, print); err != nil {
		return inputErrorf("%v", err)
	}
	return nil
}
