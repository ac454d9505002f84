// Command listfloor is the benchmark's floor (e): a raw paginated protobuf
// list of exactly the objects kubectl-daemoncheck needs (DaemonSets, Nodes,
// each DaemonSet's Pods by its label selector, its ControllerRevisions),
// decoded into typed objects and discarded page by page. No trimming, no
// analysis, no output. It prints the object counts on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig")
	chunk := flag.Int64("chunk-size", 500, "page size")
	parallel := flag.Int("parallel", 1, "concurrent list calls (1: one list after another)")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	var counts sync.Map
	count := func(kind string, n int) {
		v, _ := counts.LoadOrStore(kind, new(int64))
		p := v.(*int64)
		mu.Lock()
		*p += int64(n)
		mu.Unlock()
	}
	pages := func(kind string, list func(metav1.ListOptions) (int, string, error), opts metav1.ListOptions) {
		opts.Limit = *chunk
		for {
			n, cont, err := list(opts)
			if err != nil {
				fail(fmt.Errorf("%s: %w", kind, err))
			}
			count(kind, n)
			if cont == "" {
				return
			}
			opts.Continue = cont
		}
	}
	var dss []appsv1.DaemonSet
	pages("daemonsets", func(o metav1.ListOptions) (int, string, error) {
		l, err := cs.AppsV1().DaemonSets("").List(ctx, o)
		if err != nil {
			return 0, "", err
		}
		dss = append(dss, l.Items...)
		return len(l.Items), l.Continue, nil
	}, metav1.ListOptions{})

	jobs := []func(){func() {
		pages("nodes", func(o metav1.ListOptions) (int, string, error) {
			l, err := cs.CoreV1().Nodes().List(ctx, o)
			if err != nil {
				return 0, "", err
			}
			return len(l.Items), l.Continue, nil
		}, metav1.ListOptions{})
	}}
	for i := range dss {
		ds := &dss[i]
		sel := metav1.FormatLabelSelector(ds.Spec.Selector)
		jobs = append(jobs, func() {
			pages("pods", func(o metav1.ListOptions) (int, string, error) {
				l, err := cs.CoreV1().Pods(ds.Namespace).List(ctx, o)
				if err != nil {
					return 0, "", err
				}
				return len(l.Items), l.Continue, nil
			}, metav1.ListOptions{LabelSelector: sel})
		}, func() {
			pages("controllerrevisions", func(o metav1.ListOptions) (int, string, error) {
				l, err := cs.AppsV1().ControllerRevisions(ds.Namespace).List(ctx, o)
				if err != nil {
					return 0, "", err
				}
				return len(l.Items), l.Continue, nil
			}, metav1.ListOptions{LabelSelector: sel})
		})
	}
	if *parallel <= 1 {
		for _, j := range jobs {
			j()
		}
	} else {
		sem := make(chan struct{}, *parallel)
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				j()
			}()
		}
		wg.Wait()
	}
	fmt.Fprintf(os.Stderr, "daemonsets=%d", len(dss))
	for _, k := range []string{"nodes", "pods", "controllerrevisions"} {
		if v, ok := counts.Load(k); ok {
			fmt.Fprintf(os.Stderr, " %s=%d", k, *v.(*int64))
		}
	}
	fmt.Fprintln(os.Stderr)
}

var mu sync.Mutex

func fail(err error) {
	fmt.Fprintln(os.Stderr, "listfloor:", err)
	os.Exit(1)
}
