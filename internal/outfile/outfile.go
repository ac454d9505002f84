// Package outfile writes a run's --output-file copies: CI wants the JUnit
// file, the JSON report and the table of one run, not three runs that may
// see three different clusters. A file is replaced whole (a new file beside
// it, renamed over it), never written through a symbolic link;
// $GITHUB_STEP_SUMMARY is appended to; after a failed run, the files it did
// not write are removed so that an earlier report is not read as its own.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Print prints with a resolved printer (stdout's or a file's).
type Print func(*render.Printer, *bufio.Writer, render.Options) error

// File is one --output-file FORMAT=PATH, resolved.
type File struct {
	spec    string
	path    string
	printer *render.Printer
	// appendTo: the path is $GITHUB_STEP_SUMMARY's, a file each step of
	// a job appends to (GitHub shows what every step wrote).
	appendTo bool
	// written says this run wrote the file.
	written bool
}

// Files are a run's --output-file copies.
type Files []File

// Resolve resolves every FORMAT=PATH in specs; printerFor resolves a
// format (its error is worded for -o), so that a wrong format or path is
// refused before anything is read.
func Resolve(specs []string, printerFor func(format string) (*render.Printer, error)) (Files, error) {
	var out Files
	seen := map[string]string{}
	for _, spec := range specs {
		format, path, err := Split(spec)
		if err != nil {
			return nil, fmt.Errorf("--output-file %q: %v", spec, err)
		}
		// ./r.json and r.json are one file.
		key := absPath(path)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("--output-file %q and %q write the same file %s", prev, spec, path)
		}
		seen[key] = spec
		appendTo := os.Getenv("GITHUB_STEP_SUMMARY") != "" && key == absPath(os.Getenv("GITHUB_STEP_SUMMARY"))
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 && !appendTo {
			return nil, fmt.Errorf("--output-file %q: %s is a symbolic link: daemoncheck replaces the file it writes and does not follow links; give the path of the file itself (stdout is -o)", spec, path)
		}
		p, err := printerFor(format)
		if err != nil {
			return nil, fmt.Errorf("--output-file %q: %s", spec, strings.TrimPrefix(err.Error(), "--output "))
		}
		out = append(out, File{spec: spec, path: path, printer: p, appendTo: appendTo})
	}
	return out, nil
}

// Split splits FORMAT=PATH. A template format carries its own argument
// (jsonpath={.x}=out.txt), so there the path is after the last "=".
func Split(spec string) (format, path string, err error) {
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

// Write prints to every file with print, given the file's printer; po.Now
// is the report's clock (AGE columns). A file that cannot be written ends
// the writing with its error: a CI job must not pass with a missing report.
func (files Files) Write(po render.Options, print Print) error {
	for i := range files {
		f := &files[i]
		if err := f.write(po, print); err != nil {
			return fmt.Errorf("writing --output-file %s: %s", f.spec, text.OneLine(err.Error()))
		}
		f.written = true
	}
	return nil
}

// write writes a new file beside the target and renames it over the
// target, so that a reader never sees half a report: node-exporter's
// textfile collector may read a .prom file at any moment, a CI step may
// upload an artifact while another writes it. Renaming replaces a symbolic
// link rather than following it (Resolve refuses links with a clear error
// first). $GITHUB_STEP_SUMMARY is appended to, as GitHub means it to be; a
// device or a FIFO (/dev/null) is written in place.
func (f *File) write(po render.Options, print Print) error {
	if f.appendTo {
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			return err
		}
		return f.printTo(file, po, print)
	}
	mode := os.FileMode(0o666) // less the umask, as os.Create
	fi, err := os.Lstat(f.path)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink == 0 && !fi.Mode().IsRegular():
		file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		return f.printTo(file, po, print)
	case err == nil && fi.Mode().IsRegular():
		mode = fi.Mode().Perm()
	}
	tmp, err := createBeside(f.path)
	if err != nil {
		return err
	}
	if err := f.printTo(tmp, po, print); err != nil {
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
func (f *File) printTo(file *os.File, po render.Options, print Print) error {
	w := bufio.NewWriterSize(file, 64*1024)
	perr := print(f.printer, w, po)
	ferr := w.Flush()
	cerr := file.Close()
	return errors.Join(perr, ferr, cerr)
}

// RemoveUnwritten removes, after a run that failed, every file it did not
// write, and says so on errOut: a report of an earlier run left there would
// read as this run's, a pass where this run failed (a CI artifact, a .prom
// file node-exporter keeps exporting). A missing file says the run did not
// produce it; written ones hold this run's (failing or partial) report and
// stay. $GITHUB_STEP_SUMMARY is the job's, and never removed.
func (files Files) RemoveUnwritten(errOut io.Writer) {
	for _, f := range files {
		if f.written || f.appendTo {
			continue
		}
		if fi, err := os.Lstat(f.path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(f.path); err == nil {
			fmt.Fprintf(errOut, "Removed %s: the run failed before writing it, and an earlier report there would read as this run's.\n", text.Terminal(f.path))
		}
	}
}

// FullReport is the first file that holds the whole report (json or yaml),
// for a printer that must cut (Markdown) to point at; "" when there is none.
func (files Files) FullReport() string {
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
