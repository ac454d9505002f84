package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
	"github.com/daemoncheck/daemoncheck/internal/render"
	// The capacity and what-if views and the CI formats add their
	// printers to render's registry (render.Register) from their init.
	_ "github.com/daemoncheck/daemoncheck/internal/render/ci"
	_ "github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/internal/serverurl"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Each command has an options type of its own that holds only the flags it
// accepts, made of the flag groups below; its Complete resolves them once
// into a runConfig (resolve), and a runner runs from that alone.

// deps are what every command that reads a cluster is given: the streams,
// kubectl's connection flags, -v, and the clients tests inject.
type deps struct {
	genericiooptions.IOStreams
	ConfigFlags *kubeflags.ConfigFlags
	Verbosity   int
	// client is injected by tests (fake clientset); else built in Complete.
	client collect.Client
	// clusterClient builds a fleet cluster's client from its own
	// rest.Config; tests inject fake clientsets. nil: newClient.
	clusterClient func(context string, cfg *rest.Config) (collect.Client, error)
}

func newDeps(streams genericiooptions.IOStreams) *deps {
	return &deps{IOStreams: streams, ConfigFlags: kubeflags.New(true)}
}

// addVerbosityFlag adds -v, the Kubernetes client's log level.
func (d *deps) addVerbosityFlag(fs *pflag.FlagSet) {
	fs.IntVarP(&d.Verbosity, "v", "v", 0, "Client log level, as kubectl -v.")
}

// addConnectionFlags adds kubectl's connection flags, bound to d; help
// lists them once, under the options command.
func (d *deps) addConnectionFlags(cmd *cobra.Command) {
	addConnectionFlags(cmd.Flags(), d.ConfigFlags)
	_ = cmd.RegisterFlagCompletionFunc("context", completer(d, nil).Contexts)
}

// addConnectionFlags adds kubectl's connection flags, bound to cf, to fs.
func addConnectionFlags(fs *pflag.FlagSet, cf *kubeflags.ConfigFlags) {
	cf.AddFlags(fs)
	describeRequestTimeout(fs)
	hideUnusedFlags(fs)
}

// describeRequestTimeout states what --request-timeout means here: kubectl's
// meaning (0 = no per-request timeout), with a bound by default.
func describeRequestTimeout(fs *pflag.FlagSet) {
	if f := fs.Lookup("request-timeout"); f != nil {
		f.DefValue = DefaultRequestTimeout.String()
		f.Usage = "Timeout of one server request (e.g. 10s); 0: none."
	}
}

// sourceFlags say what is read (the cluster or -f, which DaemonSets), as of
// when, and how long the run may take.
type sourceFlags struct {
	Filenames     []string
	ChunkSize     int64
	Selector      string
	AllNamespaces bool
	NowFlag       string
	ServerVersion string
	Workloads     bool
	Timeout       time.Duration
}

func newSourceFlags() sourceFlags {
	return sourceFlags{ChunkSize: 500, Timeout: DefaultTimeout}
}

// addSelectFlags adds -l and -A; what is what -l selects.
func (s *sourceFlags) addSelectFlags(fs *pflag.FlagSet, what string) {
	fs.StringVarP(&s.Selector, "selector", "l", "", "Label selector of the "+what+".")
	fs.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, "All namespaces (the default; -A wins over -n).")
}

// addReadFlags adds --chunk-size and --server-version.
func (s *sourceFlags) addReadFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&s.ChunkSize, "chunk-size", s.ChunkSize, "List in chunks of this size (0: all at once).")
	fs.StringVar(&s.ServerVersion, "server-version", "", "Follow the rules of this Kubernetes version.")
}

// addInputFlags adds the flags of an audit's input: addReadFlags', -f,
// --now, --workloads and --timeout.
func (s *sourceFlags) addInputFlags(fs *pflag.FlagSet) {
	s.addReadFlags(fs)
	fs.StringSliceVarP(&s.Filenames, "filename", "f", nil, "Read a dump (file, dir or -), not the cluster.")
	fs.StringVar(&s.NowFlag, "now", "", "Analyse as of this RFC 3339 time, or \"wall\".")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "Give up after this long (exit 3).")
	fs.BoolVar(&s.Workloads, "workloads", false, "Read all Pods too, to explain blocked daemons.")
}

// validate rejects source flags that cannot mean what the user wants.
func (s *sourceFlags) validate(name string) error {
	switch {
	case name != "" && s.AllNamespaces:
		return usageErrorf("a DaemonSet NAME cannot be combined with -A/--all-namespaces; write: kubectl daemoncheck %s -n NAMESPACE", name)
	case s.ChunkSize < 0:
		return usageErrorf("--chunk-size must be 0 or more, got %d", s.ChunkSize)
	case name != "" && s.Selector != "":
		return usageErrorf("a DaemonSet NAME cannot be combined with -l/--selector; give one or the other")
	case s.Timeout <= 0:
		return usageErrorf("--timeout must be positive, got %s", s.Timeout)
	}
	return nil
}

// gateFlags are the coverage policy and the CI gate.
type gateFlags struct {
	Require    []string
	PolicyFile string
	FailOn     []string
	Ignore     []string
	Grace      time.Duration
}

func newGateFlags() gateFlags {
	return gateFlags{FailOn: []string{string(report.DefaultFailOn)}}
}

// addPolicyFlags adds --require and --policy.
func (g *gateFlags) addPolicyFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&g.Require, "require", nil, "Coverage rule NAMESPACE/NAME[=NODE_SELECTOR].")
	fs.StringVar(&g.PolicyFile, "policy", "", "Coverage policy file (kind CoveragePolicy).")
}

// addGateFlags adds --fail-on, --ignore and --grace.
func (g *gateFlags) addGateFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&g.FailOn, "fail-on", g.FailOn, "Exit 1 on: error, warning, info, finding types, none.")
	fs.StringSliceVar(&g.Ignore, "ignore", nil, "Finding types to leave out of the report.")
	fs.DurationVar(&g.Grace, "grace", 0, "Hold back findings younger than this (e.g. 5m).")
}

// outputFlags shape what is printed.
type outputFlags struct {
	PrintFlags *render.PrintFlags
	// OutputFiles are the --output-file FORMAT=PATH values.
	OutputFiles []string
	NoHeaders   bool
	Color       string
	SortBy      string
}

func newOutputFlags() outputFlags {
	return outputFlags{PrintFlags: newPrintFlags(), Color: "auto", SortBy: view.SortSeverity}
}

// addOutputFlag adds -o for views; more is said after the format list.
func (o *outputFlags) addOutputFlag(cmd *cobra.Command, more string, views ...render.View) {
	cmd.Flags().StringVarP(o.PrintFlags.OutputFormat, "output", "o", "", outputHelp(views...)+more)
	registerOutputCompletion(cmd, views[0])
}

// addTableFlags adds --no-headers and --color.
func (o *outputFlags) addTableFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in tables.")
	addColorFlag(fs, &o.Color)
}

// outputHelp lists the -o formats of views: the named ones, then the
// templates in one word.
func outputHelp(views ...render.View) string {
	var names []string
	templates := false
	for _, v := range views {
		for _, n := range render.Allowed(v) {
			switch {
			case strings.Contains(n, "template") || strings.HasPrefix(n, "jsonpath"):
				templates = true
			case !slices.Contains(names, n):
				names = append(names, n)
			}
		}
	}
	s := "Output format: " + strings.Join(names, ", ")
	if templates {
		s += ", or a template (jsonpath=..., go-template=...)"
	}
	return s + "."
}

// followFlags are how the root command follows the cluster after the first
// read: -w prints changes, --wait waits for the findings to clear.
type followFlags struct {
	Wait     bool
	Watch    bool
	Interval time.Duration
}

func newFollowFlags() followFlags { return followFlags{Interval: 5 * time.Second} }

func (f *followFlags) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.Wait, "wait", false, "Re-check until the failing findings clear.")
	fs.BoolVarP(&f.Watch, "watch", "w", false, "After the report, print each change.")
	fs.DurationVar(&f.Interval, "interval", f.Interval, fmt.Sprintf("Period of --wait and -w re-reads (at least %s).", MinInterval))
}

// validate rejects --wait with flags it cannot go with (-w's are
// completeFollow's).
func (f *followFlags) validate(s *sourceFlags) error {
	switch {
	case f.Wait && len(s.Filenames) > 0:
		return usageErrorf("--wait re-reads the cluster and cannot be used with -f; drop one")
	case f.Wait && s.NowFlag != "" && s.NowFlag != NowWall:
		return usageErrorf("--wait uses the current time and cannot be used with --now")
	case f.Wait && f.Interval < MinInterval:
		return usageErrorf("--interval must be at least %s, got %s", MinInterval, f.Interval)
	}
	return nil
}

// flagGroups are the groups a command has; a nil group is one it lacks,
// and resolves as that group's defaults would.
type flagGroups struct {
	src    *sourceFlags
	gate   *gateFlags
	out    *outputFlags
	follow *followFlags
	fleet  *fleetFlags
}

// resolve turns the flags of a command into the runConfig its runner runs
// from. name is the DaemonSet NAME (detail view) or ""; view is what the
// command shows.
func (r *runner) resolve(cmd *cobra.Command, g flagGroups, name string, view render.View) error {
	configureLogging(r.Verbosity, r.ErrOut)
	if g.follow == nil {
		g.follow = &followFlags{}
	}
	if g.fleet == nil {
		g.fleet = &fleetFlags{}
	}
	run := runConfig{view: view, timeout: g.src.Timeout}
	run.follow.wait, run.follow.interval = g.follow.Wait, g.follow.Interval
	output := *g.out.PrintFlags.OutputFormat
	if err := r.checkUserFiles(output); err != nil {
		return err
	}
	fleet, err := g.fleet.requested(cmd, g.follow.Wait)
	if err != nil {
		return err
	}
	if err := r.resolveOutput(&run, g.out, output, view, fleet); err != nil {
		return err
	}
	if run.judge, err = g.gate.resolveJudge(g.src); err != nil {
		return err
	}
	if f, ok := r.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		run.out.progress = true
	}
	if err := g.src.checkInputs(cmd); err != nil {
		return err
	}
	// As in kubectl, -A wins over -n.
	explicitNS := cmd.Flags().Changed("namespace") && !g.src.AllNamespaces
	run.src.read = collect.Options{Name: name, LabelSelector: g.src.Selector, ChunkSize: g.src.ChunkSize, PodEvents: name != "", Workloads: g.src.Workloads}
	if explicitNS {
		run.src.read.Namespace = r.ConfigFlags.Namespace()
		run.src.nsGiven = true
	}
	if err := g.src.validate(name); err != nil {
		return err
	}
	if err := g.follow.validate(g.src); err != nil {
		return err
	}
	if err := g.follow.complete(cmd, &run, g.src); err != nil {
		return err
	}
	if name != "" {
		cmd.SuggestionsMinimumDistance = 2
		run.src.suggest = cmd.SuggestionsFor(name)
	}
	if cmd.Flags().Lookup("sort-by") != nil {
		if !slices.Contains(sortKeys, g.out.SortBy) {
			return usageErrorf("--sort-by %q: use one of %s", g.out.SortBy, strings.Join(sortKeys, ", "))
		}
		run.out.sortBy = g.out.SortBy
	}
	r.run = run
	if fleet {
		return r.completeFleet(cmd, g.fleet, name, explicitNS)
	}
	if len(g.src.Filenames) > 0 {
		// Like kubectl a NAME without -n means the context's namespace;
		// offline there is no context, so look in every namespace (the
		// reader says when the NAME is in several).
		r.run.src.files = g.src.Filenames
		return nil
	}
	return r.connect(cmd, name, explicitNS)
}

// checkInputs refuses empty -f values and a selector that does not parse.
func (o *sourceFlags) checkInputs(cmd *cobra.Command) error {
	if f := cmd.Flags().Lookup("filename"); f != nil && f.Changed && len(o.Filenames) == 0 {
		// -f "" parses as no file: in CI, -f "$UNSET" must not silently
		// audit the kubeconfig's cluster instead.
		return usageErrorf("-f/--filename must not be empty; give a file, a directory or - for stdin")
	}
	for _, f := range o.Filenames {
		if f == "" {
			// In CI, -f "$UNSET" must not silently audit the kubeconfig's cluster.
			return usageErrorf("-f/--filename must not be empty; give a file, a directory or - for stdin")
		}
	}
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return usageErrorf("invalid --selector %q: %v", o.Selector, err)
		}
	}
	return nil
}

// resolveOutput resolves the printer, the --output-file printers and how
// to print (width, colour) for the command's view.
func (r *runner) resolveOutput(run *runConfig, out *outputFlags, output string, view render.View, fleet bool) error {
	p, err := printerFor(output, view, out.PrintFlags, fleet)
	if err != nil {
		return usageErrorf("%v", err)
	}
	run.out.printer = p
	if run.out.files, err = out.completeOutputFiles(view, fleet); err != nil {
		return err
	}
	width := terminalWidth(r.Out)
	colour, err := useColor(out.Color, width > 0)
	if err != nil {
		return err
	}
	run.out.opts = render.Options{NoHeaders: out.NoHeaders, MaxWidth: width, Color: colour, FullReport: run.out.files.FullReport()}
	return nil
}

// resolveJudge is how a snapshot is judged: the coverage rules, the gate, the
// clock and the rules' Kubernetes version.
func (g *gateFlags) resolveJudge(src *sourceFlags) (judgeConfig, error) {
	j := judgeConfig{serverVersion: src.ServerVersion}
	var err error
	if j.policy, err = g.completePolicy(); err != nil {
		return j, err
	}
	if j.gate, err = g.completeGate(); err != nil {
		return j, err
	}
	if j.now, j.liveClock, err = resolveNow(src.NowFlag); err != nil {
		return j, err
	}
	// Offline without --now, the input's newest timestamp is the clock.
	j.inferClock = len(src.Filenames) > 0 && src.NowFlag == ""
	return j, nil
}

// resolveNow is the analysis clock --now gives: the wall clock (re-read on
// each pass: live) or a fixed time.
func resolveNow(flag string) (now time.Time, live bool, err error) {
	if flag == "" || flag == NowWall {
		return time.Now(), true, nil
	}
	t, err := time.Parse(time.RFC3339, flag)
	if err != nil {
		return time.Time{}, false, usageErrorf("--now %q is not an RFC 3339 time or %q, write e.g. --now 2026-01-02T15:04:05Z", flag, NowWall)
	}
	return t, false, nil
}

// connect builds the live source: the injected client, or one from the
// connection flags.
func (r *runner) connect(cmd *cobra.Command, name string, explicitNS bool) error {
	if r.client != nil {
		// Injected by a test (fake clientset).
		r.run.src.client, r.run.src.host = r.client, "https://test"
		if r.run.follow.watch || r.run.follow.wait {
			r.run.follow.client = r.client
		}
		return nil
	}
	if name != "" && !explicitNS {
		ns, _, err := r.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return inputErrorf("reading kubeconfig: %v", err)
		}
		r.run.src.read.Namespace = ns
	}
	cfg, err := r.ConfigFlags.ToRESTConfig()
	if err != nil {
		return inputErrorf("loading kubeconfig: %v (use --kubeconfig, or -f FILE to read a saved dump)", text.OneLine(err.Error()))
	}
	r.run.src.host = serverurl.Redact(cfg.Host)
	r.run.src.client, err = newClient(cfg, cmd.Flags().Changed("request-timeout"))
	if err != nil {
		return inputErrorf("creating a client for %s: %v", r.run.src.host, err)
	}
	return r.completeWatchClient(cfg, cmd.Flags().Changed("request-timeout"))
}
