package cli

import (
	"github.com/spf13/cobra"

	"github.com/daemoncheck/daemoncheck/internal/complete"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// completer completes a command's arguments and flag values from its input
// (src's -f when given, else the cluster of d's connection flags); src may
// be nil for a command without -f.
func completer(d *deps, src *sourceFlags) complete.Completer {
	c := complete.Completer{Config: d.ConfigFlags}
	if src != nil {
		c.Files = &src.Filenames
	}
	return c
}

// registerOutputCompletion completes -o from the printer registry.
func registerOutputCompletion(cmd *cobra.Command, view render.View) {
	_ = cmd.RegisterFlagCompletionFunc("output", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if fleetFlagged(c) {
			return render.FleetCompletions(view), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		}
		return render.Completions(view), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// registerGateCompletion completes --fail-on and --ignore from the finding
// catalog.
func registerGateCompletion(cmd *cobra.Command) {
	types := make([]string, 0, len(report.Catalog))
	for _, ti := range report.Catalog {
		types = append(types, string(ti.Type)+"\t"+ti.Doc)
	}
	for _, np := range report.NodeProblems {
		types = append(types, string(np.Type)+"\t"+np.Why)
	}
	failOn := append([]string{"error\tbroken now (the default)", "warning\talso at risk", "info\talso advice", report.FailOnNone + "\tnever fail on findings"}, types...)
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(failOn, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("ignore", cobra.FixedCompletions(types, cobra.ShellCompDirectiveNoFileComp))
}
