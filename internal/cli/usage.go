package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
)

// outputFlags are the flags that shape what is printed.
var outputFlags = map[string]bool{"output": true, "output-file": true, "no-headers": true, "template": true, "allow-missing-template-keys": true, "show-managed-fields": true}

// connectionFlags are kubectl's standard flags (package kubeflags), listed
// after daemoncheck's own as kubectl lists its global options apart.
var connectionFlags = func() map[string]bool {
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	kubeflags.New(false).AddFlags(fs)
	out := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	return out
}()

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

// groupedUsage prints usage as kubectl does: examples, subcommands, then
// daemoncheck's own flags first (audit, then output), the connection flags
// every kubectl command takes last.
func groupedUsage(c *cobra.Command) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  %s\n", c.UseLine())
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nAvailable Commands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(&b, "  %-11s %s\n", sub.Name(), sub.Short)
			}
		}
	}
	groups := []struct {
		title string
		fs    *pflag.FlagSet
		in    func(name string) bool
	}{
		{"Flags", pflag.NewFlagSet("", pflag.ContinueOnError), func(n string) bool { return !outputFlags[n] && !connectionFlags[n] }},
		{"Output flags", pflag.NewFlagSet("", pflag.ContinueOnError), func(n string) bool { return outputFlags[n] }},
		{"Connection flags (as in kubectl)", pflag.NewFlagSet("", pflag.ContinueOnError), func(n string) bool { return connectionFlags[n] }},
	}
	seen := map[string]bool{}
	add := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		for _, g := range groups {
			if g.in(f.Name) {
				g.fs.AddFlag(f)
				return
			}
		}
	}
	c.LocalFlags().VisitAll(add)
	c.InheritedFlags().VisitAll(add)
	for _, g := range groups {
		if g.fs.HasFlags() {
			fmt.Fprintf(&b, "\n%s:\n%s", g.title, g.fs.FlagUsages())
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", c.CommandPath())
	}
	_, err := fmt.Fprint(c.OutOrStderr(), b.String())
	return err
}
