// Package complete completes a command's arguments and flag values for the
// shell: DaemonSet names, namespaces, NAMESPACE/NAME references and nodes
// from the -f input when given (never stdin), else from the cluster (one
// bounded list, reads only, within Timeout); kubeconfig contexts without
// touching a cluster.
package complete

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
	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
)

// Timeout keeps shell completion snappy on a slow cluster.
const Timeout = 5 * time.Second

// Completer completes a command's arguments and flag values from its
// input: the -f files when given, else the cluster.
type Completer struct {
	Config *kubeflags.ConfigFlags
	// Files are the command's -f values, as parsed when completing.
	Files *[]string
}

// files are the -f values (none when the command has no -f).
func (o Completer) files() []string {
	if o.Files == nil {
		return nil
	}
	return *o.Files
}

// Names completes DaemonSet names: from the -f input when given, else
// from the cluster (the -n namespace, or the context's).
func (o Completer) Names(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns := ""
	if cmd.Flags().Changed("namespace") {
		ns = o.Config.Namespace()
	}
	var names []string
	if len(o.files()) > 0 {
		snap, err := o.readFiles(collect.Options{Namespace: ns})
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
			ns, _, _ = o.Config.ToRawKubeConfigLoader().Namespace()
		}
		cs, ctx, cancel, err := o.client()
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

// Namespaces completes -n: with -f, the namespaces of the input's
// DaemonSets; else the cluster's namespaces.
func (o Completer) Namespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(o.files()) > 0 {
		var nss []string
		for _, ds := range o.daemonSets(cmd) {
			nss = append(nss, ds.namespace)
		}
		return filterPrefix(nss, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	cs, ctx, cancel, err := o.client()
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

// client returns a client and context bounded by
// Timeout, so that completion never hangs a shell.
func (o Completer) client() (collect.Client, context.Context, context.CancelFunc, error) {
	cfg, err := o.Config.ToRESTConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Timeout = Timeout
	cs, err := collect.NewClient(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
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

type dsRef struct{ namespace, name string }

// daemonSets lists the DaemonSets of every namespace, from -f when
// given, else from the cluster (one bounded List, reads only).
func (o Completer) daemonSets(*cobra.Command) []dsRef {
	var out []dsRef
	if len(o.files()) > 0 {
		snap, err := o.readFiles(collect.Options{})
		if err != nil {
			return nil
		}
		for _, ds := range snap.DaemonSets {
			out = append(out, dsRef{ds.Namespace, ds.Name})
		}
		return out
	}
	cs, ctx, cancel, err := o.client()
	if err != nil {
		return nil
	}
	defer cancel()
	l, err := cs.ListDaemonSets(ctx, "", metav1.ListOptions{Limit: listLimit})
	if err != nil {
		return nil
	}
	for _, ds := range l.Items {
		out = append(out, dsRef{ds.Namespace, ds.Name})
	}
	return out
}

// listLimit bounds what a completion lists: a shell shows no more.
const listLimit = 1000

// Require completes --require NAMESPACE/NAME.
func (o Completer) Require(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var refs []string
	for _, ds := range o.daemonSets(cmd) {
		refs = append(refs, ds.namespace+"/"+ds.name)
	}
	return filterPrefix(refs, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// DaemonSetList completes --daemonsets: NAME or NAMESPACE/NAME,
// after the comma-separated values already typed.
func (o Completer) DaemonSetList(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var refs []string
	for _, ds := range o.daemonSets(cmd) {
		refs = append(refs, ds.name, ds.namespace+"/"+ds.name)
	}
	return commaList(toComplete, refs)
}

// commaList completes the last of comma-separated values from
// candidates, keeping the values already typed.
func commaList(toComplete string, candidates []string) ([]string, cobra.ShellCompDirective) {
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

// Nodes completes nodes NODE from -f or the cluster, in natural
// order.
func (o Completer) Nodes(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var nodes []string
	if len(o.files()) > 0 {
		snap, err := o.readFiles(collect.Options{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, n := range snap.Nodes {
			nodes = append(nodes, n.Name)
		}
	} else {
		cs, ctx, cancel, err := o.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		l, err := cs.ListNodes(ctx, metav1.ListOptions{Limit: listLimit})
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

// Contexts completes --context from the kubeconfig (no cluster
// access).
func (o Completer) Contexts(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return filterPrefix(o.kubeconfigContexts(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// ContextList completes --contexts: context names from the kubeconfig (no
// cluster access), after the comma-separated ones typed.
func (o Completer) ContextList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return commaList(toComplete, o.kubeconfigContexts())
}

// kubeconfigContexts are the kubeconfig's context names (nil if it cannot
// be read).
func (o Completer) kubeconfigContexts() []string {
	cfg, err := o.Config.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var ctxs []string
	for name := range cfg.Contexts {
		ctxs = append(ctxs, name)
	}
	return ctxs
}

// readFiles reads the -f input for completion, but never stdin: the
// shell's stdin is the terminal, and completion must not wait on it.
func (o Completer) readFiles(opts collect.Options) (*model.Snapshot, error) {
	if slices.Contains(o.files(), "-") {
		return nil, errors.New("stdin is not read while completing")
	}
	return decode.Files(o.files(), strings.NewReader(""), opts)
}
