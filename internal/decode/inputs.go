package decode

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// sourcePart is one entry of the report's source: what was read where.
type sourcePart struct {
	what  string // "file", or a layout's name
	at    string // the file, directory or layout root
	files int
}

// sourceSummary describes the input in a line: the files given, or per
// layout its root and how many files were read from it (a must-gather has
// hundreds; listing them made the source most of a JSON report).
func (r *fileReader) sourceSummary() string {
	var plain []string
	var parts []string
	for _, s := range r.sources {
		if s.what == "file" {
			plain = append(plain, s.at)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d %s)", s.what, s.at, s.files, plural(s.files, "file", "files")))
	}
	switch {
	case len(plain) > 0 && len(plain) <= 3:
		parts = append([]string{"file " + strings.Join(plain, ", ")}, parts...)
	case len(plain) > 3:
		parts = append([]string{fmt.Sprintf("%d files (%s, ...)", len(plain), strings.Join(plain[:3], ", "))}, parts...)
	}
	return strings.Join(parts, "; ")
}

// inputNames names the inputs for an error about all of them.
func (r *fileReader) inputNames() string {
	names := make([]string, 0, len(r.sources))
	for _, s := range r.sources {
		names = append(names, s.at)
	}
	if len(names) > 3 {
		names = append(names[:3], "...")
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// archiveKind sniffs the first bytes of an input: a tar archive (plain or
// gzipped) or a gzipped stream, by content rather than by file name.
type archiveKind int

const (
	notArchive archiveKind = iota
	gzipStream
	tarArchive
	tarGzArchive
)

func isTarHeader(b []byte) bool {
	return len(b) >= 263 && bytes.HasPrefix(b[257:], []byte("ustar"))
}

// sniffArchive tells what br holds, without consuming it; for gzip it also
// returns a reader of the decompressed stream.
func sniffArchive(br *bufio.Reader) (archiveKind, io.Reader, error) {
	head, _ := br.Peek(512)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return gzipStream, nil, fmt.Errorf("not a valid gzip stream: %v", err)
		}
		zbr := bufio.NewReaderSize(zr, 64*1024)
		zhead, _ := zbr.Peek(512)
		if isTarHeader(zhead) {
			return tarGzArchive, zbr, nil
		}
		return gzipStream, zbr, nil
	}
	if isTarHeader(head) {
		return tarArchive, br, nil
	}
	for _, f := range otherArchives {
		if bytes.HasPrefix(head, f.magic) {
			return notArchive, nil, fmt.Errorf("%s data, which daemoncheck does not unpack; unpack it (or repack it as .tar.gz) and give that", f.name)
		}
	}
	return notArchive, br, nil
}

// otherArchives are compressed or archive formats given as dumps now and
// then (must-gathers travel as .tar.xz), named instead of "binary data".
var otherArchives = []struct {
	name  string
	magic []byte
}{
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"bzip2", []byte("BZh")},
	{"zip", []byte("PK\x03\x04")},
}

func (r *fileReader) readStdin(stdin io.Reader) error {
	const name = "<stdin>"
	r.sources = append(r.sources, sourcePart{what: "file", at: name, files: 1})
	br := bufio.NewReaderSize(&boundedReader{r: stdin, left: MaxInputBytes}, 64*1024)
	kind, in, err := sniffArchive(br)
	switch {
	case err != nil:
		return &InputError{File: name, Err: err}
	case kind == tarArchive || kind == tarGzArchive:
		// Which files of an archive to read depends on all its names
		// (the layout), so it is read twice: that needs a file.
		return &InputError{File: name, Err: errors.New("a tar archive on stdin; save it to a file and give that: -f dump.tar.gz")}
	}
	return r.readStream(name, in)
}

// readPath reads one -f argument other than "-": a directory, an archive
// or a file. A path given directly must be a regular file or a directory:
// a device (/dev/zero) never ends, and opening a FIFO blocks until someone
// writes to it; a pipe is read with "-f -".
func (r *fileReader) readPath(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return &InputError{File: p, Err: unwrapPathError(err)}
	}
	if st.IsDir() {
		return r.readDir(p)
	}
	if !st.Mode().IsRegular() {
		return &InputError{File: p, Err: fmt.Errorf("not a regular file (%s); to read a pipe or device, redirect it to stdin and give -f -", fileType(st.Mode()))}
	}
	f, err := os.Open(p)
	if err != nil {
		return &InputError{File: p, Err: unwrapPathError(err)}
	}
	defer f.Close()
	br := bufio.NewReaderSize(&boundedReader{r: f, left: MaxInputBytes}, 64*1024)
	kind, in, err := sniffArchive(br)
	switch {
	case err != nil:
		return &InputError{File: p, Err: err}
	case kind == tarArchive || kind == tarGzArchive:
		f.Close()
		return r.readArchive(p)
	}
	r.sources = append(r.sources, sourcePart{what: "file", at: p, files: 1})
	return r.readStream(p, in)
}

// planTree decides, for the files of a tree (slash-separated relative
// paths), which are read and with which kind expected.
func planTree(rels []string) (roots []*layoutRoot, read []bool, hints []string) {
	roots = detectLayouts(rels)
	read = make([]bool, len(rels))
	hints = make([]string, len(rels))
	for i, rel := range rels {
		if l := rootOf(roots, rel); l != nil {
			kind, where := l.classify(rel)
			if kind == "" {
				l.skipped[where]++
				continue
			}
			if kind == "*" { // read, kind not implied by the place
				kind = ""
			}
			read[i], hints[i] = true, kind
			l.read++
			continue
		}
		read[i] = isObjectFileName(rel)
	}
	return roots, read, hints
}

// summarize records where a tree's files came from (for the source) and
// the skip summary of each layout in it.
func (r *fileReader) summarize(at func(prefix string) string, roots []*layoutRoot, plainRead int, plainAt string) {
	sort.Slice(roots, func(i, j int) bool { return roots[i].prefix < roots[j].prefix })
	if plainRead > 0 {
		r.sources = append(r.sources, sourcePart{what: "files", at: plainAt, files: plainRead})
	}
	for _, l := range roots {
		if l.read == 0 && len(l.skipped) == 0 {
			continue
		}
		root := strings.TrimSuffix(at(l.prefix), "/")
		r.sources = append(r.sources, sourcePart{what: l.kind.String(), at: root, files: l.read})
		if s := l.skipSummary(root); s != "" {
			r.snap.Warnings = append(r.snap.Warnings, s)
		}
	}
}

// readDir reads a directory: its layouts' files as each layout says, and
// every other *.json, *.yaml and *.yml regular file, recursively, in name
// order. Anything but a regular file that would be read (after following
// symlinks: a *.yaml link to /dev/urandom) is skipped with a warning.
func (r *fileReader) readDir(dir string) error {
	var rels []string
	var ents []fs.DirEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &InputError{File: p, Err: unwrapPathError(err)}
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return &InputError{File: p, Err: err}
		}
		rels = append(rels, filepath.ToSlash(rel))
		ents = append(ents, d)
		return nil
	})
	if err != nil {
		return err
	}
	roots, read, hints := planTree(rels)
	n, plainRead := 0, 0
	for i, rel := range rels {
		if !read[i] {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if !ents[i].Type().IsRegular() {
			st, err := os.Stat(p) // follows a symlink
			switch {
			case err != nil:
				r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("skipped %s: %v", p, unwrapPathError(err)))
				continue
			case st.IsDir():
				continue
			case !st.Mode().IsRegular():
				r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("skipped %s: not a regular file (%s)", p, fileType(st.Mode())))
				continue
			}
		}
		if rootOf(roots, rel) == nil {
			plainRead++
		}
		n++
		r.hint = hints[i]
		err := r.readFile(p)
		r.hint = ""
		if err != nil {
			return err
		}
	}
	if n == 0 {
		if len(roots) > 0 {
			return &InputError{File: dir, Err: fmt.Errorf("the %s holds no files with DaemonSets, Nodes, Pods or ControllerRevisions", roots[0].kind)}
		}
		return &InputError{File: dir, Err: errors.New("directory holds no .json, .yaml or .yml files")}
	}
	r.summarize(func(prefix string) string { return filepath.Join(dir, filepath.FromSlash(prefix)) }, roots, plainRead, dir)
	return nil
}

// tarEntries lists the regular files of an archive (pass one). Links are
// never followed (a link can point anywhere, or be a name read twice),
// entries whose path leaves the archive (../, absolute) and special files
// are skipped; each kind of skip is one warning.
func (r *fileReader) tarEntries(name string) ([]string, error) {
	tr, closeFn, err := openTar(name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var rels, links, unsafe []string
	special := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &InputError{File: name, Err: tarErr(err)}
		}
		switch hdr.Typeflag {
		case tar.TypeReg, 0:
			rel, ok := entryPath(hdr.Name)
			if !ok {
				unsafe = append(unsafe, hdr.Name)
				continue
			}
			if hdr.Size > MaxInputBytes {
				return nil, &InputError{File: name + ":" + rel, Err: fmt.Errorf("larger than %d bytes: %w", MaxInputBytes, errTooLarge)}
			}
			rels = append(rels, rel)
		case tar.TypeDir:
		case tar.TypeSymlink, tar.TypeLink:
			links = append(links, hdr.Name+" -> "+hdr.Linkname)
		default:
			special++
		}
	}
	some := func(l []string) string {
		if len(l) > 3 {
			return strings.Join(l[:3], ", ") + ", ..."
		}
		return strings.Join(l, ", ")
	}
	if len(links) > 0 {
		r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("skipped %d links in %s (links are not followed): %s", len(links), name, some(links)))
	}
	if len(unsafe) > 0 {
		r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("skipped %d entries of %s whose path leaves the archive: %s", len(unsafe), name, some(unsafe)))
	}
	if special > 0 {
		r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("skipped %d entries of %s that are neither files, directories nor links", special, name))
	}
	return rels, nil
}

// entryPath is an archive entry's name as a clean relative path; false if
// it is absolute or leaves the archive.
func entryPath(name string) (string, bool) {
	if strings.HasPrefix(name, "/") || strings.Contains(name, `\`) {
		return "", false
	}
	c := path.Clean(name)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

func tarErr(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the archive is truncated")
	}
	return fmt.Errorf("not a valid tar archive: %v", err)
}

// openTar opens an archive for one pass. The decompressed bytes (headers
// and files) are bounded by MaxInputBytes, as a plain input is: a gzip
// bomb ends with one line.
func openTar(name string) (*tar.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, &InputError{File: name, Err: unwrapPathError(err)}
	}
	br := bufio.NewReaderSize(f, 64*1024)
	var in io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, &InputError{File: name, Err: fmt.Errorf("not a valid gzip stream: %v", err)}
		}
		in = zr
	}
	return tar.NewReader(&boundedReader{r: in, left: MaxInputBytes}), func() { f.Close() }, nil
}

// readArchive reads a tar archive (plain or gzipped) of any input a
// directory can be, without extracting it: pass one lists the names (the
// layouts depend on all of them), pass two reads the chosen files.
func (r *fileReader) readArchive(name string) error {
	rels, err := r.tarEntries(name)
	if err != nil {
		return err
	}
	roots, read, hints := planTree(rels)
	tr, closeFn, err := openTar(name)
	if err != nil {
		return err
	}
	defer closeFn()
	i, n, plainRead := 0, 0, 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &InputError{File: name, Err: tarErr(err)}
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != 0 {
			continue
		}
		if _, ok := entryPath(hdr.Name); !ok {
			continue
		}
		if i >= len(rels) {
			return &InputError{File: name, Err: errors.New("the archive changed while it was read")}
		}
		rel := rels[i]
		i++
		if !read[i-1] {
			continue
		}
		if rootOf(roots, rel) == nil {
			plainRead++
		}
		n++
		r.hint = hints[i-1]
		err = r.readStream(name+":"+rel, tr)
		r.hint = ""
		if err != nil {
			return err
		}
	}
	if n == 0 {
		if len(roots) > 0 {
			return &InputError{File: name, Err: fmt.Errorf("the %s holds no files with DaemonSets, Nodes, Pods or ControllerRevisions", roots[0].kind)}
		}
		return &InputError{File: name, Err: errors.New("the archive holds no .json, .yaml or .yml files")}
	}
	r.summarize(func(prefix string) string { return strings.TrimSuffix(name+":"+prefix, ":") }, roots, plainRead, name)
	return nil
}
