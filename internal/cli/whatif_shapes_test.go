package cli

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// nodePoolYAML is a karpenter.sh/v1 NodePool whose requirements are reqs
// (YAML flow mappings).
func nodePoolYAML(reqs ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: wide}\nspec:\n  template:\n    spec:\n      requirements:\n")
	for _, r := range reqs {
		b.WriteString("      - " + r + "\n")
	}
	return b.String()
}

// A pool with more node shapes than --max-shapes fails in every what-if
// format, which names the shapes not judged; --accept-unjudged-shapes
// turns that into a warning. A pool whose requirements allow no node fails
// too. Both used to print "whatif passed", exit 0.
func TestWhatIfNamesUnjudgedShapesInEveryFormat(t *testing.T) {
	var reqs, sel []string
	for i := range 6 {
		key := fmt.Sprintf("example.com/key-%d", i)
		reqs = append(reqs, fmt.Sprintf("{key: %s, operator: In, values: [a, b]}", key))
		sel = append(sel, key, "a")
	}
	picky := fixture.DaemonSet("ns", "picky", fixture.WithNodeSelector(sel...))
	node := fixture.Node("n1", fixture.Sized("4", "16Gi"))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dump := write("dump.yaml", yamlDocs(t, &picky, &node))
	wide := write("wide.yaml", nodePoolYAML(reqs...))
	none := write("none.yaml", nodePoolYAML("{key: example.com/gen, operator: Gt, values: [\"9223372036854775807\"]}"))

	formats := map[string]string{
		"":         "whatif failed: 1 pool (10 node shapes judged, 54 not judged: beyond --max-shapes)",
		"json":     `"unjudgedShapes": 54`,
		"markdown": "whatif failed: 1 pool (10 node shapes judged, 54 not judged: beyond --max-shapes)",
		"junit":    "not judged: 54 node shapes beyond --max-shapes 10",
		"github":   "::error title=ShapesNotJudged NodePool wide::not judged: 54 node shapes beyond --max-shapes 10",
	}
	for format, want := range formats {
		argsWith := func(max string) []string {
			a := []string{"whatif", wide, "-f", dump, "--max-shapes", max}
			if format != "" {
				a = append(a, "-o", format)
			}
			return a
		}
		args := argsWith("10")
		out, errOut, code := runCmd(t, "", args...)
		if code != ExitFindings || !strings.Contains(out, want) {
			t.Errorf("-o %q: exit %d, want 1 and %q in:\n%s\nstderr:\n%s", format, code, want, out, errOut)
		}
		if format == "junit" {
			var v struct{}
			if err := xml.Unmarshal([]byte(out), &v); err != nil {
				t.Errorf("junit: %v", err)
			}
		}
		// The user's explicit choice: the shapes judged decide.
		out, errOut, code = runCmd(t, "", append(args, "--accept-unjudged-shapes")...)
		if code != ExitOK || !strings.Contains(out, "ShapesNotJudged") && format != "json" {
			t.Errorf("-o %q --accept-unjudged-shapes: exit %d, want 0 with the warning in:\n%s\nstderr:\n%s", format, code, out, errOut)
		}
		// Every shape judged: nothing unjudged to say.
		out, _, code = runCmd(t, "", argsWith("64")...)
		if code != ExitOK || strings.Contains(out, "ShapesNotJudged") || strings.Contains(out, "not judged") {
			t.Errorf("-o %q --max-shapes 64: exit %d:\n%s", format, code, out)
		}
	}

	out, errOut, code := runCmd(t, "", "whatif", none, "-f", dump)
	if code != ExitFindings || !strings.Contains(out, "FAIL NoNodeShape: no node shape satisfies the requirements: example.com/gen Gt [9223372036854775807] allow no value") ||
		!strings.Contains(out, "whatif failed: 1 pool (0 node shapes)") {
		t.Errorf("a pool that allows no node: exit %d:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
