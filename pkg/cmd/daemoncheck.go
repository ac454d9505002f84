// Package cmd holds the cobra commands of kubectl-daemoncheck, in kubectl's
// Options pattern: NewCmd builds flags into an Options struct, Complete
// resolves clients and defaults, Validate checks flags, Run does the work.
// Data flows one way: flags -> snapshot (package collect) -> report (package
// analyze) -> printer.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/pkg/analyze"
	"github.com/daemoncheck/daemoncheck/pkg/collect"
	"github.com/daemoncheck/daemoncheck/pkg/internal/printer"
	"github.com/daemoncheck/daemoncheck/pkg/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
)

// DefaultRequestTimeout applies to each API request when --request-timeout
// is not given, so an unresponsive server ends the run instead of hanging it.
const DefaultRequestTimeout = 30 * time.Second

var checkExample = `  # Audit every DaemonSet in the cluster
  kubectl daemoncheck

  # One DaemonSet in detail: every node, why excluded ones are, and what to fix
  kubectl daemoncheck kube-proxy -n kube-system

  # Machine-readable report (versioned schema daemoncheck/v1alpha1)
  kubectl daemoncheck -o json

  # Audit a saved dump instead of a live cluster
  kubectl get ds,nodes,pods,controllerrevisions -A -o yaml > dump.yaml
  kubectl daemoncheck -f dump.yaml`

// CheckOptions are the flags and resolved state of the main command.
type CheckOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	PrintFlags  *genericclioptions.PrintFlags
	genericiooptions.IOStreams

	AllNamespaces bool
	Selector      string
	ChunkSize     int64
	Filenames     []string
	NoHeaders     bool
	NowFlag       string
	ServerVersion string

	// Coverage policy and CI gate.
	Require    []string
	PolicyFile string
	FailOn     []string
	Ignore     []string
	Grace      time.Duration
	Wait       bool
	Timeout    time.Duration
	Interval   time.Duration

	// Resolved by Complete.
	namespace    string
	explicitNS   bool
	name         string
	output       string
	printer      printers.ResourcePrinter
	now          time.Time
	labelFilter  labels.Selector
	client       kubernetes.Interface
	host         string
	showProgress bool
	policy       *policy.Policy
	gate         report.Gate
	// describe selects the detail view for the default output.
	describe bool
}

// NewCheckOptions returns options with kubectl's defaults.
func NewCheckOptions(streams genericiooptions.IOStreams) *CheckOptions {
	return &CheckOptions{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		PrintFlags:  newPrintFlags(),
		IOStreams:   streams,
		ChunkSize:   500,
		Timeout:     5 * time.Minute,
		Interval:    5 * time.Second,
	}
}

// newPrintFlags offers kubectl's machine formats; "name" is left out since a
// report is not a named object.
func newPrintFlags() *genericclioptions.PrintFlags {
	pf := genericclioptions.NewPrintFlags("")
	pf.NamePrintFlags = nil
	return pf
}

// NewCmdDaemonCheck builds the root command, `kubectl daemoncheck`.
func NewCmdDaemonCheck(streams genericiooptions.IOStreams) *cobra.Command {
	return newRootCommand(NewCheckOptions(streams))
}

func newRootCommand(o *CheckOptions) *cobra.Command {
	streams := o.IOStreams
	cmd := &cobra.Command{
		Use:   "kubectl-daemoncheck [NAME] [flags]",
		Short: "Find the nodes that lack, or wrongly run, their daemon Pods, and why",
		Long: `daemoncheck reads every DaemonSet, Node and daemon Pod, decides node by node what the
DaemonSet controller wants (node selectors, affinity, taints and the tolerations the
controller adds), and reports missing, pending, unhealthy, duplicate, misscheduled,
orphaned and outdated daemon Pods and stale DaemonSet status, with the reason and the fix.
It only reads from the cluster.

Exit codes: 0 no findings (none that --fail-on selects), 1 findings that --fail-on selects
(default: any), 2 usage error, 3 cannot reach the cluster or read the input (also: a partial
report without such findings).`,
		Example:       checkExample,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("at most one DaemonSet NAME may be given, got %d: %s", len(args), strings.Join(args, " "))
			}
			return nil
		},
		ValidArgsFunction: o.completeNames,
		Annotations:       map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl daemoncheck"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	o.ConfigFlags.AddFlags(cmd.PersistentFlags())
	o.PrintFlags.AddFlags(cmd)
	// Replace the -o help with ours, which adds wide, junit and markdown.
	cmd.Flags().Lookup("output").Usage = "Output format. One of: (wide, json, yaml, junit, markdown, jsonpath, jsonpath-file, jsonpath-as-json, go-template, go-template-file, template, templatefile). Default: summary and findings tables, or the detail view when a NAME is given."
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Audit DaemonSets in all namespaces (the default unless -n is given).")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "Label selector to filter DaemonSets, e.g. -l app=agent.")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Re-check until no finding selected by --fail-on remains, or --timeout passes; progress goes to stderr.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "With --wait: how long to wait before giving up (exit 1 with the last report).")
	cmd.Flags().DurationVar(&o.Interval, "interval", o.Interval, "With --wait: time between checks.")
	o.addAuditFlags(cmd.PersistentFlags())
	_ = cmd.RegisterFlagCompletionFunc("namespace", o.completeNamespaces)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"wide", "json", "yaml", "junit", "markdown", "jsonpath=", "go-template="}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})

	cmd.AddCommand(NewCmdNodes(o))
	cmd.AddCommand(NewCmdVersion(streams, o.ConfigFlags))
	return cmd
}

// addAuditFlags adds the flags every audit command shares (the root command
// and nodes): input, policy and gate.
func (o *CheckOptions) addAuditFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.ChunkSize, "chunk-size", o.ChunkSize, "Return large lists in chunks rather than all at once. Pass 0 to disable.")
	fs.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Read objects from files, directories or - (stdin) instead of the cluster: the output of kubectl get ds,nodes,pods,controllerrevisions,events -A -o json|yaml.")
	fs.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in tables.")
	fs.StringVar(&o.ServerVersion, "server-version", "", "Follow the DaemonSet controller rules of this Kubernetes version (e.g. v1.33.4) where they differ between versions; default: the server's version (discovery), unknown offline (newest rules).")
	fs.StringVar(&o.NowFlag, "now", "", "Analyse as of this RFC 3339 time instead of the current time (for reproducible reports on saved dumps).")
	fs.StringArrayVar(&o.Require, "require", nil, "Coverage rule NAMESPACE/NAME[=NODE_SELECTOR]: the DaemonSet must run on every node matching the selector (default: every node). Repeatable.")
	fs.StringVar(&o.PolicyFile, "policy", "", "Coverage policy file (YAML, kind CoveragePolicy; see README).")
	fs.StringSliceVar(&o.FailOn, "fail-on", []string{string(report.SeverityWarning)}, "Findings that make the exit code 1: a severity (error, or warning = all) or finding types, comma-separated.")
	fs.StringSliceVar(&o.Ignore, "ignore", nil, "Finding types to leave out of the report, comma-separated.")
	fs.DurationVar(&o.Grace, "grace", 0, "Hold back findings on nodes, and about Pods, younger than this (e.g. 5m), so a gate does not flap on normal churn.")
}

// completeGate resolves the policy, --fail-on and --ignore.
func (o *CheckOptions) completeGate() error {
	p := &policy.Policy{}
	for _, r := range o.Require {
		rule, err := policy.ParseRequire(r)
		if err != nil {
			return usageErrorf("%v", err)
		}
		p.Rules = append(p.Rules, rule)
	}
	if o.PolicyFile != "" {
		rules, err := policy.ParseFile(o.PolicyFile)
		if err != nil {
			return usageErrorf("%v", err)
		}
		p.Rules = append(p.Rules, rules...)
	}
	o.policy = p
	ignore, err := report.ParseTypes(o.Ignore)
	if err != nil {
		return usageErrorf("--ignore %v", err)
	}
	failOn, err := report.ParseSelector(o.FailOn)
	if err != nil {
		return usageErrorf("--fail-on %v", err)
	}
	o.gate = report.Gate{FailOn: failOn, Ignore: ignore, Grace: o.Grace}
	if o.Grace < 0 {
		return usageErrorf("--grace must not be negative, got %s", o.Grace)
	}
	return nil
}

// Complete resolves the namespace, the output printer and the source.
func (o *CheckOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.name = args[0]
		o.describe = true
	}
	if err := o.completeGate(); err != nil {
		return err
	}
	if o.PrintFlags.OutputFormat != nil {
		o.output = *o.PrintFlags.OutputFormat
	}
	if o.NowFlag != "" {
		t, err := time.Parse(time.RFC3339, o.NowFlag)
		if err != nil {
			return usageErrorf("--now %q is not an RFC 3339 time, write e.g. --now 2026-01-02T15:04:05Z", o.NowFlag)
		}
		o.now = t
	} else {
		o.now = time.Now()
	}
	if o.Selector != "" {
		sel, err := labels.Parse(o.Selector)
		if err != nil {
			return usageErrorf("invalid --selector %q: %v", o.Selector, err)
		}
		o.labelFilter = sel
	}
	o.explicitNS = cmd.Flags().Changed("namespace")
	if o.explicitNS {
		o.namespace = *o.ConfigFlags.Namespace
	}
	if o.output != "" && o.output != "wide" && o.output != "junit" && o.output != "markdown" {
		p, err := o.PrintFlags.ToPrinter()
		if err != nil {
			return usageErrorf("%v", err)
		}
		o.printer = p
	}
	if f, ok := o.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.showProgress = true
	}
	if len(o.Filenames) > 0 {
		if o.name != "" && !o.explicitNS && !o.AllNamespaces {
			// Like kubectl: a NAME without -n means the context's namespace;
			// offline there is no context, so look in every namespace.
			o.namespace = ""
		}
		return nil
	}
	if o.client != nil {
		// Injected by a test (fake clientset).
		return nil
	}
	if o.name != "" && !o.explicitNS && !o.AllNamespaces {
		ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return inputErrorf("reading kubeconfig: %v", err)
		}
		o.namespace = ns
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return inputErrorf("loading kubeconfig: %v (use --kubeconfig, or -f FILE to read a saved dump)", oneLine(err.Error()))
	}
	o.host = cfg.Host
	o.client, err = newClient(cfg, o.ConfigFlags)
	if err != nil {
		return inputErrorf("creating a client for %s: %v", cfg.Host, err)
	}
	return nil
}

// newClient prefers protobuf (smaller and faster to decode than JSON) and
// raises client-side rate limits: a run makes a burst of parallel list calls.
func newClient(cfg *rest.Config, flags *genericclioptions.ConfigFlags) (kubernetes.Interface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS, cfg.Burst = 50, 100
	if cfg.Timeout == 0 && (flags.Timeout == nil || *flags.Timeout == "" || *flags.Timeout == "0") {
		cfg.Timeout = DefaultRequestTimeout
	}
	cfg.UserAgent = "kubectl-daemoncheck"
	return kubernetes.NewForConfig(cfg)
}

// Validate rejects flag combinations that cannot mean what the user wants.
func (o *CheckOptions) Validate() error {
	if o.name != "" && o.AllNamespaces {
		return usageErrorf("a DaemonSet NAME cannot be combined with -A/--all-namespaces; write: kubectl daemoncheck %s -n NAMESPACE", o.name)
	}
	if o.AllNamespaces && o.explicitNS {
		return usageErrorf("-A/--all-namespaces and -n/--namespace are mutually exclusive; drop one")
	}
	if o.ChunkSize < 0 {
		return usageErrorf("--chunk-size must be 0 or more, got %d", o.ChunkSize)
	}
	if o.name != "" && o.Selector != "" {
		return usageErrorf("a DaemonSet NAME cannot be combined with -l/--selector; give one or the other")
	}
	if o.Wait && len(o.Filenames) > 0 {
		return usageErrorf("--wait re-reads the cluster and cannot be used with -f; drop one")
	}
	if o.Wait && o.NowFlag != "" {
		return usageErrorf("--wait uses the current time and cannot be used with --now")
	}
	if o.Wait && (o.Timeout <= 0 || o.Interval <= 0) {
		return usageErrorf("--wait needs a positive --timeout and --interval")
	}
	return nil
}

// audit reads a snapshot and analyses it: one pass of the data flow.
func (o *CheckOptions) audit(ctx context.Context, warn bool) (*report.Report, error) {
	snap, err := o.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if o.ServerVersion != "" {
		snap.ServerVersion = o.ServerVersion
	}
	if err := o.policy.Validate(snap.DaemonSets); err != nil {
		return nil, usageErrorf("%v", err)
	}
	now := o.now
	if o.Wait {
		now = time.Now()
	}
	rep := analyze.Analyze(snap, analyze.Options{Now: now, Policy: o.policy, Gate: o.gate})
	if warn {
		for _, w := range rep.Warnings {
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
		}
	}
	return rep, nil
}

// Run reads, analyses and prints, and returns ErrFindings when the report has
// findings selected by --fail-on, so that the exit code says so.
func (o *CheckOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var rep *report.Report
	var err error
	if o.Wait {
		rep, err = o.wait(ctx)
	} else {
		rep, err = o.audit(ctx, true)
	}
	if err != nil {
		return err
	}
	if len(rep.DaemonSets) == 0 && o.printer == nil && o.output != "junit" && o.output != "markdown" {
		where := "in any namespace"
		if o.namespace != "" {
			where = "in namespace " + o.namespace
		}
		fmt.Fprintf(o.ErrOut, "No daemonsets found %s.\n", where)
		return nil
	}
	if err := o.print(rep); err != nil {
		return err
	}
	return o.exitFor(rep)
}

func (o *CheckOptions) exitFor(rep *report.Report) error {
	switch {
	case rep.Summary.Failing > 0:
		return ErrFindings
	case rep.Partial:
		return ErrPartial
	}
	return nil
}

func (o *CheckOptions) print(rep *report.Report) error {
	po := printer.Options{Wide: o.output == "wide", NoHeaders: o.NoHeaders, Now: rep.GeneratedAt}
	switch {
	case o.printer != nil:
		return o.printer.PrintObj(rep, o.Out)
	case o.output == "junit":
		return printer.JUnit(o.Out, rep, po)
	case o.output == "markdown":
		return printer.Markdown(o.Out, rep, po)
	case o.describe && o.output == "":
		return printer.Describe(o.Out, rep, po)
	default:
		return printer.Table(o.Out, rep, po)
	}
}

func (o *CheckOptions) snapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	if len(o.Filenames) > 0 {
		snap, err := collect.Files(o.Filenames, o.In, o.readOptions())
		if err != nil {
			return nil, readError(err)
		}
		return snap, nil
	}
	progress := func(string, ...any) {}
	if o.showProgress {
		progress = func(format string, args ...any) {
			fmt.Fprintf(o.ErrOut, "\r\033[K"+format, args...)
		}
		defer fmt.Fprint(o.ErrOut, "\r\033[K")
	}
	opts := o.readOptions()
	opts.Progress = progress
	snap, err := collect.Live(ctx, o.client, o.host, opts)
	var nf *collect.NotFoundError
	var amb *collect.AmbiguousError
	if err != nil && !errors.As(err, &nf) && !errors.As(err, &amb) {
		return nil, inputErrorf("cannot read from the cluster at %s: %s", o.host, oneLine(err.Error()))
	}
	if err != nil {
		return nil, readError(err)
	}
	return snap, nil
}

// readOptions says what to read; both readers honour it the same way.
func (o *CheckOptions) readOptions() collect.Options {
	return collect.Options{
		Namespace:     o.namespace,
		Name:          o.name,
		LabelSelector: o.Selector,
		ChunkSize:     o.ChunkSize,
		PodEvents:     o.name != "",
	}
}

// readError maps a reader's error to an exit code: a NAME in several
// namespaces is a usage error, everything else an input error.
func readError(err error) error {
	var amb *collect.AmbiguousError
	if errors.As(err, &amb) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return &ExitError{Code: ExitInput, Err: err}
}

func nsWords(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
