package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
)

// helpGroups are the headings help lists flags under, in order; a flag not
// named here is under "Flags", first.
var helpGroups = []struct {
	title string
	names []string
}{
	{"Flags", nil},
	{"Coverage policy and gate flags", []string{"require", "policy", "fail-on", "ignore", "grace"}},
	{"Fleet flags (several clusters)", []string{"contexts", "all-contexts", "max-parallel-clusters"}},
	{"Output flags", []string{"output", "output-file", "no-headers", "color", "sort-by"}},
	{"Template flags (-o go-template, -o jsonpath)", []string{"template", "allow-missing-template-keys", "show-managed-fields"}},
}

// helpGroup is the index in helpGroups of the heading of flag name.
func helpGroup(name string) int {
	for i, g := range helpGroups {
		if slices.Contains(g.names, name) {
			return i
		}
	}
	return 0
}

// connectionFlags are kubectl's standard flags (package kubeflags): help
// lists them once, under the options command, as kubectl options does.
var connectionFlags = func() map[string]bool {
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	kubeflags.New(false).AddFlags(fs)
	out := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	return out
}()

// optionsHint is the last line of the help of a command that takes the
// connection flags.
const optionsHint = `Use "kubectl daemoncheck options" for a list of global command-line options (applies to every command that reads a cluster).`

// helpWidth is the width help is wrapped to: the terminal's, else 80.
func helpWidth(w io.Writer) int {
	if width := terminalWidth(w); width > 0 {
		return width
	}
	return 80
}

// hideUnusedFlags hides kubectl flags that do nothing here (they still
// parse, so a kubectl habit does not fail): the report has no managed fields
// to show, and nothing uses the discovery cache.
func hideUnusedFlags(fs *pflag.FlagSet) {
	for _, name := range []string{"show-managed-fields", "cache-dir"} {
		if fs.Lookup(name) != nil {
			_ = fs.MarkHidden(name)
		}
	}
}

// groupedHelp prints help as kubectl does: the description, examples,
// then usage (groupedUsage), wrapped to the terminal.
func groupedHelp(c *cobra.Command, _ []string) {
	w := c.OutOrStdout()
	var b strings.Builder
	if s := strings.TrimSpace(c.Long); s != "" {
		b.WriteString(s + "\n\n")
	} else if c.Short != "" {
		b.WriteString(c.Short + "\n\n")
	}
	b.WriteString(usageText(c, helpWidth(w)))
	_, _ = fmt.Fprint(w, b.String())
}

// groupedUsage prints usage (after a usage error, or within help).
func groupedUsage(c *cobra.Command) error {
	w := c.OutOrStderr()
	_, err := fmt.Fprint(w, usageText(c, helpWidth(w)))
	return err
}

// usageText is usage as kubectl prints it: examples first, subcommands,
// daemoncheck's own flags (the command's, then output), flag help wrapped
// to width; the connection flags are the options command's to list.
func usageText(c *cobra.Command, width int) string {
	var b strings.Builder
	if c.HasExample() {
		fmt.Fprintf(&b, "Examples:\n%s\n\n", c.Example)
	}
	fmt.Fprintf(&b, "Usage:\n  %s\n", c.UseLine())
	if c.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(&b, "  %-11s %s\n", sub.Name(), sub.Short)
			}
		}
	}
	groups := make([]*pflag.FlagSet, len(helpGroups))
	for i := range groups {
		groups[i] = pflag.NewFlagSet("", pflag.ContinueOnError)
	}
	seen := map[string]bool{}
	connects := false
	add := func(f *pflag.Flag) {
		if connectionFlags[f.Name] {
			connects = true
			return
		}
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		groups[helpGroup(f.Name)].AddFlag(f)
	}
	c.LocalFlags().VisitAll(add)
	c.InheritedFlags().VisitAll(add)
	for i, fs := range groups {
		if fs.HasFlags() {
			fmt.Fprintf(&b, "\n%s:\n%s", helpGroups[i].title, flagUsages(fs, width))
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	if connects {
		b.WriteString("\n" + wrapWords(optionsHint, width) + "\n")
	}
	return b.String()
}

// flagUsages is pflag's FlagUsagesWrapped, except that a line it leaves too
// wide (it wraps only at spaces, and keeps a word longer than its column,
// e.g. cpu=1,memory=2Gi,...) is broken again, after a comma if need be.
func flagUsages(fs *pflag.FlagSet, width int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(fs.FlagUsagesWrapped(width), "\n") {
		text := strings.TrimSuffix(line, "\n")
		if len(text) <= width {
			b.WriteString(line)
			continue
		}
		col := len(text) - len(strings.TrimLeft(text, " "))
		if strings.HasPrefix(text[col:], "-") {
			// A flag's first line: its usage starts after the name.
			name := strings.Index(text[col:], "  ")
			col += name + len(text[col+name:]) - len(strings.TrimLeft(text[col+name:], " "))
		}
		if col > width/2 {
			b.WriteString(line)
			continue
		}
		b.WriteString(text[:col])
		b.WriteString(strings.ReplaceAll(wrapWords(splitLong(text[col:], width-col), width-col), "\n", "\n"+strings.Repeat(" ", col)))
		b.WriteString("\n")
	}
	return b.String()
}

// splitLong puts a space after the commas of a word longer than width, so
// that wrapWords can break it there.
func splitLong(s string, width int) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		if len(w) > width {
			words[i] = strings.ReplaceAll(w, ",", ", ")
		}
	}
	return strings.Join(words, " ")
}

// wrapWords breaks s between words so that no line is wider than width.
func wrapWords(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && line+1+len(w) > width {
			b.WriteString("\n")
			line = 0
		} else if i > 0 {
			b.WriteString(" ")
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// newCmdOptions builds `kubectl daemoncheck options`: kubectl's connection
// flags, listed once rather than in every command's help.
func newCmdOptions() *cobra.Command {
	return &cobra.Command{
		Use:   "options",
		Short: "Print the connection flags of every command that reads a cluster",
		Example: `  # The flags that choose and reach the cluster, as in kubectl
  kubectl daemoncheck options`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := pflag.NewFlagSet("", pflag.ContinueOnError)
			addConnectionFlags(fs, kubeflags.New(false))
			w := cmd.OutOrStdout()
			_, err := fmt.Fprintf(w, "%s\n\n%s", wrapWords("The following options can be passed to every command that reads a cluster (all but completion and options), as kubectl's global options:", helpWidth(w)), fs.FlagUsagesWrapped(helpWidth(w)))
			return err
		},
	}
}
