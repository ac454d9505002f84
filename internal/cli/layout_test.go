package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every package under internal/ and pkg/ has its row in CONTRIBUTING.md's
// Layout table, and every row names a package that exists: the layout a
// contributor reads is the tree.
func TestContributingLayoutMatchesTheTree(t *testing.T) {
	doc, err := os.ReadFile("../../CONTRIBUTING.md")
	if err != nil {
		t.Fatal(err)
	}
	layout := string(doc)
	if i := strings.Index(layout, "## Layout"); i >= 0 {
		layout = layout[i:]
	}
	if i := strings.Index(layout[1:], "\n## "); i >= 0 {
		layout = layout[:i+1]
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(layout, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows[strings.Trim(strings.SplitN(line, "|", 3)[1], " `")] = true
		}
	}
	var pkgs []string
	for _, root := range []string{"internal", "pkg"} {
		err := filepath.WalkDir(filepath.Join("../..", root), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" {
				return err
			}
			files, _ := filepath.Glob(filepath.Join(p, "*.go"))
			for _, f := range files {
				if !strings.HasSuffix(f, "_test.go") {
					pkgs = append(pkgs, strings.TrimPrefix(filepath.ToSlash(p), "../../"))
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pkgs {
		// Test helper packages (collecttest) are not part of the layout.
		if !rows[p] && !strings.HasSuffix(p, "test") {
			t.Errorf("package %s has no row in CONTRIBUTING.md's Layout table", p)
		}
	}
	for r := range rows {
		if !strings.HasPrefix(r, "internal/") && !strings.HasPrefix(r, "pkg/") {
			continue
		}
		if _, err := os.Stat(filepath.Join("../..", r)); err != nil {
			t.Errorf("CONTRIBUTING.md's Layout names %s, which does not exist", r)
		}
	}
}
