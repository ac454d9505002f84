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
	"k8s.io/utils/clock"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/follow"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
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
	case run.printer.Name != render.Default && run.printer.Name != "wide":
		return usageErrorf("-w/--watch prints changes as table rows: use the default output or -o wide, not -o %s", run.printer.Name)
	case o.Interval < MinInterval:
		return usageErrorf("--interval must be at least %s, got %s", MinInterval, o.Interval)
	case len(run.outputFiles) > 0:
		return usageErrorf("-w/--watch cannot be combined with --output-file (a file would be rewritten on every change); drop one")
	}
	return nil
}

// completeWatchClient builds the client that watches, when -w or --wait may
// watch: the same configuration without an overall request timeout, which
// would cut every watch at --request-timeout; re-lists get that bound
// through their context instead.
func (o *runner) completeWatchClient(cfg *rest.Config, requestTimeoutGiven bool) error {
	if !o.run.follow.watch && !o.run.wait {
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
		return inputErrorf("creating a client for %s: %v", o.run.host, err)
	}
	o.run.follow.client = cs
	return nil
}

// feed yields the snapshots after the first read: from a watch, or, when
// the server refuses one, by polling every --interval.
type feed struct {
	o     *runner
	w     *collect.Watcher
	clk   clock.Clock
	notes chan string
	// note says what happened to the watch (refused, interrupted, back).
	note func(string)
}

// startFeed starts watching from the read that produced snap (cur says
// where its lists stood), or, when watching is not possible, polling.
func (o *runner) startFeed(ctx context.Context, snap *model.Snapshot, cur *collect.Cursor, note func(string)) *feed {
	f := &feed{o: o, clk: clock.RealClock{}, notes: make(chan string, 8), note: note}
	if o.run.follow.client == nil {
		return f
	}
	w, err := collect.Watch(ctx, o.run.follow.client, snap, cur, collect.WatchOptions{
		Read: o.run.read, RequestTimeout: o.run.follow.requestTimeout, Status: f.status,
	})
	if err != nil {
		note(fmt.Sprintf("cannot watch: %v; %s", err, f.mode()))
		return f
	}
	// A refused watch is refused at once; a server that does not answer
	// is retried by the watches themselves.
	wait := o.run.follow.requestTimeout
	if wait <= 0 {
		wait = DefaultRequestTimeout
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.Ready():
	case <-t.C:
	case <-ctx.Done():
	case <-w.Failed():
		w.Stop()
		note(fmt.Sprintf("%s; %s", w.Err(), f.mode()))
		return f
	}
	f.w = w
	return f
}

// status is told by the watches when they are interrupted and when they are
// back; the message is passed to the goroutine that prints.
func (f *feed) status(err error) {
	msg := watchingAgain
	if err != nil {
		msg = fmt.Sprintf("watch interrupted (%s); reconnecting", text.OneLine(err.Error()))
	}
	select {
	case f.notes <- msg:
	default:
	}
}

// watchingAgain is the note that interrupted watches are back.
const watchingAgain = "watching again"

// mode is what the progress line says: "watching" or "polling every 5s".
func (f *feed) mode() string {
	if f.w != nil {
		return "watching"
	}
	return fmt.Sprintf("polling every %s", f.o.run.interval)
}

func (f *feed) stop() {
	if f.w != nil {
		f.w.Stop()
	}
}

// next waits for something new to analyse and returns the snapshot. When
// watching: a change (debounced), or --interval without one (findings
// change with time too: --grace, minReadySeconds). When polling: --interval,
// then a new read, whose error is returned (the caller retries). On ctx's
// end it returns ctx's error.
func (f *feed) next(ctx context.Context) (*model.Snapshot, error) {
	for {
		idleSince := f.clk.Now()
		tick := f.clk.NewTimer(f.o.run.interval)
		var failed, changed <-chan struct{}
		if f.w != nil {
			failed, changed = f.w.Failed(), f.w.Changed()
		}
		select {
		case <-ctx.Done():
			tick.Stop()
			return nil, ctx.Err()
		case msg := <-f.notes:
			tick.Stop()
			f.note(msg)
			continue
		case <-failed:
			tick.Stop()
			err := f.w.Err()
			f.w.Stop()
			f.w = nil
			f.note(fmt.Sprintf("%s; %s", err, f.mode()))
			continue
		case <-changed:
			tick.Stop()
			follow.Coalesce(ctx, f.clk, changed, f.clk.Since(idleSince), watchQuiet, watchMaxDelay)
		case <-tick.C():
		}
		if f.w != nil {
			// The watch's objects get the amount check a full read gets
			// (snapshot): a wrapped quantity must not pass a gate here.
			snap := f.w.Snapshot()
			if err := capacity.CheckSnapshot(snap); err != nil {
				return nil, inputErrorf("the cluster at %s: %v", f.o.run.host, err)
			}
			return snap, nil
		}
		return f.o.snapshot(ctx, nil)
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
	// The memo carries each analysis into the next: a change re-analyses
	// the DaemonSets it touches, not the cluster.
	memo := &audit.Memo{}
	rep, err := o.analyseWith(snap, false, memo)
	if err != nil {
		return err
	}
	warned := map[string]bool{}
	o.warnOnce(rep, warned)
	rep = sortedBy(rep, o.run.sortBy)
	if len(rep.DaemonSets) == 0 && o.run.view == render.ViewAudit && o.run.printer.Name == render.Default {
		fmt.Fprintf(o.ErrOut, "No daemonsets found %s; watching for some.\n", scopeWords(o.run.read.Namespace))
	} else if err := o.print(rep); err != nil {
		return err
	}
	wide := o.run.printer.Name == "wide"
	state := render.NewWatchState(rep, wide)
	last := verdictOf(rep)
	rep = nil

	say := func(msg string) { fmt.Fprintf(o.ErrOut, "%s\n", text.Terminal(msg)) }
	f := o.startFeed(run, snap, cur, func(msg string) {
		if msg == watchingAgain {
			say("Watching again.")
			return
		}
		say("Warning: " + msg)
	})
	defer f.stop()
	say(fmt.Sprintf("Watching for changes (%s); Ctrl-C to stop.", f.mode()))

	out := bufio.NewWriterSize(o.Out, 64*1024)
	for {
		waited := time.Now()
		snap, err := f.next(run)
		switch {
		case run.Err() != nil:
			if ferr := out.Flush(); ferr != nil {
				return inputErrorf("writing the output: %v", ferr)
			}
			// --timeout, Ctrl-C, SIGTERM: how the last report ended.
			return o.exitFor(last)
		case err != nil:
			// Polling, and the read failed: say so once, retry.
			if msg := "Warning: read failed, retrying: " + text.OneLine(err.Error()); !warned[msg] {
				warned[msg] = true
				say(msg)
			}
			continue
		}
		analysed := time.Now()
		rep, err := o.analyseWith(snap, false, memo)
		if err != nil {
			return err
		}
		o.warnOnce(rep, warned)
		rep = sortedBy(rep, o.run.sortBy)
		next := render.NextWatchState(state, rep, wide)
		lines := render.WatchChanges(state, next)
		for _, line := range lines {
			fmt.Fprintln(out, line)
		}
		if err := out.Flush(); err != nil {
			return inputErrorf("writing the output: %v", err)
		}
		// -v 4 says what each change cost, as kubectl -v 6 says what each
		// request did.
		klog.V(4).Infof("watch: waited %s (the snapshot included), analysed %d DaemonSets (%d reused) and printed %d lines in %s",
			analysed.Sub(waited).Round(time.Millisecond), memo.Analysed, memo.Reused, len(lines), time.Since(analysed).Round(time.Millisecond))
		state, last = next, verdictOf(rep)
	}
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
