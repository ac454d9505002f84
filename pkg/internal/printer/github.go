package printer

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// GitHub prints GitHub Actions workflow commands: one ::error per failing
// finding and one ::warning per other active finding, so each shows as an
// annotation on the run; set-aside findings stay out (they are in the other
// formats). Kinds that could not be read are errors too: the gate could not
// see them. The last line is a plain summary for the log.
func GitHub(w io.Writer, r *report.Report, _ Options) error {
	for _, u := range r.Unread {
		msg := u.Kind + " not read: " + u.Reason
		if u.Rule != "" {
			msg += " (needs RBAC " + u.Rule + ")"
		}
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", ghProperty("daemoncheck: partial report"), ghData(msg)); err != nil {
			return err
		}
	}
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		for j := range ds.Findings {
			f := &ds.Findings[j]
			if !f.Active() {
				continue
			}
			level := "warning"
			if f.Failing {
				level = "error"
			}
			title := fmt.Sprintf("%s %s/%s", f.Type, ds.Namespace, ds.Name)
			if f.Node != "" {
				title += " on " + f.Node
			}
			msg := f.Message
			if f.Suggestion != "" {
				msg += "\nSuggestion: " + f.Suggestion
			}
			if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, ghProperty(title), ghData(msg)); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintf(w, "daemoncheck: %d failing of %d findings in %d DaemonSets (%d healthy)\n", r.Summary.Failing, r.Summary.Findings, r.Summary.DaemonSets, r.Summary.Healthy)
	return err
}

// ghData escapes a workflow command's message as the Actions toolkit does
// (toolkit/packages/core/src/command.ts): a newline would end the command.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value: also ":" and ",", which delimit
// properties.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
