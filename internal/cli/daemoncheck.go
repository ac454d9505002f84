// Package cli holds the cobra commands of kubectl-daemoncheck, in kubectl's
// Options pattern: NewCmd builds flags into the command's own Options
// struct (made of the flag groups of options.go), Complete resolves them
// once into a runConfig, Validate checks them, Run works from the runConfig
// only. Data flows one way: flags -> snapshot (package source) -> report
// (package audit, which also judges it) -> printer (package render;
// outfile for --output-file). What a command does beyond its flags lives
// in packages of its own (fleet, follow, complete, whatif). Nothing here
// decides a verdict: the exit code, the --wait progress and every printer
// read the report.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/outfile"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/source"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// DefaultRequestTimeout applies to each API request when --request-timeout
// is not given, so an unresponsive server ends the run instead of hanging it.
const DefaultRequestTimeout = 30 * time.Second

// DefaultTimeout bounds a whole run (reads, analysis, output), and is how
// long --wait waits.
const DefaultTimeout = 5 * time.Minute

// MaxSmallFile bounds the small files a user names (--policy, template
// files, kubeconfig): far above any real one, and read only if regular, so
// a FIFO or /dev/zero cannot hang or exhaust the run.
const MaxSmallFile = 16 << 20

// NowWall is the --now value that analyses a dump as of the current time
// instead of its newest timestamp.
const NowWall = "wall"

// MinInterval is the shortest --interval: faster polling only loads the API
// server (each pass lists every DaemonSet, node and daemon Pod).
const MinInterval = time.Second

var checkExample = `  # Audit every DaemonSet in the cluster
  kubectl daemoncheck

  # One DaemonSet in detail: every node, why excluded ones are, what to fix
  kubectl daemoncheck kube-proxy -n kube-system

  # Machine-readable report (versioned schema daemoncheck/v1alpha2)
  kubectl daemoncheck -o json

  # CI gate: wait up to 10 minutes for the errors to clear
  kubectl daemoncheck --wait --timeout 10m

  # Follow a rollout: the report, then a line per change (Ctrl-C to stop)
  kubectl daemoncheck -w -n monitoring

  # Audit a saved dump instead of a live cluster
  kubectl get ds,nodes,pods,controllerrevisions -A -o yaml > dump.yaml
  kubectl daemoncheck -f dump.yaml

  # Several clusters in one run: every kubeconfig context named prod-*
  kubectl daemoncheck --contexts 'prod-*'`

// CheckOptions are the flags of the root command, `kubectl daemoncheck
// [NAME]`: the audit, one DaemonSet in detail, or a fleet.
type CheckOptions struct {
	*deps
	sourceFlags
	gateFlags
	outputFlags
	followFlags
	fleetFlags
	runner
}

// runner runs a command from its resolved configuration.
type runner struct {
	*deps
	// run is the resolved configuration: a run reads nothing else.
	run runConfig
}

// runConfig is what the flags mean, resolved once by Complete: no flag
// strings, only typed values the run works from, grouped by concern so
// that each part of a run reads the group it uses.
type runConfig struct {
	view render.View
	// timeout bounds the run; with --wait, it is how long to wait.
	timeout time.Duration
	src     sourceConfig
	judge   judgeConfig
	out     outputConfig
	// follow is how -w and --wait follow the cluster after the first read.
	follow followConfig
	// fleet, when set, is the clusters of a fleet audit (--contexts).
	fleet *fleetRun
}

// sourceConfig is what is read, and from where.
type sourceConfig struct {
	// read says what to read; files, when set, is the offline input.
	read  collect.Options
	files []string
	// client and host are the live source.
	client collect.Client
	host   string
	// suggest are the subcommands a DaemonSet NAME resembles (node ->
	// nodes), offered when no DaemonSet has that name.
	suggest []string
	// nsGiven: -n was given (not -A, not a NAME's context namespace); an
	// audit that finds no DaemonSet there has audited nothing.
	nsGiven bool
	// nsInInput, offline with -n, says whether the input holds any object
	// of that namespace (set by analyseWith).
	nsInInput bool
}

// judgeConfig is how a snapshot is judged.
type judgeConfig struct {
	// now is the analysis clock; liveClock re-reads it on each pass.
	now       time.Time
	liveClock bool
	// inferClock, offline without --now, takes the clock from the input's
	// newest timestamp (a dump judged by the wall clock ages by the hour).
	inferClock bool
	policy     *policy.Policy
	gate       report.Gate
	// serverVersion, when set, overrides the version the rules follow.
	serverVersion string
	// capacityNodes lists every node in the report's capacity section.
	capacityNodes bool
}

// outputConfig is how the report is printed.
type outputConfig struct {
	printer *render.Printer
	opts    render.Options
	// files are the --output-file copies, written in the same run as stdout.
	files outfile.Files
	// sortBy orders the problems (view.SortSeverity: as the analysis does).
	sortBy string
	// progress shows progress on stderr (a terminal).
	progress bool
}

// NewCheckOptions returns the root command's options with kubectl's defaults.
func NewCheckOptions(streams genericiooptions.IOStreams) *CheckOptions {
	d := newDeps(streams)
	return &CheckOptions{
		deps:        d,
		sourceFlags: newSourceFlags(),
		gateFlags:   newGateFlags(),
		outputFlags: newOutputFlags(),
		followFlags: newFollowFlags(),
		fleetFlags:  newFleetFlags(),
		runner:      runner{deps: d},
	}
}

// newPrintFlags offers kubectl's machine formats; kubectl's "name" printer is
// not among them since a report is not a named object (-o name is the registry's
// own printer of the DaemonSets or nodes shown). Which -o values a command accepts is the
// printer registry's to say.
func newPrintFlags() *render.PrintFlags {
	return render.NewPrintFlags()
}

// NewCmdDaemonCheck builds the root command, `kubectl daemoncheck`.
func NewCmdDaemonCheck(streams genericiooptions.IOStreams) *cobra.Command {
	return newRootCommand(NewCheckOptions(streams))
}

func newRootCommand(o *CheckOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubectl-daemoncheck [NAME] [flags]",
		Short: "Find the nodes that lack, or wrongly run, their daemon Pods, and why",
		Long: `daemoncheck reads every DaemonSet, Node and daemon Pod, decides node by node
what the DaemonSet controller wants (selectors, affinity, taints, tolerations),
and reports missing, pending, unhealthy, duplicate, misscheduled, orphaned and
outdated daemon Pods and stale DaemonSet status, with the reason and the fix.
It only reads from the cluster.

Exit codes: 0 no findings that --fail-on selects, 1 such findings, 2 usage
error, 3 cannot read the cluster or input or write the output (also: a partial
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
		ValidArgsFunction: completer(o.deps, &o.sourceFlags).Names,
		Annotations:       map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl daemoncheck"},
		RunE: func(cmd *cobra.Command, args []string) error {
			view, name := render.ViewAudit, ""
			if len(args) == 1 {
				view, name = render.ViewDetail, args[0]
			}
			if err := o.Complete(cmd, name, view); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	fs := cmd.Flags()
	o.PrintFlags.AddFlags(cmd)
	fs.Lookup("output").Usage = outputHelp(render.ViewAudit, render.ViewDetail)
	fs.Lookup("template").Usage = "Template or file for -o go-template(-file)."
	fs.Lookup("allow-missing-template-keys").Usage = "Ignore missing keys in templates."
	registerOutputCompletion(cmd, render.ViewAudit)
	o.addSelectFlags(fs, "DaemonSets")
	o.addInputFlags(fs)
	fs.Lookup("timeout").Usage = "Give up after this long (exit 3); how long --wait waits."
	o.addPolicyFlags(fs)
	o.addGateFlags(fs)
	o.followFlags.addFlags(fs)
	fs.StringVar(&o.SortBy, "sort-by", o.SortBy, "Order of problems: "+strings.Join(sortKeys, ", ")+".")
	_ = cmd.RegisterFlagCompletionFunc("sort-by", cobra.FixedCompletions(sortKeys, cobra.ShellCompDirectiveNoFileComp))
	o.addTableFlags(fs)
	o.addOutputFileFlag(cmd, render.ViewAudit)
	o.fleetFlags.addFlags(cmd, o.deps)
	o.addVerbosityFlag(fs)
	o.addConnectionFlags(cmd)
	comp := completer(o.deps, &o.sourceFlags)
	_ = cmd.RegisterFlagCompletionFunc("namespace", comp.Namespaces)
	_ = cmd.RegisterFlagCompletionFunc("require", comp.Require)
	registerGateCompletion(cmd)

	cmd.AddCommand(NewCmdNodes(o.deps))
	cmd.AddCommand(NewCmdCapacity(o.deps))
	cmd.AddCommand(NewCmdWhatIf(o.deps))
	cmd.AddCommand(NewCmdServe(o.deps))
	cmd.AddCommand(NewCmdVersion(o.deps))
	cmd.AddCommand(newCmdOptions())
	cmd.AddCommand(newCmdCompletion(cmd))
	cmd.SetUsageFunc(groupedUsage)
	cmd.SetHelpFunc(groupedHelp)
	hideUnusedFlags(fs)
	return cmd
}

// Complete resolves the flags into o.run. name is the DaemonSet NAME
// (detail view) or ""; view is what the command shows.
func (o *CheckOptions) Complete(cmd *cobra.Command, name string, view render.View) error {
	return o.resolve(cmd, flagGroups{src: &o.sourceFlags, gate: &o.gateFlags, out: &o.outputFlags, follow: &o.followFlags, fleet: &o.fleetFlags}, name, view)
}

// Validate checks the resolved configuration (Complete has checked the flags).
func (o *runner) Validate() error {
	if o.run.out.printer == nil {
		return usageErrorf("internal: Validate before Complete")
	}
	return nil
}

// checkUserFiles refuses template files and kubeconfigs that are not
// regular files or are absurdly large before kubectl's libraries read them
// unbounded.
func (o *runner) checkUserFiles(output string) error {
	for _, prefix := range []string{"go-template-file=", "templatefile=", "jsonpath-file="} {
		if file, ok := strings.CutPrefix(output, prefix); ok {
			if _, err := decode.ReadFileBounded(file, MaxSmallFile); err != nil {
				return usageErrorf("-o %s: %v", output, unwrapPath(err))
			}
		}
	}
	if k := o.ConfigFlags.KubeConfig; k != "" {
		if _, err := decode.ReadFileBounded(k, MaxSmallFile); err != nil {
			return inputErrorf("--kubeconfig: %v", unwrapPath(err))
		}
	}
	return nil
}

// unwrapPath drops the "open PATH:" of a path error (messages name the file
// already).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// completePolicy reads the coverage rules of --require and --policy.
func (o *gateFlags) completePolicy() (*policy.Policy, error) {
	p := &policy.Policy{}
	for _, r := range o.Require {
		rule, err := policy.ParseRequire(r)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		p.Rules = append(p.Rules, rule)
	}
	if o.PolicyFile != "" {
		data, err := decode.ReadFileBounded(o.PolicyFile, MaxSmallFile)
		if err != nil {
			return nil, usageErrorf("--policy %s: %v", o.PolicyFile, unwrapPath(err))
		}
		rules, err := policy.Parse(o.PolicyFile, data)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		p.Rules = append(p.Rules, rules...)
	}
	return p, nil
}

// completeGate resolves --fail-on, --ignore and --grace into the typed gate
// the analysis judges findings by.
func (o *gateFlags) completeGate() (report.Gate, error) {
	ignore, err := report.ParseTypes(o.Ignore)
	if err != nil {
		return report.Gate{}, usageErrorf("--ignore %v", err)
	}
	failOn, err := report.ParseSelector(o.FailOn)
	if err != nil {
		return report.Gate{}, usageErrorf("--fail-on %v", err)
	}
	for _, v := range o.FailOn {
		if ignore[report.FindingType(v)] {
			// An ignored type is dropped from the report, so it could never
			// fail: the gate would silently not be what was written.
			return report.Gate{}, usageErrorf("--fail-on %s and --ignore %s contradict each other: ignored findings are left out of the report and cannot fail; drop one", v, v)
		}
	}
	if o.Grace < 0 {
		return report.Gate{}, usageErrorf("--grace must not be negative, got %s", o.Grace)
	}
	return report.Gate{FailOn: failOn, Ignore: ignore, Grace: o.Grace}, nil
}

// audit reads a snapshot and analyses it: one pass of the data flow.
func (o *runner) audit(ctx context.Context, warn bool) (*report.Report, error) {
	snap, err := o.snapshot(ctx, nil)
	if err != nil {
		return nil, err
	}
	return o.analyse(snap, warn)
}

// analyse is the analysis half of an audit, for a snapshot read live, from
// files, or kept current by a watch.
func (o *runner) analyse(snap *model.Snapshot, warn bool) (*report.Report, error) {
	return o.analyseWith(snap, warn, nil)
}

// analyseWith is analyse carried forward by memo (a watch): what did not
// change since the last analysis is not analysed again (audit.Memo).
func (o *runner) analyseWith(snap *model.Snapshot, warn bool, memo *audit.Memo) (*report.Report, error) {
	if o.run.judge.serverVersion != "" {
		snap.ServerVersion = o.run.judge.serverVersion
	}
	if err := o.run.judge.policy.Validate(snap.DaemonSets); err != nil {
		return nil, usageErrorf("%v", err)
	}
	now := o.run.judge.now
	if o.run.judge.liveClock {
		now = time.Now()
	}
	if o.run.judge.inferClock {
		if t := snap.NewestTime; !t.IsZero() {
			now = t
			fmt.Fprintf(o.ErrOut, "Analysing as of %s, the newest timestamp in the input; --now to override, --now=%s for the current time.\n", t.Format(time.RFC3339), NowWall)
		} else {
			fmt.Fprintf(o.ErrOut, "Analysing as of the current time: the input has no timestamps; --now to choose the time.\n")
		}
	}
	if o.run.src.nsGiven && len(o.run.src.files) > 0 {
		o.run.src.nsInInput = source.HasNamespace(snap, o.run.src.read.Namespace)
	}
	rep := audit.Analyze(snap, audit.Options{Now: now, Policy: o.run.judge.policy, Gate: o.run.judge.gate, CapacityNodes: o.run.judge.capacityNodes, Selection: selection(o.run.src.read), Memo: memo})
	rep.Warnings = append(rep.Warnings, policy.AnnotationWarnings(snap.DaemonSets, snap.Nodes, func(t string) bool { return report.Known(report.FindingType(t)) })...)
	if warn {
		for _, w := range rep.Warnings {
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", text.Terminal(w))
		}
	}
	return rep, nil
}

// Run reads, analyses and prints, and returns ErrFindings when the report has
// failing findings, so that the exit code says so. The whole run is bounded
// by --timeout; output is buffered, and a failed write ends the run with
// exit code 3 whatever the report says.
func (o *CheckOptions) Run(ctx context.Context) (err error) {
	defer o.removeOnError(&err)
	if ctx == nil {
		ctx = context.Background()
	}
	if o.run.follow.watch {
		return o.watch(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, o.run.timeout)
	defer cancel()
	if o.run.fleet != nil {
		return o.runFleet(ctx)
	}
	var rep *report.Report
	if o.run.follow.wait {
		rep, err = o.wait(ctx)
	} else {
		rep, err = o.audit(ctx, true)
	}
	if err != nil {
		return err
	}
	return o.show(rep)
}

// runView is the run of a view of the audit (nodes, capacity): one read,
// bounded by --timeout, then project gives the part of the report the view
// shows (a view.Projection, never an edit), which is printed.
func (o *runner) runView(ctx context.Context, project func(*report.Report) (*report.Report, error)) (err error) {
	defer o.removeOnError(&err)
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.run.timeout)
	defer cancel()
	rep, err := o.audit(ctx, true)
	if err != nil {
		return err
	}
	if rep, err = project(rep); err != nil {
		return err
	}
	return o.show(rep)
}

// removeOnError removes the --output-file copies an earlier run left when
// this one fails (*err is the run's error).
func (o *runner) removeOnError(err *error) {
	if *err != nil {
		o.run.out.files.RemoveUnwritten(o.ErrOut)
	}
}

// show prints the report and returns the exit code's error.
func (o *runner) show(rep *report.Report) error {
	if len(rep.DaemonSets) == 0 && o.run.view == render.ViewAudit && o.run.out.printer.Name == render.Default {
		where := "in any namespace"
		if ns := o.run.src.read.Namespace; ns != "" {
			where = "in namespace " + ns
		}
		if o.run.src.read.LabelSelector == "" && !o.run.src.nsGiven {
			fmt.Fprintf(o.ErrOut, "No daemonsets found %s.\n", where)
		}
		if err := o.writeReportFiles(rep); err != nil {
			return err
		}
		return o.exitFor(rep)
	}
	rep = sortedBy(rep, o.run.out.sortBy)
	if err := o.print(rep); err != nil {
		return err
	}
	return o.exitFor(rep)
}

var sortKeys = []string{view.SortSeverity, view.SortBreadth, view.SortDaemonSet, view.SortType}

// sortedBy is the report with its problems ordered as --sort-by says.
func sortedBy(rep *report.Report, by string) *report.Report {
	out, err := view.Project(rep, view.Projection{SortBy: by})
	if err != nil {
		panic(err) // a projection that names no DaemonSet cannot fail
	}
	return out
}

// exitFor is the report's verdict, except that a -l that matched no
// DaemonSet, or a -n NAMESPACE without DaemonSets, is exit 3: a CI gate on a
// typo'd selector or namespace has audited nothing and must not pass
// (kubectl get says "No resources found" and exits 0, but it is not a
// gate). No DaemonSet at all, without -l or -n, stays exit 0.
func (o *runner) exitFor(rep *report.Report) error {
	if sel := o.run.src.read.LabelSelector; len(rep.DaemonSets) == 0 && sel != "" {
		where := "in any namespace"
		if ns := o.run.src.read.Namespace; ns != "" {
			where = "in namespace " + ns
		}
		return &ExitError{Code: ExitInput, Err: fmt.Errorf("no daemonsets matched -l %q %s", sel, where)}
	}
	if len(rep.DaemonSets) == 0 && o.run.src.nsGiven && !rep.Partial {
		return &ExitError{Code: ExitInput, Err: errors.New(o.emptyNamespace(o.run.src.read.Namespace))}
	}
	return exitFor(rep)
}

// emptyNamespace says why -n NAMESPACE found no DaemonSet
// (source.Reader.EmptyNamespace).
func (o *runner) emptyNamespace(ns string) string {
	return o.reader().EmptyNamespace(ns, o.run.src.nsInInput)
}

// exitFor maps the report's verdict to the exit code.
func exitFor(rep *report.Report) error { return verdictExit(rep.Summary.Failing, rep.Partial) }

// verdictExit: failing findings are exit 1; else a partial read is exit 3.
func verdictExit(failing int, partial bool) error {
	switch {
	case failing > 0:
		return ErrFindings
	case partial:
		return ErrPartial
	}
	return nil
}

// print renders the report, then its --output-file copies.
func (o *runner) print(rep *report.Report) error {
	return o.printWith(rep.GeneratedAt, printReport(rep))
}

// printWith renders through a buffer with print, given the printer: a write
// error (a full disk, a closed pipe) is sticky in bufio.Writer and surfaces
// at Flush. Then every --output-file, with its own printer.
func (o *runner) printWith(now time.Time, print outfile.Print) error {
	w := bufio.NewWriterSize(o.Out, 64*1024)
	po := o.run.out.opts
	po.Now = now
	err := print(o.run.out.printer, w, po)
	if ferr := w.Flush(); ferr != nil {
		return inputErrorf("writing the output: %v", ferr)
	}
	if err != nil {
		return inputErrorf("printing the report: %v", err)
	}
	return o.writeOutputFiles(now, print)
}

// snapshot reads the input (source.Reader); a live read records where its
// lists stood in cur (when set), for a watch to carry on from.
func (o *runner) snapshot(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error) {
	snap, err := o.reader().Read(ctx, cur)
	if err != nil {
		return nil, readError(err)
	}
	return snap, nil
}

// reader is the run's source as resolved.
func (o *runner) reader() source.Reader {
	r := source.Reader{Options: o.run.src.read, Files: o.run.src.files, Stdin: o.In, Client: o.run.src.client, Host: o.run.src.host, Timeout: o.run.timeout, Suggest: o.run.src.suggest}
	if o.run.out.progress {
		r.Progress = o.ErrOut
	}
	return r
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

// newClient bounds the client (collect.NewClient: protobuf, rate limits,
// redirect policy, response caps, one retry layer). --request-timeout keeps
// kubectl's meaning: not given, each request is bounded by
// DefaultRequestTimeout; an explicit 0 means no per-request limit (the run's
// --timeout still bounds everything).
func newClient(cfg *rest.Config, requestTimeoutGiven bool) (collect.Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 && !requestTimeoutGiven {
		cfg.Timeout = DefaultRequestTimeout
	}
	return collect.NewClient(cfg)
}
