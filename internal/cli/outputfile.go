package cli

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
	// appendTo: the path is $GITHUB_STEP_SUMMARY's, a file each step of
	// a job appends to (GitHub shows what every step wrote).
	appendTo bool
	// written says this run wrote the file.
	written bool
}

// addOutputFileFlag registers --output-file with the formats of view.
func (o *outputFlags) addOutputFileFlag(cmd *cobra.Command, view render.View) {
	cmd.Flags().StringArrayVar(&o.OutputFiles, "output-file", nil, "Also write FORMAT=PATH, e.g. "+outputFileExample(view)+".")
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
func (o *outputFlags) completeOutputFiles(view render.View, fleet bool) ([]outputFile, error) {
	var out []outputFile
	seen := map[string]string{}
	for _, spec := range o.OutputFiles {
		format, path, err := splitOutputFile(spec)
		if err != nil {
			return nil, usageErrorf("--output-file %q: %v", spec, err)
		}
		// ./r.json and r.json are one file.
		key := absPath(path)
		if prev, dup := seen[key]; dup {
			return nil, usageErrorf("--output-file %q and %q write the same file %s", prev, spec, path)
		}
		seen[key] = spec
		appendTo := os.Getenv("GITHUB_STEP_SUMMARY") != "" && key == absPath(os.Getenv("GITHUB_STEP_SUMMARY"))
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 && !appendTo {
			return nil, usageErrorf("--output-file %q: %s is a symbolic link: daemoncheck replaces the file it writes and does not follow links; give the path of the file itself (stdout is -o)", spec, path)
		}
		// A PrintFlags of its own: ForOutput stores the template argument
		// in it, and stdout's printer must keep its own.
		p, err := printerFor(format, view, newPrintFlags(), fleet)
		if err != nil {
			return nil, usageErrorf("--output-file %q: %s", spec, strings.TrimPrefix(err.Error(), "--output "))
		}
		out = append(out, outputFile{spec: spec, path: path, printer: p, appendTo: appendTo})
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
func (o *runner) writeReportFiles(rep *report.Report) error {
	return o.writeOutputFiles(rep.GeneratedAt, printReport(rep))
}

// printFunc prints with a resolved printer (stdout's or a file's).
type printFunc func(*render.Printer, *bufio.Writer, render.Options) error

func printReport(rep *report.Report) printFunc {
	return func(p *render.Printer, w *bufio.Writer, po render.Options) error { return p.Print(w, rep, po) }
}

// writeOutputFiles prints to every --output-file with print, given the
// file's printer; now is the report's clock (AGE columns).
func (o *runner) writeOutputFiles(now time.Time, print printFunc) error {
	po := o.run.printOpts
	po.Now = now
	for i := range o.run.outputFiles {
		f := &o.run.outputFiles[i]
		if err := writeOutputFile(f, po, print); err != nil {
			return inputErrorf("writing --output-file %s: %s", f.spec, text.OneLine(err.Error()))
		}
		f.written = true
	}
	return nil
}

// writeOutputFile writes a new file beside the target and renames it over
// the target, so that a reader never sees half a report: node-exporter's
// textfile collector may read a .prom file at any moment, a CI step may
// upload an artifact while another writes it. Renaming replaces a symbolic
// link rather than following it (completeOutputFiles refuses links with a
// clear error first). $GITHUB_STEP_SUMMARY is appended to, as GitHub means
// it to be; a device or a FIFO (/dev/null) is written in place.
func writeOutputFile(f *outputFile, po render.Options, print printFunc) error {
	if f.appendTo {
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return err
		}
		return printTo(file, f, po, print)
	}
	mode := os.FileMode(0o666) // less the umask, as os.Create
	fi, err := os.Lstat(f.path)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink == 0 && !fi.Mode().IsRegular():
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		return printTo(file, f, po, print)
	case err == nil && fi.Mode().IsRegular():
		mode = fi.Mode().Perm()
	}
	tmp, err := createBeside(f.path)
	if err != nil {
		return err
	}
	if err := printTo(tmp, f, po, print); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if fi != nil && fi.Mode().IsRegular() {
		if err := os.Chmod(tmp.Name(), mode); err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// createBeside creates a new file in path's directory (a rename is atomic
// only within one file system), named so that no reader takes it for the
// report: a dot first, and not ending in .prom, .xml or .json.
func createBeside(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// printTo prints to file through a buffer and closes it.
func printTo(file *os.File, f *outputFile, po render.Options, print printFunc) error {
	w := bufio.NewWriterSize(file, 64*1024)
	perr := print(f.printer, w, po)
	ferr := w.Flush()
	cerr := file.Close()
	return errors.Join(perr, ferr, cerr)
}

// removeStaleOutputFiles removes, after a run that failed, every
// --output-file it did not write: a report of an earlier run left there
// would read as this run's, a pass where this run failed (a CI artifact, a
// .prom file node-exporter keeps exporting). A missing file says the run
// did not produce it; written ones hold this run's (failing or partial)
// report and stay. $GITHUB_STEP_SUMMARY is the job's, and never removed.
func (o *runner) removeStaleOutputFiles() {
	for _, f := range o.run.outputFiles {
		if f.written || f.appendTo {
			continue
		}
		if fi, err := os.Lstat(f.path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(f.path); err == nil {
			fmt.Fprintf(o.ErrOut, "Removed %s: the run failed before writing it, and an earlier report there would read as this run's.\n", text.Terminal(f.path))
		}
	}
}

// fullReportFile is the first --output-file that holds the whole report
// (json or yaml), for a printer that must cut (Markdown) to point at; ""
// when there is none.
func fullReportFile(files []outputFile) string {
	for _, f := range files {
		if f.printer.Name == "json" || f.printer.Name == "yaml" {
			return f.path
		}
	}
	return ""
}

// absPath is path made absolute and clean, to compare paths by.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}
