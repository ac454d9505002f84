package cli

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/daemoncheck/daemoncheck/internal/render"
)

// helpViews are the report views each command prints: the -o formats its
// help may name are the ones these views accept.
var helpViews = map[string][]render.View{
	"kubectl daemoncheck":          {render.ViewAudit, render.ViewDetail},
	"kubectl daemoncheck nodes":    {render.ViewNodes, render.ViewNode},
	"kubectl daemoncheck capacity": {render.ViewCapacity},
	"kubectl daemoncheck whatif":   {render.ViewWhatIf},
}

// everyCommand lists the commands a person can ask help of, by their
// path below the root (nil for the root itself).
func everyCommand(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden || strings.HasPrefix(c.Name(), "__") || c.Name() == "help" {
			return
		}
		out = append(out, path)
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(NewCmdDaemonCheck(genericiooptions.NewTestIOStreamsDiscard()), nil)
	if len(out) < 7 {
		t.Fatalf("only %d commands found: %v", len(out), out)
	}
	return out
}

// commandAt is the command at path in a fresh tree, with its help flag.
func commandAt(t *testing.T, path []string) *cobra.Command {
	t.Helper()
	root := NewCmdDaemonCheck(genericiooptions.NewTestIOStreamsDiscard())
	c, _, err := root.Find(path)
	if err != nil {
		t.Fatal(err)
	}
	c.InitDefaultHelpFlag()
	return c
}

var (
	longFlagRe  = regexp.MustCompile(`(?:^|[\s(,'"\[/])--([a-z][a-z0-9-]+)`)
	shortFlagRe = regexp.MustCompile(`(?:^|[\s(,'"\[/])-([a-zA-Z])(?:[\s,)=/]|$)`)
	outputArgRe = regexp.MustCompile(`(?:\s-o|--output)[\s=]+([a-z][a-z-]*)`)
	formatWord  = regexp.MustCompile(`(?:^|[\s(,])([a-z][a-z-]*)(?:[,)=]|\s|$)`)
)

// The help of every command, at 80 columns (not a terminal): it names only
// flags the command accepts and -o formats its view prints, no line is
// wider than 80 columns, and kubectl's connection flags are listed once, by
// the options command.
func TestHelpNamesOnlyWhatTheCommandAccepts(t *testing.T) {
	conn := map[string]bool{}
	kube := pflag.NewFlagSet("", pflag.ContinueOnError)
	addConnectionFlags(kube, NewCheckOptions(genericiooptions.NewTestIOStreamsDiscard()).ConfigFlags)
	kube.VisitAll(func(f *pflag.Flag) { conn[f.Name] = true })

	known := map[string]bool{}
	for _, v := range []render.View{render.ViewAudit, render.ViewDetail, render.ViewNodes, render.ViewNode, render.ViewCapacity, render.ViewWhatIf} {
		for _, f := range render.Allowed(v) {
			known[f] = true
		}
	}
	for _, path := range everyCommand(t) {
		args := append(slices.Clone(path), "--help")
		out, errOut, code := runCmd(t, "", args...)
		name := strings.TrimSpace("kubectl daemoncheck " + strings.Join(path, " "))
		if code != ExitOK {
			t.Errorf("%s --help: exit %d: %s", name, code, errOut)
			continue
		}
		c := commandAt(t, path)
		accepts := func(flag string) bool {
			if len(flag) == 1 {
				return c.Flags().ShorthandLookup(flag) != nil
			}
			return c.Flags().Lookup(flag) != nil
		}
		for i, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("%s --help line %d is %d columns wide: %q", name, i+1, n, line)
			}
		}
		for _, m := range longFlagRe.FindAllStringSubmatch(out, -1) {
			if !accepts(m[1]) {
				t.Errorf("%s --help names --%s, which it does not accept", name, m[1])
			}
			if conn[m[1]] && name != "kubectl daemoncheck options" {
				t.Errorf("%s --help names the connection flag --%s: those are listed by the options command only", name, m[1])
			}
		}
		for _, m := range shortFlagRe.FindAllStringSubmatch(out, -1) {
			if !accepts(m[1]) {
				t.Errorf("%s --help names -%s, which it does not accept", name, m[1])
			}
		}
		// The -o formats: those after -o/--output anywhere, and every
		// format word in the usage of -o and --output-file.
		views, prints := helpViews[name]
		allowed := map[string]bool{}
		for _, v := range views {
			for _, f := range render.Allowed(v) {
				allowed[f] = true
			}
		}
		var named []string
		for _, m := range outputArgRe.FindAllStringSubmatch(out, -1) {
			if !known[m[1]] || !prints && c.Flags().Lookup("output") != nil {
				continue // a type placeholder, or the -o of a command without a report (version)
			}
			named = append(named, m[1])
		}
		for _, flag := range []string{"output", "output-file"} {
			if f := c.Flags().Lookup(flag); f != nil && prints {
				for _, m := range formatWord.FindAllStringSubmatch(f.Usage, -1) {
					if known[m[1]] {
						named = append(named, m[1])
					}
				}
			}
		}
		for _, f := range named {
			if !prints || !allowed[f] {
				t.Errorf("%s --help names -o %s, which it does not print", name, f)
			}
		}
		connects := c.Flags().Lookup("kubeconfig") != nil
		hint := "Use \"kubectl daemoncheck options\" for a list of global command-line options"
		if connects != strings.Contains(out, hint) {
			t.Errorf("%s --help: accepts the connection flags %v, but says where they are listed %v", name, connects, !connects)
		}
	}

	// The options command lists every connection flag, at 80 columns.
	out, errOut, code := runCmd(t, "", "options")
	if code != ExitOK {
		t.Fatalf("options: exit %d: %s", code, errOut)
	}
	for f := range conn {
		if hidden := kube.Lookup(f).Hidden; !hidden && !strings.Contains(out, "--"+f+" ") && !strings.Contains(out, "--"+f+"=") {
			t.Errorf("options does not list --%s:\n%s", f, out)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("options line %d is %d columns wide: %q", i+1, n, line)
		}
	}
}

// Commands that connect to nothing refuse the connection flags.
func TestConnectionFlagsOnlyWhereAClusterIsRead(t *testing.T) {
	for _, args := range [][]string{{"completion", "bash", "--kubeconfig", "x"}, {"options", "--context", "x"}} {
		if _, errOut, code := runCmd(t, "", args...); code != ExitUsage || !strings.Contains(errOut, "unknown flag") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	for _, args := range [][]string{{"version", "--client", "--kubeconfig", "/dev/null"}, {"nodes", "--help", "-n", "x"}} {
		if _, errOut, code := runCmd(t, "", args...); code != ExitOK {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
