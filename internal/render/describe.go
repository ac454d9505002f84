package render

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// MaxNodesPerReason bounds how many node names a "Not Targeted" group lists.
const MaxNodesPerReason = 5

// Describe prints what `kubectl describe daemonset` prints, then what it
// lacks: every targeted node with its Pod, the excluded nodes grouped by
// reason, each finding with its suggestion, and recent Warning events.
func Describe(w io.Writer, r *report.Report, o Options) error {
	for i := range r.DaemonSets {
		if i > 0 {
			fmt.Fprintln(w)
			fmt.Fprintln(w)
		}
		if err := describeOne(w, &r.DaemonSets[i], o); err != nil {
			return err
		}
	}
	if b := PartialBanner(r); b != "" {
		fmt.Fprintf(w, "\n%s\n", escape.Terminal(b))
	}
	return nil
}

func describeOne(w io.Writer, ds *report.DaemonSetReport, o Options) error {
	describeHeader(w, ds)
	if err := describeNodes(w, ds, o); err != nil {
		return err
	}
	if err := describeNotTargeted(w, ds); err != nil {
		return err
	}
	describeFindings(w, ds, o)
	return describeEvents(w, ds, o)
}

// describeHeader writes the DaemonSet's fields and counts.
func describeHeader(w io.Writer, ds *report.DaemonSetReport) {
	kv := [][2]string{
		{"Name", ds.Name},
		{"Namespace", ds.Namespace},
		{"Selector", ds.Selector},
		{"Node-Selector", OrNone(ds.NodeSelector, "<none>")},
		{"Images", OrNone(strings.Join(ds.Images, ", "), "<none>")},
		{"Update Strategy", strategyString(ds)},
		{"Current Revision", OrNone(ds.CurrentRevision, Unknown)},
		{"Generation", fmt.Sprintf("%d (observed by the controller: %d)", ds.Generation, ds.Status.ObservedGeneration)},
	}
	if ds.MinReadySeconds > 0 {
		kv = append(kv, [2]string{"Min Ready Seconds", strconv.Itoa(int(ds.MinReadySeconds))})
	}
	if m := ds.ManagedBy; m != nil {
		// Where a fix must be made: a direct edit would be reverted.
		kv = append(kv, [2]string{"Managed By", m.Summary})
	}
	kv = append(kv, kruiseHeader(ds)...)
	width := 0
	for _, p := range kv {
		width = max(width, len(p[0])+1)
	}
	for _, p := range kv {
		fmt.Fprintf(w, "%-*s  %s\n", width, p[0]+":", escape.Terminal(p[1]))
	}
	// The count lines read as kubectl describe prints them, with
	// daemoncheck's recomputed value where it differs.
	c := ds.Computed
	count := func(label string, reported int32, get func(*report.Counts) int32) {
		v := strconv.Itoa(int(reported))
		if c == nil {
			v += " (daemoncheck: unknown)"
		} else if got := get(c); got != reported {
			v += fmt.Sprintf(" (daemoncheck recomputes %d)", got)
		}
		fmt.Fprintf(w, "%s: %s\n", label, v)
	}
	count("Desired Number of Nodes Scheduled", ds.Status.DesiredNumberScheduled, func(c *report.Counts) int32 { return c.DesiredNumberScheduled })
	count("Current Number of Nodes Scheduled", ds.Status.CurrentNumberScheduled, func(c *report.Counts) int32 { return c.CurrentNumberScheduled })
	count("Number of Nodes Scheduled with Up-to-date Pods", ds.Status.UpdatedNumberScheduled, func(c *report.Counts) int32 { return c.UpdatedNumberScheduled })
	count("Number of Nodes Scheduled with Available Pods", ds.Status.NumberAvailable, func(c *report.Counts) int32 { return c.NumberAvailable })
	count("Number of Nodes Misscheduled", ds.Status.NumberMisscheduled, func(c *report.Counts) int32 { return c.NumberMisscheduled })
	fmt.Fprintf(w, "Pods Status:  %s\n", podsStatus(ds))
	for _, u := range ds.Unknown {
		fmt.Fprintf(w, "Unknown:  %s\n", escape.Terminal(u))
	}
}

// describeNodes writes the targeted nodes, and any other node that holds a
// Pod (misscheduled), with their Pods.
func describeNodes(w io.Writer, ds *report.DaemonSetReport, o Options) error {
	fmt.Fprintln(w, "Nodes:")
	var rows [][]string
	for _, nv := range ds.Nodes {
		if !nv.ShouldRun && len(nv.Pods) == 0 {
			continue
		}
		if len(nv.Pods) == 0 {
			rows = append(rows, []string{nv.Name, string(nv.Coverage), "<none>", "", "", "", "", ""})
			continue
		}
		cov := string(nv.Coverage)
		if !nv.ShouldRun {
			cov = "Misscheduled"
		}
		for _, p := range nv.Pods {
			rev := p.Revision
			if !p.Updated && rev != "" {
				rev += " (old)"
			}
			name := p.Name
			if p.Adopted {
				// An orphan the controller adopts on its next sync.
				name += " (adopted)"
			}
			rows = append(rows, []string{nv.Name, cov, name, OrNone(rev, Unknown), strconv.FormatBool(p.Ready), p.State, strconv.Itoa(int(p.Restarts)), age(o.Now, p.Created)})
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	return WriteTable(w, []string{"NODE", "COVERAGE", "POD", "REVISION", "READY", "STATE", "RESTARTS", "AGE"}, rows, false, "  ")
}

// describeNotTargeted writes the nodes the DaemonSet leaves out, grouped by
// reason.
func describeNotTargeted(w io.Writer, ds *report.DaemonSetReport) error {
	fmt.Fprintln(w, "Not Targeted:")
	groups := map[string][]string{}
	for _, nv := range ds.Nodes {
		if !nv.ShouldRun {
			groups[nv.Reason] = append(groups[nv.Reason], nv.Name)
		}
	}
	if len(groups) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	reasons := make([]string, 0, len(groups))
	for r := range groups {
		reasons = append(reasons, r)
	}
	// Largest groups first: they explain most of the gap between the
	// node count and DESIRED; groups of one size in natural order of
	// their first nodes.
	for _, ns := range groups {
		names.Sort(ns)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := groups[reasons[i]], groups[reasons[j]]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return names.Less(a[0], b[0])
	})
	var gr [][]string
	for _, reason := range reasons {
		gr = append(gr, []string{strconv.Itoa(len(groups[reason])), nodeList(groups[reason]), reason})
	}
	return WriteTable(w, []string{"COUNT", "NODES", "REASON"}, gr, false, "  ")
}

// describeFindings writes the findings, each with its suggestion.
func describeFindings(w io.Writer, ds *report.DaemonSetReport, o Options) {
	fmt.Fprintln(w, "Findings:")
	if len(ds.Findings) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, f := range ds.Findings {
		where := ""
		if f.Node != "" {
			where = " on node " + f.Node
		}
		mark := ""
		switch {
		case f.Exempted != "":
			mark = " [exempted by " + f.Exempted + "]"
		case f.HeldBack != "":
			mark = " [held back: " + f.HeldBack + "]"
		}
		width := o.MaxWidth
		fmt.Fprint(w, Wrap(escape.Terminal(fmt.Sprintf("%s%s%s: %s", f.Type, where, mark, f.Message)), width, "  ", "      "))
		if f.Suggestion != "" {
			fmt.Fprint(w, Wrap("Suggestion: "+escape.Terminal(f.Suggestion), width, "    ", "      "))
		}
	}
}

// describeEvents writes the DaemonSet's Warning events.
func describeEvents(w io.Writer, ds *report.DaemonSetReport, o Options) error {
	fmt.Fprint(w, "Events:")
	if len(ds.Events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	fmt.Fprintln(w)
	var er [][]string
	for _, e := range ds.Events {
		er = append(er, []string{"Warning", e.Reason, age(o.Now, e.LastSeen), strconv.Itoa(int(e.Count)), OrNone(e.From, "-"), e.Message})
	}
	return WriteTable(w, []string{"TYPE", "REASON", "AGE", "COUNT", "FROM", "MESSAGE"}, er, false, "  ")
}

func nodeList(ns []string) string {
	names.Sort(ns)
	if len(ns) <= MaxNodesPerReason {
		return strings.Join(ns, ",")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(ns[:MaxNodesPerReason], ","), len(ns)-MaxNodesPerReason)
}

func strategyString(ds *report.DaemonSetReport) string {
	if ds.UpdateStrategy != "RollingUpdate" {
		return OrNone(ds.UpdateStrategy, Unknown)
	}
	return fmt.Sprintf("RollingUpdate (maxUnavailable: %s, maxSurge: %s)", OrNone(ds.MaxUnavailable, "1"), OrNone(ds.MaxSurge, "0"))
}

// podsStatus mirrors describe's "Pods Status" line, over the Pods daemoncheck
// attributes to nodes.
func podsStatus(ds *report.DaemonSetReport) string {
	var running, waiting, succeeded, failed int
	for _, nv := range ds.Nodes {
		for _, p := range nv.Pods {
			switch p.Phase {
			case "Running":
				running++
			case "Succeeded":
				succeeded++
			case "Failed":
				failed++
			default:
				waiting++
			}
		}
	}
	return fmt.Sprintf("%d Running / %d Waiting / %d Succeeded / %d Failed", running, waiting, succeeded, failed)
}

// Wrap breaks text into lines of at most width columns at spaces: the first
// line after first, the others after rest (a hanging indent). A word longer
// than a line stays whole. width 0 (a pipe, a file) keeps it on one line:
// a line that grep finds whole. Indents may hold colour sequences, which
// take no room.
func Wrap(text string, width int, first, rest string) string {
	var b strings.Builder
	line, indent := "", first
	// A word that starts a line must not start a workflow command
	// (text.Terminal guards only the start of the text it escapes).
	lineStart := func(word string) string {
		if strings.HasPrefix(word, "::") {
			return `\` + word
		}
		return word
	}
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = lineStart(word)
		case width > 0 && visibleLen(indent)+visibleLen(line+" "+word) > width:
			b.WriteString(indent + line + "\n")
			line, indent = lineStart(word), rest
		default:
			line += " " + word
		}
	}
	if line != "" {
		b.WriteString(indent + line + "\n")
	}
	return b.String()
}

// KV prints aligned "Key:  value" lines, wrapping long values.
func KV(w io.Writer, pairs [][2]string, width int, indent string) {
	keyW := 0
	for _, p := range pairs {
		keyW = max(keyW, len(p[0])+1)
	}
	for _, p := range pairs {
		head := fmt.Sprintf("%s%-*s  ", indent, keyW, p[0]+":")
		fmt.Fprint(w, Wrap(escape.Terminal(p[1]), width, head, strings.Repeat(" ", len(head))))
	}
}
