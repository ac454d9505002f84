package cmd

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/daemoncheck/daemoncheck/pkg/collect"
	"github.com/daemoncheck/daemoncheck/pkg/internal/printer"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// completionTimeout keeps shell completion snappy on a slow cluster.
const completionTimeout = 5 * time.Second

// completeNames completes DaemonSet names: from the -f input when given, else
// from the cluster (the -n namespace, or the context's).
func (o *CheckOptions) completeNames(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns := ""
	if cmd.Flags().Changed("namespace") {
		ns = *o.ConfigFlags.Namespace
	}
	var names []string
	if len(o.Filenames) > 0 {
		snap, err := collect.Files(o.Filenames, o.In, collect.Options{Namespace: ns})
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
		l, err := cs.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		for _, ds := range l.Items {
			names = append(names, ds.Name)
		}
	}
	return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces completes -n from the cluster's namespaces.
func (o *CheckOptions) completeNamespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	cs, ctx, cancel, err := o.completionClient()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
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
func (o *CheckOptions) completionClient() (kubernetes.Interface, context.Context, context.CancelFunc, error) {
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
func registerOutputCompletion(cmd *cobra.Command, view printer.View) {
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return printer.Completions(view), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// registerGateCompletion completes --fail-on and --ignore from the finding
// catalog (on the command that owns these persistent flags).
func registerGateCompletion(cmd *cobra.Command) {
	types := make([]string, 0, len(report.Catalog))
	for _, ti := range report.Catalog {
		types = append(types, string(ti.Type)+"\t"+ti.Doc)
	}
	failOn := append([]string{"error\tfindings of severity error", "warning\tevery finding", report.FailOnNone + "\tnever fail on findings"}, types...)
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(failOn, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("ignore", cobra.FixedCompletions(types, cobra.ShellCompDirectiveNoFileComp))
}
