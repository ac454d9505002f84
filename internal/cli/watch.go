package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/follow"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -w/--watch, and the watch --wait uses: after the first read, a watch
// (collect.Watch) keeps the snapshot current and each change is analysed
// again, the same analysis as a one-shot audit; when the server refuses the
// watch (RBAC without the watch verb), the cluster is polled instead, as
// --wait always did.
//
// Time limits: a one-shot audit and --wait end at --timeout (default 5m). A
// watch runs until Ctrl-C (SIGINT), SIGTERM or an explicit --timeout (its
// first read is bounded like a one-shot audit's), and ends with the exit
// code of the last report (1 when --fail-on selects a finding, 3 for a
// partial report) whichever ends it: `-w --timeout 10m` follows a rollout
// and says how it ended, and a CI job cancelled (SIGTERM) while a rollout is
// still failing must not pass. (`kubectl get -w` exits 0 on Ctrl-C; it has
// no verdict to give.) Interrupted before the first report, it has none:
// exit 3.

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
// watch: the same configuration without an overall request timeout, which
// would cut every watch at --request-timeout; re-lists get that bound
// through their context instead.
func (o *runner) completeWatchClient(cfg *rest.Config, requestTimeoutGiven bool) error {
	if !o.run.follow.watch && !o.run.follow.wait {
		return nil
	}
	cfg = rest.CopyConfig(cfg)
	o.run.follow.requestTimeout = cfg.Timeout
	if cfg.Timeout == 0 && !requestTimeoutGiven {
		o.run.follow.requestTimeout = DefaultRequestTimeout
	}
	cfg.Timeout = 0
	cs, err := collect.NewClient(cfg)
	if err != nil {
		return inputErrorf("creating a client for %s: %v", o.run.src.host, err)
	}
	o.run.follow.client = cs
	return nil
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

// watch is -w: the report, then a line per change until Ctrl-C or an
// explicit --timeout.
func (o *runner) watch(parent context.Context) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := ctx
	if o.run.follow.timeoutGiven {
		var cancel context.CancelFunc
		run, cancel = context.WithTimeout(ctx, o.run.timeout)
		defer cancel()
	}
	// The first read is bounded as a one-shot audit's is.
	read, cancelRead := context.WithTimeout(run, o.run.timeout)
	cur := &collect.Cursor{}
	snap, err := o.snapshot(read, cur)
	cancelRead()
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			return inputErrorf("interrupted before the first report")
		}
		return err
	}
	w := &watchLoop{o: o, memo: &audit.Memo{}, warned: map[string]bool{}, wide: o.run.out.printer.Name == "wide",
		out: bufio.NewWriterSize(o.Out, 64*1024)}
	if err := w.first(snap); err != nil {
		return err
	}
	fc := o.feedConfig()
	fc.Poll = func(ctx context.Context) (*model.Snapshot, error) { return o.snapshot(ctx, nil) }
	fc.Note = func(msg string) {
		if msg == follow.WatchingAgain {
			w.say("Watching again.")
			return
		}
		w.say("Warning: " + msg)
	}
	f := follow.Start(run, fc, snap, cur)
	defer f.Stop()
	w.say(fmt.Sprintf("Watching for changes (%s); Ctrl-C to stop.", f.Mode()))
	for {
		waited := time.Now()
		snap, err := f.Next(run)
		switch {
		case run.Err() != nil:
			if ferr := w.out.Flush(); ferr != nil {
				return inputErrorf("writing the output: %v", ferr)
			}
			// --timeout, Ctrl-C, SIGTERM: how the last report ended.
			return o.exitFor(w.last)
		case err != nil:
			// Polling, and the read failed: say so once, retry.
			if msg := "Warning: read failed, retrying: " + text.OneLine(err.Error()); !w.warned[msg] {
				w.warned[msg] = true
				w.say(msg)
			}
			continue
		}
		if err := w.step(snap, waited); err != nil {
			return err
		}
	}
}

// watchLoop is what -w carries from one analysis to the next.
type watchLoop struct {
	o *runner
	// memo carries each analysis into the next: a change re-analyses the
	// DaemonSets it touches, not the cluster.
	memo   *audit.Memo
	warned map[string]bool
	wide   bool
	out    *bufio.Writer
	// state is what was printed; last what the exit code depends on.
	state *render.WatchState
	last  *report.Report
}

func (w *watchLoop) say(msg string) { fmt.Fprintf(w.o.ErrOut, "%s\n", text.Terminal(msg)) }

// first prints the first report as a one-shot audit does.
func (w *watchLoop) first(snap *model.Snapshot) error {
	o := w.o
	rep, err := o.analyseWith(snap, false, w.memo)
	if err != nil {
		return err
	}
	o.warnOnce(rep, w.warned)
	rep = sortedBy(rep, o.run.out.sortBy)
	if len(rep.DaemonSets) == 0 && o.run.view == render.ViewAudit && o.run.out.printer.Name == render.Default {
		fmt.Fprintf(o.ErrOut, "No daemonsets found %s; watching for some.\n", scopeWords(o.run.src.read.Namespace))
	} else if err := o.print(rep); err != nil {
		return err
	}
	w.state, w.last = render.NewWatchState(rep, w.wide), verdictOf(rep)
	return nil
}

// step analyses a new snapshot and prints a line per change.
func (w *watchLoop) step(snap *model.Snapshot, waited time.Time) error {
	o := w.o
	analysed := time.Now()
	rep, err := o.analyseWith(snap, false, w.memo)
	if err != nil {
		return err
	}
	o.warnOnce(rep, w.warned)
	rep = sortedBy(rep, o.run.out.sortBy)
	next := render.NextWatchState(w.state, rep, w.wide)
	lines := render.WatchChanges(w.state, next)
	for _, line := range lines {
		fmt.Fprintln(w.out, line)
	}
	if err := w.out.Flush(); err != nil {
		return inputErrorf("writing the output: %v", err)
	}
	// -v 4 says what each change cost, as kubectl -v 6 says what each
	// request did.
	klog.V(4).Infof("watch: waited %s (the snapshot included), analysed %d DaemonSets (%d reused) and printed %d lines in %s",
		analysed.Sub(waited).Round(time.Millisecond), w.memo.Analysed, w.memo.Reused, len(lines), time.Since(analysed).Round(time.Millisecond))
	w.state, w.last = next, verdictOf(rep)
	return nil
}

// warnOnce prints the report's warnings that were not printed before.
func (o *runner) warnOnce(rep *report.Report, seen map[string]bool) {
	for _, w := range rep.Warnings {
		if !seen[w] {
			seen[w] = true
			fmt.Fprintf(o.ErrOut, "Warning: %s\n", text.Terminal(w))
		}
	}
}

// verdictOf keeps of a report what its exit code depends on (exitFor), so a
// long watch does not hold a whole report between changes.
func verdictOf(rep *report.Report) *report.Report {
	return &report.Report{Summary: report.Summary{Failing: rep.Summary.Failing}, Partial: rep.Partial,
		DaemonSets: make([]report.DaemonSetReport, min(len(rep.DaemonSets), 1))}
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
