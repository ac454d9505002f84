package render

import (
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The -w/--watch stream. After the first report, a watch prints only what
// changed, one line per row, as `kubectl get -w` prints new rows:
//
//	ADDED|MODIFIED|DELETED   NAMESPACE/NAME   desired=N current=N ready=N up-to-date=N available=N
//	APPEARED|CHANGED|RESOLVED   DAEMONSET   PROBLEM   NODES   CAUSE
//
// A DaemonSet's line carries its recomputed counts (the summary table's);
// a problem's line is its row of the problems table without the fix (under
// -o wide: a finding's row, DAEMONSET NODE POD FINDING REASON). No
// timestamps: the same changes always print the same lines.

// Watch events of DaemonSet lines (kubectl's words for objects) and of
// problem and finding lines.
const (
	WatchAdded    = "ADDED"
	WatchModified = "MODIFIED"
	WatchDeleted  = "DELETED"
	WatchAppeared = "APPEARED"
	WatchChanged  = "CHANGED"
	WatchResolved = "RESOLVED"
)

// WatchState is what a watch compares consecutive reports by: the rows it
// would print, keyed by what they are about.
type WatchState struct {
	daemonSets []watchRow
	problems   []watchRow
	// wide: the finding rows of each DaemonSet, by name, and the findings
	// they were made from, so that the next state reuses the rows of a
	// DaemonSet whose findings are the very same (a report carried forward
	// by analyze.Memo shares them): a change costs its DaemonSet's rows.
	wide  bool
	rowOf map[string]dsRows
}

type dsRows struct {
	findings []report.Finding
	rows     []watchRow
}

type watchRow struct {
	key  string
	text string
	// same is what the row says as data (report.Finding.Fingerprint: IDs,
	// reasons, parameters, severity, state; no words, no ages): a row
	// whose only difference is an older age is no change (kubectl get -w
	// does not print a row again because its AGE grew), while a quantity
	// that changes is one.
	same string
}

// NewWatchState reduces a report to its watch rows: one per DaemonSet, and
// one per problem (wide: one per finding, set-aside ones included, as -o
// wide lists them).
func NewWatchState(r *report.Report, wide bool) *WatchState {
	return NextWatchState(nil, r, wide)
}

// NextWatchState is NewWatchState, reusing prev's rows where the report's
// findings are prev's own (the same slice: reports never change after the
// analysis).
func NextWatchState(prev *WatchState, r *report.Report, wide bool) *WatchState {
	s := &WatchState{wide: wide}
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		c := ds.Computed
		get := func(f func(*report.Counts) int32) string { return Num(c, f) }
		text := cells(ds.Namespace+"/"+ds.Name,
			"desired="+get(func(c *report.Counts) int32 { return c.DesiredNumberScheduled })+
				" current="+get(func(c *report.Counts) int32 { return c.CurrentNumberScheduled })+
				" ready="+get(func(c *report.Counts) int32 { return c.NumberReady })+
				" up-to-date="+get(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled })+
				" available="+get(func(c *report.Counts) int32 { return c.NumberAvailable }))
		s.daemonSets = append(s.daemonSets, watchRow{key: ds.Namespace + "/" + ds.Name, text: text, same: text})
		// (counts only: the text is the data)
	}
	// Rows with the same key (rare: two findings of one type for one Pod)
	// are told apart by their order.
	add := func(rows []watchRow, seen map[string]int, key string, row []string, same string) []watchRow {
		seen[key]++
		if n := seen[key]; n > 1 {
			key += "\x00" + strconv.Itoa(n)
		}
		return append(rows, watchRow{key: key, text: cells(row...), same: same})
	}
	if wide {
		// Finding keys start with the DaemonSet's name: rows of
		// different DaemonSets never share a key.
		s.rowOf = make(map[string]dsRows, len(r.DaemonSets))
		for i := range r.DaemonSets {
			ds := &r.DaemonSets[i]
			name := ds.Namespace + "/" + ds.Name
			if prev != nil && prev.wide {
				if old, ok := prev.rowOf[name]; ok && sameFindings(old.findings, ds.Findings) {
					s.rowOf[name] = old
					s.problems = append(s.problems, old.rows...)
					continue
				}
			}
			var rows []watchRow
			seen := map[string]int{}
			for j := range ds.Findings {
				f := &ds.Findings[j]
				row := []string{name, OrNone(f.Node, "-"), OrNone(f.Pod, "-"), string(f.Type), findingText(f)}
				rows = add(rows, seen, strings.Join([]string{name, string(f.Type), f.Node, f.Pod}, "\x00"), row, f.Fingerprint())
			}
			s.rowOf[name] = dsRows{findings: ds.Findings, rows: rows}
			s.problems = append(s.problems, rows...)
		}
		return s
	}
	seen := map[string]int{}
	byName := make(map[string]*report.DaemonSetReport, len(r.DaemonSets))
	for i := range r.DaemonSets {
		byName[r.DaemonSets[i].Namespace+"/"+r.DaemonSets[i].Name] = &r.DaemonSets[i]
	}
	for i := range r.Problems {
		p := &r.Problems[i]
		s.problems = add(s.problems, seen, problemKey(p), problemRow(p)[:6], problemFingerprint(byName, p))
	}
	return s
}

// problemFingerprint is what a problem says as data: its severity, verdict,
// nodes, DaemonSets and pattern, and the fingerprints of its findings.
func problemFingerprint(byName map[string]*report.DaemonSetReport, p *report.Problem) string {
	parts := []string{p.ID, string(p.Severity), strconv.FormatBool(p.Failing), strings.Join(p.Nodes, ","), strings.Join(p.DaemonSets, ","), p.Pattern}
	for _, ref := range p.Findings {
		parts = append(parts, findingAt(byName, ref).Fingerprint())
	}
	return strings.Join(parts, "\x01")
}

// findingAt resolves a problem's reference (an empty finding when it does
// not resolve: the fingerprint then says so by differing).
func findingAt(byName map[string]*report.DaemonSetReport, ref report.FindingRef) *report.Finding {
	if ds := byName[ref.DaemonSet]; ds != nil && ref.Index >= 0 && ref.Index < len(ds.Findings) && ds.Findings[ref.Index].ID == ref.ID {
		return &ds.Findings[ref.Index]
	}
	return &report.Finding{ID: ref.ID}
}

// sameFindings says whether a and b are one slice (not merely equal).
func sameFindings(a, b []report.Finding) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// problemKey is what stays the same while a problem changes: a problem of
// the cluster's (a node condition, a cause several DaemonSets share) is its
// type and cause; a DaemonSet's own is its type, DaemonSet and cause, or
// type and DaemonSet for a problem of the DaemonSet as a whole (whose cause
// changes as its rollout does).
func problemKey(p *report.Problem) string {
	t := report.FindingType(p.Type)
	ti := report.Info(t)
	switch {
	case !report.Known(t) || ti.AcrossDaemonSets:
		return p.Type + "\x00" + p.Cause
	case ti.DaemonSetLevel:
		return p.Type + "\x00" + p.DaemonSets[0]
	}
	return p.Type + "\x00" + p.DaemonSets[0] + "\x00" + p.Cause
}

// cells joins a row's cells as a table would separate them, each escaped.
func cells(cs ...string) string {
	for i := range cs {
		cs[i] = escape.Terminal(cs[i])
	}
	return strings.Join(cs, "   ")
}

// WatchChanges returns the lines that take a watch from old to new, in a
// fixed order: DaemonSets (deleted, in old's order, then added and modified,
// in new's), then problems (resolved, then appeared and changed, likewise).
// The report orders them (DaemonSets by name, problems by severity and
// breadth), so the same change always prints the same lines.
func WatchChanges(old, new *WatchState) []string {
	var out []string
	out = diffRows(out, old.daemonSets, new.daemonSets, WatchDeleted, WatchAdded, WatchModified)
	return diffRows(out, old.problems, new.problems, WatchResolved, WatchAppeared, WatchChanged)
}

func diffRows(out []string, old, new []watchRow, gone, came, changed string) []string {
	before := make(map[string]string, len(old))
	for _, r := range old {
		before[r.key] = r.same
	}
	now := make(map[string]bool, len(new))
	for _, r := range new {
		now[r.key] = true
	}
	for _, r := range old {
		if !now[r.key] {
			out = append(out, gone+"   "+r.text)
		}
	}
	for _, r := range new {
		prev, ok := before[r.key]
		switch {
		case !ok:
			out = append(out, came+"   "+r.text)
		case prev != r.same:
			out = append(out, changed+"   "+r.text)
		}
	}
	return out
}

// findingText is a finding's message, marked when it is set aside.
func findingText(f *report.Finding) string {
	switch {
	case f.Exempted != "":
		return "[exempted by " + f.Exempted + "] " + f.Message
	case f.HeldBack != "":
		return "[held back: " + f.HeldBack + "] " + f.Message
	}
	return f.Message
}
