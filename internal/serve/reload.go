package serve

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"time"
)

// fileWatch tells when files changed. It polls: a ConfigMap mounted as a
// volume changes by swapping a symlink (..data) to a new directory, which
// inotify on the file itself never sees and which keeps the old mtime of
// the new file's content; a stat through the path follows the link, so a
// new inode, size or mtime is noticed, and the content then decides (a
// swap to identical content is no change).
type fileWatch struct {
	paths []string
	last  []fileSig
}

type fileSig struct {
	info os.FileInfo // nil: could not stat
	sum  [sha256.Size]byte
}

// maxWatchedFile bounds what is hashed: a policy far larger is an error
// the loader reports; the watch then only compares stats.
const maxWatchedFile = 16 << 20

func newFileWatch(paths []string) *fileWatch {
	f := &fileWatch{paths: paths, last: make([]fileSig, len(paths))}
	for i, p := range paths {
		f.last[i] = sign(p, fileSig{})
	}
	return f
}

// changed reports whether any file differs from the last call.
func (f *fileWatch) changed() bool {
	any := false
	for i, p := range f.paths {
		sig := sign(p, f.last[i])
		if (sig.info == nil) != (f.last[i].info == nil) || sig.sum != f.last[i].sum {
			any = true
		}
		f.last[i] = sig
	}
	return any
}

// sign stats path and, when the stat differs from prev's, hashes the
// content.
func sign(path string, prev fileSig) fileSig {
	info, err := os.Stat(path)
	if err != nil {
		return fileSig{}
	}
	if prev.info != nil && os.SameFile(info, prev.info) && info.ModTime().Equal(prev.info.ModTime()) && info.Size() == prev.info.Size() {
		return fileSig{info: info, sum: prev.sum}
	}
	sig := fileSig{info: info}
	fh, err := os.Open(path)
	if err != nil {
		return fileSig{}
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(fh, maxWatchedFile)); err != nil {
		return fileSig{}
	}
	copy(sig.sum[:], h.Sum(nil))
	// A file larger than the bound: tell versions apart by their stat.
	if info.Size() > maxWatchedFile {
		var b bytes.Buffer
		b.WriteString(info.ModTime().Format(time.RFC3339Nano))
		sig.sum = sha256.Sum256(append(sig.sum[:], b.Bytes()...))
	}
	return sig
}
