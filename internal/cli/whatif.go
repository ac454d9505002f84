package cli

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/whatif"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

var whatifExample = `  # Would the daemons land and fit on a new Karpenter NodePool (or Cluster
  # API MachineDeployment, MachinePool, Node manifest)?
  kubectl daemoncheck whatif nodepool.yaml

  # The same in CI without cluster credentials: against a saved dump
  kubectl daemoncheck whatif nodepool.yaml -f cluster-dump.yaml

  # A changed DaemonSet from a pull request: nodes gained and lost, new
  # fit problems
  kubectl daemoncheck whatif charts/falco/daemonset.yaml -f cluster-dump.yaml \
    -o markdown

  # A node described by flags
  kubectl daemoncheck whatif --labels pool=gpu \
    --taints nvidia.com/gpu=true:NoSchedule \
    --instance-type g5.xlarge --allocatable cpu=3920m,memory=15Gi,pods=58

  # Rendered manifests from stdin
  kustomize build overlays/prod | kubectl daemoncheck whatif -`

// WhatIfOptions are the flags of `kubectl daemoncheck whatif`.
type WhatIfOptions struct {
	*deps
	sourceFlags
	gateFlags
	outputFlags
	runner
	output string

	// Node is the node described by flags (or what they add to every pool).
	Node      whatif.NodeFlags
	MaxShapes int
	// AcceptUnjudged lets the shapes judged decide when a pool allows
	// more than MaxShapes.
	AcceptUnjudged bool
	// WhatIfFailOn and WhatIfIgnore are whatif's --fail-on and --ignore
	// (what-if finding types, not the audit's types).
	WhatIfFailOn []string
	WhatIfIgnore []string

	gate   report.WhatIfGate
	inputs []string
	// node is the proposal the node flags describe, or nil; extra holds
	// what they add to every input pool.
	node  *model.Proposal
	extra model.PoolTemplate
}

// nodeFlags are the flags that describe a node.
var nodeFlags = []string{"node-name", "labels", "taints", "startup-taints", "allocatable", "os", "arch", "instance-type"}

// NewCmdWhatIf builds `kubectl daemoncheck whatif [FILE...]`.
func NewCmdWhatIf(d *deps) *cobra.Command {
	o := &WhatIfOptions{deps: d, sourceFlags: newSourceFlags(), gateFlags: newGateFlags(), outputFlags: newOutputFlags(), runner: runner{deps: d}, MaxShapes: whatif.DefaultMaxShapes}
	comp := completer(d, &o.sourceFlags)
	cmd := &cobra.Command{
		Use:   "whatif [FILE...] [flags]",
		Short: "Judge a new node pool or a DaemonSet change before it exists",
		Long: `Judge a proposal against the cluster (or, with -f, a saved dump) before it
exists:

  - a node pool: a Node manifest, a Karpenter NodePool, a Cluster API
    MachineDeployment, MachineSet or MachinePool, or a node described by flags.
    For each kind of node the pool can create: which DaemonSets would run there
    and which would not, why (with the fix), and whether they fit;
  - a changed DaemonSet (apps/v1 manifest): the nodes it would gain and lose,
    required nodes it would leave, daemons that would newly not fit or clash.

FILE is a file, a directory or - for stdin (JSON or YAML). The node flags
(--labels, --taints, --allocatable, ...) also apply to every FILE pool.

Without a coverage rule for a DaemonSet, it counts as required on a node when
its nodeSelector and required node affinity admit the node: a taint that keeps
it off is a failure, a selector that excludes the node is by design.

Exit codes: 0 no finding that --fail-on selects (by default the errors: a
required daemon would not run, a targeted one would not fit or clash on a host
port, a pool allows no node or more node shapes than --max-shapes), 1 such a
finding, 2 usage error, 3 an input or the cluster cannot be read (also: a
partial read without failures).`,
		Example: whatifExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.inputs = args
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	// Files as arguments complete as files.
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml", "json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	o.addFlags(cmd)
	parentAddOutputFile(o, cmd)
	registerOutputCompletion(cmd, render.ViewWhatIf)
	d.addConnectionFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("namespace", comp.Namespaces)
	_ = cmd.RegisterFlagCompletionFunc("require", comp.Require)
	kinds := make([]string, len(report.WhatIfTypes))
	for i, k := range report.WhatIfTypes {
		kinds[i] = string(k.Type) + "\t" + string(k.Severity)
	}
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(append([]string{"error\tfindings of severity error", "warning\tevery warning and error", "info\tevery finding", report.FailOnNone + "\tnever fail on findings"}, kinds...), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("ignore", cobra.FixedCompletions(kinds, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("os", cobra.FixedCompletions([]string{"linux", "windows"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("arch", cobra.FixedCompletions([]string{"amd64", "arm64"}, cobra.ShellCompDirectiveNoFileComp))
	hideUnusedFlags(cmd.Flags())
	return cmd
}

// addFlags registers whatif's own flags: the source, gate and output flags
// it accepts, and the flags that describe a node.
func (o *WhatIfOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&o.output, "output", "o", "", render.Help(render.ViewWhatIf)+" Default: per node shape, every DaemonSet and why; wide adds requests, priorities and coverage rules.")
	fs.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Judge against objects read from files, directories or - (stdin) instead of the cluster: the output of kubectl get ds,nodes,priorityclasses -A -o yaml. The proposal is given as FILE arguments.")
	fs.StringVarP(&o.Selector, "selector", "l", "", "Label selector to filter the DaemonSets judged, e.g. -l app.kubernetes.io/part-of=observability.")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Judge DaemonSets of all namespaces (the default unless -n is given).")
	fs.Int64Var(&o.ChunkSize, "chunk-size", o.ChunkSize, "Return large lists in chunks rather than all at once. Pass 0 to disable.")
	fs.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in tables.")
	fs.StringArrayVar(&o.Require, "require", nil, "Coverage rule NAMESPACE/NAME[=NODE_SELECTOR]: the DaemonSet must run on every node matching the selector (default: every node). Repeatable.")
	fs.StringVar(&o.PolicyFile, "policy", "", "Coverage policy file (YAML, kind CoveragePolicy; see README).")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Give up after this long (exit 3).")
	fs.IntVarP(&o.Verbosity, "v", "v", 0, "Number for the log level verbosity of the Kubernetes client (as kubectl's -v); 0 logs nothing.")
	fs.StringVar(&o.Node.Name, "node-name", "", "Name of the node described by flags (default whatif-node).")
	fs.StringVar(&o.Node.Labels, "labels", "", "Node labels, key=value,key=value; with FILE pools, added to each.")
	fs.StringSliceVar(&o.Node.Taints, "taints", nil, "Node taints as kubectl taint takes them, key[=value]:Effect, comma-separated or repeated; with FILE pools, added to each.")
	fs.StringSliceVar(&o.Node.StartupTaints, "startup-taints", nil, "Taints the node starts with until something removes them (key[=value]:Effect).")
	fs.StringVar(&o.Node.Allocatable, "allocatable", "", "The node's allocatable, e.g. cpu=3920m,memory=15Gi,pods=58,nvidia.com/gpu=1 (what kubectl describe node shows under Allocatable).")
	fs.StringVar(&o.Node.OS, "os", "", "The node's OS (kubernetes.io/os), e.g. linux or windows (default: the input's, else linux).")
	fs.StringVar(&o.Node.Arch, "arch", "", "The node's architecture (kubernetes.io/arch), e.g. amd64 or arm64 (default: the input's, else amd64).")
	fs.StringVar(&o.Node.InstanceType, "instance-type", "", "The node's instance type (node.kubernetes.io/instance-type); a cluster node of that type gives the allocatable.")
	fs.IntVar(&o.MaxShapes, "max-shapes", o.MaxShapes, "At most this many node shapes per pool are judged (a pool that allows many architectures and instance types); a pool that allows more fails (ShapesNotJudged) unless --accept-unjudged-shapes.")
	fs.StringSliceVar(&o.WhatIfFailOn, "fail-on", []string{string(report.SeverityError)}, "Findings that make the exit code 1: a severity and every higher one (error, the default; warning; info), finding types ("+whatIfTypeNames()+"), or none; comma-separated.")
	fs.StringSliceVar(&o.WhatIfIgnore, "ignore", nil, "Finding types to leave out of the report, comma-separated.")
	fs.BoolVar(&o.AcceptUnjudged, "accept-unjudged-shapes", false, "Let the shapes judged decide when a pool allows more than --max-shapes: the shapes beyond it are reported as a warning instead of failing.")
}

func whatIfTypeNames() string {
	names := make([]string, len(report.WhatIfTypes))
	for i, k := range report.WhatIfTypes {
		names[i] = string(k.Type)
	}
	return strings.Join(names, ", ")
}

// parentAddOutputFile registers --output-file with the what-if formats.
func parentAddOutputFile(o *WhatIfOptions, cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.OutputFiles, "output-file", nil, "Also write the report to a file in another format, as FORMAT=PATH (e.g. junit=whatif.xml, markdown=summary.md, json=whatif.json); any -o format of whatif. Repeatable; written in the same run as stdout.")
	registerOutputFileCompletion(cmd, render.ViewWhatIf)
}

// Complete resolves the shared flags for the what-if view, then the
// proposal's inputs and the node flags.
func (o *WhatIfOptions) Complete(cmd *cobra.Command) error {
	*o.PrintFlags.OutputFormat = o.output
	if err := o.resolve(cmd, flagGroups{src: &o.sourceFlags, gate: &o.gateFlags, out: &o.outputFlags}, "", render.ViewWhatIf); err != nil {
		return err
	}
	o.run.src.read.NoPods = true
	// The daemon Pods say on which platforms each DaemonSet has run: a
	// pool that brings another one is a risk (whatif_platform.go).
	o.run.src.read.DaemonPods = true
	stdin := 0
	for _, in := range o.inputs {
		if in == "" {
			return usageErrorf("whatif: an empty FILE argument; give a file, a directory or - for stdin")
		}
		if in == "-" {
			stdin++
		}
	}
	if stdin > 1 || (stdin == 1 && slices.Contains(o.Filenames, "-")) {
		return usageErrorf("stdin (-) can be read once: give the proposal or the -f dump on stdin, not both")
	}
	gate, err := report.ParseWhatIfGate(o.WhatIfFailOn, o.WhatIfIgnore)
	if err != nil {
		return usageErrorf("%v", err)
	}
	o.gate = gate
	if o.MaxShapes < 1 {
		return usageErrorf("--max-shapes must be at least 1, got %d", o.MaxShapes)
	}
	described := false
	for _, f := range nodeFlags {
		if cmd.Flags().Changed(f) {
			described = true
		}
	}
	if len(o.inputs) == 0 && !described {
		return usageErrorf("whatif needs a proposal: FILE arguments (a Node, NodePool, MachineDeployment, MachinePool or DaemonSet manifest) or a node described by flags (--labels, --taints, --allocatable, ...)")
	}
	t, err := o.Node.Template()
	if err != nil {
		return usageErrorf("%v", err)
	}
	if len(o.inputs) == 0 {
		o.node = o.Node.FlagNode(t)
	} else {
		if o.Node.Name != "" {
			return usageErrorf("--node-name names the node described by flags; with FILE arguments the nodes are named by their pool")
		}
		o.extra = t
	}
	return nil
}

// proposal reads the FILE arguments and adds what the node flags say.
func (o *WhatIfOptions) proposal() (*model.Proposal, error) {
	if o.node != nil {
		return o.node, nil
	}
	prop, err := decode.ReadProposal(o.inputs, o.In)
	if err != nil {
		return nil, &ExitError{Code: ExitInput, Err: err}
	}
	whatif.AddToPools(prop, o.extra)
	return prop, nil
}

// namespaceOf is the namespace a DaemonSet manifest without one lands in:
// -n, else the kubeconfig context's (live), else "default", as kubectl
// apply would choose.
func (o *WhatIfOptions) namespaceOf() (string, string) {
	if ns := o.run.src.read.Namespace; ns != "" {
		return ns, "-n"
	}
	if len(o.run.src.files) == 0 && o.client == nil {
		if ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
			return ns, "the kubeconfig context"
		}
	}
	return "default", "the default namespace"
}

// Run reads the proposal, then the cluster or dump, judges, prints, and
// returns the exit code's error.
func (o *WhatIfOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.run.timeout)
	defer cancel()
	prop, err := o.proposal()
	if err != nil {
		return err
	}
	for i := range prop.DaemonSets {
		ds := &prop.DaemonSets[i]
		if ds.Namespace == "" {
			ns, why := o.namespaceOf()
			ds.Namespace = ns
			prop.Warnings = append(prop.Warnings, fmt.Sprintf("daemonset %s in %s has no metadata.namespace; judged in namespace %s (%s), as kubectl apply would place it", ds.Name, prop.Sources[i], ns, why))
		}
	}
	snap, err := o.snapshot(ctx, nil)
	if err != nil {
		return err
	}
	read := map[string]bool{}
	for i := range snap.DaemonSets {
		read[snap.DaemonSets[i].Namespace+"/"+snap.DaemonSets[i].Name] = true
	}
	for i := range prop.DaemonSets {
		ds := &prop.DaemonSets[i]
		if !read[ds.Namespace+"/"+ds.Name] && (o.run.src.read.Namespace != "" || o.run.src.read.LabelSelector != "") {
			prop.Warnings = append(prop.Warnings, fmt.Sprintf("daemonset %s/%s is not among the DaemonSets read (-n, -l): it is judged as a new DaemonSet", ds.Namespace, ds.Name))
		}
	}
	all := append(append([]appsv1.DaemonSet{}, snap.DaemonSets...), prop.DaemonSets...)
	if err := o.run.judge.policy.Validate(all); err != nil {
		return usageErrorf("%v", err)
	}
	now := o.run.judge.now
	if o.run.judge.inferClock && !snap.NewestTime.IsZero() {
		now = snap.NewestTime
	}
	rep := whatif.WhatIf(snap, prop, whatif.WhatIfOptions{Now: now, Policy: o.run.judge.policy, MaxShapes: o.MaxShapes, AcceptUnjudged: o.AcceptUnjudged, Gate: o.gate})
	rep.Warnings = append(rep.Warnings, policy.AnnotationWarnings(prop.DaemonSets, nil, func(t string) bool { return report.Known(report.FindingType(t)) })...)
	for _, w := range rep.Warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", text.Terminal(text.OneLine(w)))
	}
	if err := o.printWhatIf(rep); err != nil {
		return err
	}
	return verdictExit(rep.Summary.Failing, rep.Partial)
}

// printWhatIf renders to stdout, then to every --output-file.
func (o *WhatIfOptions) printWhatIf(rep *report.WhatIfReport) error {
	return o.printWith(rep.GeneratedAt, func(p *render.Printer, w *bufio.Writer, po render.Options) error {
		return p.PrintWhatIf(w, rep, po)
	})
}
