package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/follow"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -w and --wait follow the cluster after the first read (package follow):
// here are their flags and how they are resolved, and the run's read,
// analysis and printing they are given.

// Debounce: a change that arrives after the watch was quiet for watchQuiet
// is analysed at once, so a single change is printed one analysis after it
// arrives; the analysis is carried forward (audit.Memo), so a Pod's
// change re-analyses its DaemonSet, not the cluster (BenchmarkWatchStep:
// 5,000 nodes x 20 DaemonSets, test/bench/RESULTS.md).
// Changes that keep coming (a rollout, a node pool joining, changes during
// the previous analysis) are batched: the next analysis waits until they
// pause for watchQuiet, or watchMaxDelay has passed since the first, so a
// burst costs a few analyses, not one per object.
const (
	watchQuiet    = 50 * time.Millisecond
	watchMaxDelay = 250 * time.Millisecond
)

// followConfig is what -w and --wait follow the cluster with.
type followConfig struct {
	// watch is -w/--watch; timeoutGiven says --timeout was set explicitly.
	watch, timeoutGiven bool
	// wait is --wait; interval the period of re-reads and re-analyses.
	wait     bool
	interval time.Duration
	// client watches: it has no overall request timeout (a watch is one
	// long request); requestTimeout bounds each list of a re-list. nil:
	// nothing to watch (offline), poll.
	client         collect.Client
	requestTimeout time.Duration
}

// completeFollow checks -w against the other flags and resolves it.
func (o *followFlags) complete(cmd *cobra.Command, run *runConfig, src *sourceFlags) error {
	run.follow.watch = o.Watch
	run.follow.timeoutGiven = cmd.Flags().Changed("timeout")
	if !o.Watch {
		return nil
	}
	switch {
	case o.Wait:
		return usageErrorf("-w/--watch and --wait cannot be combined: -w prints changes until Ctrl-C, --wait waits for the findings to clear; drop one")
	case len(src.Filenames) > 0:
		return usageErrorf("-w/--watch follows the cluster and cannot be used with -f; drop one")
	case src.NowFlag != "" && src.NowFlag != NowWall:
		return usageErrorf("-w/--watch uses the current time and cannot be used with --now")
	case run.out.printer.Name != render.Default && run.out.printer.Name != "wide":
		return usageErrorf("-w/--watch prints changes as table rows: use the default output or -o wide, not -o %s", run.out.printer.Name)
	case o.Interval < MinInterval:
		return usageErrorf("--interval must be at least %s, got %s", MinInterval, o.Interval)
	case len(run.out.files) > 0:
		return usageErrorf("-w/--watch cannot be combined with --output-file (a file would be rewritten on every change); drop one")
	}
	return nil
}

// completeWatchClient builds the client that watches, when -w or --wait may
// watch (newWatchClient).
func (o *runner) completeWatchClient(cfg *rest.Config, requestTimeoutGiven bool) error {
	if !o.run.follow.watch && !o.run.follow.wait {
		return nil
	}
	cs, timeout, err := newWatchClient(cfg, requestTimeoutGiven)
	if err != nil {
		return inputErrorf("creating a client for %s: %v", o.run.src.host, err)
	}
	o.run.follow.client, o.run.follow.requestTimeout = cs, timeout
	return nil
}

// newWatchClient is the client that watches (-w, --wait, serve): cfg
// without an overall request timeout, which would cut every watch at
// --request-timeout. Each list of a re-list gets that bound through its
// context instead: the returned timeout (--request-timeout, or kubectl's
// default when it is not given; an explicit 0 is no limit).
func newWatchClient(cfg *rest.Config, requestTimeoutGiven bool) (collect.Client, time.Duration, error) {
	timeout := cfg.Timeout
	if timeout == 0 && !requestTimeoutGiven {
		timeout = DefaultRequestTimeout
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 0
	cs, err := collect.NewClient(cfg)
	return cs, timeout, err
}

// feedConfig is how -w and --wait follow the cluster after the first read:
// a watch, or polling every --interval (the caller sets Poll and Note).
func (o *runner) feedConfig() follow.FeedConfig {
	wait := o.run.follow.requestTimeout
	if wait <= 0 {
		wait = DefaultRequestTimeout
	}
	return follow.FeedConfig{
		Client: o.run.follow.client, Read: o.run.src.read, RequestTimeout: o.run.follow.requestTimeout, OpenTimeout: wait,
		Interval: o.run.follow.interval, Quiet: watchQuiet, MaxDelay: watchMaxDelay, Host: o.run.src.host,
	}
}

// watch is -w (follow.Watch): the report, then a line per change until
// Ctrl-C, SIGTERM or an explicit --timeout, and the last report's exit code.
func (o *runner) watch(ctx context.Context) error {
	err := follow.Watch(ctx, follow.WatchConfig{
		Read: o.snapshot,
		Analyse: func(snap *model.Snapshot, memo *audit.Memo) (*report.Report, error) {
			rep, err := o.analyseWith(snap, false, memo)
			if err != nil {
				return nil, err
			}
			return sortedBy(rep, o.run.out.sortBy), nil
		},
		First:        o.printFirst,
		Verdict:      o.exitFor,
		Feed:         o.feedConfig(),
		Timeout:      o.run.timeout,
		TimeoutGiven: o.run.follow.timeoutGiven,
		Wide:         o.run.out.printer.Name == "wide",
		Out:          o.Out,
		ErrOut:       o.ErrOut,
	})
	var ee *ExitError
	if err != nil && !errors.As(err, &ee) {
		// Watch's own: a failed write, interrupted before the first report.
		return inputErrorf("%v", err)
	}
	return err
}

// printFirst prints -w's first report as a one-shot audit does; without a
// DaemonSet, the watch says it waits for some.
func (o *runner) printFirst(rep *report.Report) error {
	if len(rep.DaemonSets) == 0 && o.run.view == render.ViewAudit && o.run.out.printer.Name == render.Default {
		fmt.Fprintf(o.ErrOut, "No daemonsets found %s; watching for some.\n", scopeWords(o.run.src.read.Namespace))
		return nil
	}
	return o.print(rep)
}

func scopeWords(ns string) string {
	if ns == "" {
		return "in any namespace"
	}
	return "in namespace " + ns
}

// errIsUsage reports whether err is a usage error (a policy that no longer
// fits the DaemonSets, ...): following the cluster cannot fix it.
func errIsUsage(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Code == ExitUsage
}
