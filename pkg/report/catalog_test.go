package report

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's findings table is the catalog, row for row: type, severity and
// the "when" column (the catalog's Doc).
func TestReadmeFindingsTableMatchesCatalog(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "\n## Findings\n")
	if !ok {
		t.Fatal("README has no ## Findings section")
	}
	row := regexp.MustCompile("^\\| `(\\w+)` \\| (\\w+) \\| (.*?) \\| .* \\|$")
	var got []TypeInfo
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		if m := row.FindStringSubmatch(line); m != nil {
			got = append(got, TypeInfo{Type: FindingType(m[1]), Severity: Severity(m[2]), Doc: m[3]})
		}
	}
	if len(got) != len(Catalog) {
		t.Fatalf("README lists %d finding types, the catalog %d", len(got), len(Catalog))
	}
	for i, ti := range Catalog {
		if g := got[i]; g.Type != ti.Type || g.Severity != ti.Severity || g.Doc != ti.Doc {
			t.Errorf("README row %d = %s/%s %q; catalog %s/%s %q", i+1, g.Type, g.Severity, g.Doc, ti.Type, ti.Severity, ti.Doc)
		}
	}
}
