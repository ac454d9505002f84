package render_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/internal/render/rendertest"
)

// ESC, a bidi override and a workflow command in an event message, a
// server error and names reach no terminal output raw: the table, -o wide,
// the detail view, the coverage matrix, the node view, the capacity table,
// the partial report banner and -o name.
func TestTerminalPrintersEscapeServerText(t *testing.T) {
	const s = "\x1b]0;pwned\x07\x1b[2J\u202eevil\u200b ##[stop-commands]tok\n::error::forged"
	r := rendertest.HostileReport(s)
	o := render.Options{Now: r.GeneratedAt, Node: "node-" + s}
	for name, print := range map[string]render.RenderFunc{
		"table": render.Table, "describe": render.Describe, "matrix": render.Matrix, "node": render.NodeDetail, "capacity": plan.CapacityTable, "names": render.Names, "nodenames": render.NodeNames,
	} {
		for _, wide := range []bool{false, true} {
			o.Wide = wide
			out := rendertest.Render(t, func(b *bytes.Buffer) error { return print(b, r, o) })
			rendertest.NothingActive(t, name, out)
			if name != "names" && name != "nodenames" && !strings.Contains(out, `\x1b[2J\u202eevil\u200b`) {
				t.Errorf("%s (wide %v): the escaped text is not shown:\n%s", name, wide, out)
			}
		}
	}
	out := rendertest.Render(t, func(b *bytes.Buffer) error { return render.Table(b, r, render.Options{}) })
	if !strings.Contains(out, `PARTIAL REPORT: Pod not read: the server said \x1b]0;pwned\x07`) {
		t.Errorf("the partial report banner:\n%s", out)
	}
}
