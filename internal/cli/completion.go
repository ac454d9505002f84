package cli

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// completionTimeout keeps shell completion snappy on a slow cluster.
const completionTimeout = 5 * time.Second

// completer completes a command's arguments and flag values from its
// input: the -f files when given, else the cluster.
type completer struct {
	*deps
	*sourceFlags
}

// completeNames completes DaemonSet names: from the -f input when given, else
// from the cluster (the -n namespace, or the context's).
func (o completer) completeNames(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns := ""
	if cmd.Flags().Changed("namespace") {
		ns = o.ConfigFlags.Namespace()
	}
	var names []string
	if len(o.Filenames) > 0 {
		snap, err := o.completionFiles(collect.Options{Namespace: ns})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, ds := range snap.DaemonSets {
			if ns == "" || ds.Namespace == ns {
				names = append(names, ds.Name)
			}
		}
	} else {
		if ns == "" {
			ns, _, _ = o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		}
		cs, ctx, cancel, err := o.completionClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		l, err := cs.ListDaemonSets(ctx, ns, metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, ds := range l.Items {
			names = append(names, ds.Name)
		}
	}
	return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces completes -n: with -f, the namespaces of the input's
// DaemonSets; else the cluster's namespaces.
func (o completer) completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(o.Filenames) > 0 {
		var nss []string
		for _, ds := range o.completionDaemonSets(cmd) {
			nss = append(nss, ds.namespace)
		}
		return filterPrefix(nss, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	cs, ctx, cancel, err := o.completionClient()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	l, err := cs.ListNamespaces(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(l.Items))
	for _, n := range l.Items {
		names = append(names, n.Name)
	}
	return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completionClient returns a client and context bounded by
// completionTimeout, so that completion never hangs a shell.
func (o completer) completionClient() (collect.Client, context.Context, context.CancelFunc, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Timeout = completionTimeout
	cs, err := newClient(cfg, true)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	return cs, ctx, cancel, nil
}

func filterPrefix(names []string, prefix string) []string {
	sort.Strings(names)
	out := names[:0]
	for i, n := range names {
		if strings.HasPrefix(n, prefix) && (i == 0 || n != names[i-1]) {
			out = append(out, n)
		}
	}
	return out
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

type dsRef struct{ namespace, name string }

// completionDaemonSets lists the DaemonSets of every namespace, from -f when
// given, else from the cluster (one bounded List, reads only).
func (o completer) completionDaemonSets(*cobra.Command) []dsRef {
	var out []dsRef
	if len(o.Filenames) > 0 {
		snap, err := o.completionFiles(collect.Options{})
		if err != nil {
			return nil
		}
		for _, ds := range snap.DaemonSets {
			out = append(out, dsRef{ds.Namespace, ds.Name})
		}
		return out
	}
	cs, ctx, cancel, err := o.completionClient()
	if err != nil {
		return nil
	}
	defer cancel()
	l, err := cs.ListDaemonSets(ctx, "", metav1.ListOptions{Limit: completionLimit})
	if err != nil {
		return nil
	}
	for _, ds := range l.Items {
		out = append(out, dsRef{ds.Namespace, ds.Name})
	}
	return out
}

// completionLimit bounds what a completion lists: a shell shows no more.
const completionLimit = 1000

// completeRequire completes --require NAMESPACE/NAME.
func (o completer) completeRequire(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var refs []string
	for _, ds := range o.completionDaemonSets(cmd) {
		refs = append(refs, ds.namespace+"/"+ds.name)
	}
	return filterPrefix(refs, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeDaemonSetList completes --daemonsets: NAME or NAMESPACE/NAME,
// after the comma-separated values already typed.
func (o completer) completeDaemonSetList(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var refs []string
	for _, ds := range o.completionDaemonSets(cmd) {
		refs = append(refs, ds.name, ds.namespace+"/"+ds.name)
	}
	return commaCompletions(toComplete, refs)
}

// commaCompletions completes the last of comma-separated values from
// candidates, keeping the values already typed.
func commaCompletions(toComplete string, candidates []string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	out := filterPrefix(candidates, last)
	for i := range out {
		out[i] = done + out[i]
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeNodes completes nodes NODE from -f or the cluster, in natural
// order.
func (o completer) completeNodes(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var nodes []string
	if len(o.Filenames) > 0 {
		snap, err := o.completionFiles(collect.Options{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, n := range snap.Nodes {
			nodes = append(nodes, n.Name)
		}
	} else {
		cs, ctx, cancel, err := o.completionClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		l, err := cs.ListNodes(ctx, metav1.ListOptions{Limit: completionLimit})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, n := range l.Items {
			nodes = append(nodes, n.Name)
		}
	}
	nodes = filterPrefix(nodes, toComplete)
	names.Sort(nodes)
	return nodes, cobra.ShellCompDirectiveNoFileComp
}

// completeContexts completes --context from the kubeconfig (no cluster
// access).
func (o completer) completeContexts(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return filterPrefix(o.kubeconfigContexts(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// kubeconfigContexts are the kubeconfig's context names (nil if it cannot
// be read).
func (o completer) kubeconfigContexts() []string {
	cfg, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var ctxs []string
	for name := range cfg.Contexts {
		ctxs = append(ctxs, name)
	}
	return ctxs
}

// completionFiles reads the -f input for completion, but never stdin: the
// shell's stdin is the terminal, and completion must not wait on it.
func (o completer) completionFiles(opts collect.Options) (*model.Snapshot, error) {
	if slices.Contains(o.Filenames, "-") {
		return nil, errors.New("stdin is not read while completing")
	}
	return decode.Files(o.Filenames, strings.NewReader(""), opts)
}
