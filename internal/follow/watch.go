package follow

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -w/--watch: after the first read, a watch (watcher.Start) keeps the
// snapshot current and each change is analysed again, the same analysis
// as a one-shot audit; when the server refuses the watch (RBAC without the
// watch verb), the cluster is polled instead, as --wait always did.
//
// Time limits: a one-shot audit and --wait end at --timeout (default 5m). A
// watch runs until Ctrl-C (SIGINT), SIGTERM or an explicit --timeout (its
// first read is bounded like a one-shot audit's), and ends with the exit
// code of the last report (1 when --fail-on selects a finding, 3 for a
// partial report) whichever ends it: `-w --timeout 10m` follows a rollout
// and says how it ended, and a CI job cancelled (SIGTERM) while a rollout is
// still failing must not pass. (`kubectl get -w` exits 0 on Ctrl-C; it has
// no verdict to give.) Interrupted before the first report, it has none.

// WatchConfig is what Watch reads, analyses and prints with.
type WatchConfig struct {
	// Read is a full read; it records in cur (when set) where its lists
	// stood, for the watch to carry on from.
	Read func(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error)
	// Analyse analyses a snapshot carried forward by memo (what did not
	// change is not analysed again) into the report as printed (its
	// problems in the command's order); it prints no warning.
	Analyse func(snap *model.Snapshot, memo *audit.Memo) (*report.Report, error)
	// First prints the first report, as a one-shot audit does.
	First func(rep *report.Report) error
	// Verdict is the exit code's error of the last report, which holds
	// only what a verdict depends on (the failing count, partial, whether
	// there is a DaemonSet).
	Verdict func(last *report.Report) error
	// Feed follows the cluster after the first read (Watch sets its Poll
	// and Note).
	Feed FeedConfig
	// Timeout bounds the first read and, when TimeoutGiven, the watch.
	Timeout      time.Duration
	TimeoutGiven bool
	// Wide: the changes are -o wide rows.
	Wide bool
	// Out gets the changes, ErrOut the messages.
	Out, ErrOut io.Writer
}

// Watch is -w: the first report, then a line per change until Ctrl-C,
// SIGTERM or an explicit --timeout, and the last report's verdict. Errors
// of Read, Analyse, First and Verdict are returned as they are; Watch's own
// (a failed write, interrupted before the first report) are plain errors.
func Watch(parent context.Context, cfg WatchConfig) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := ctx
	if cfg.TimeoutGiven {
		var cancel context.CancelFunc
		run, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	// The first read is bounded as a one-shot audit's is.
	read, cancelRead := context.WithTimeout(run, cfg.Timeout)
	cur := &collect.Cursor{}
	snap, err := cfg.Read(read, cur)
	cancelRead()
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			return fmt.Errorf("interrupted before the first report")
		}
		return err
	}
	w := &watchLoop{cfg: cfg, memo: &audit.Memo{}, warned: map[string]bool{}, out: bufio.NewWriterSize(cfg.Out, 64*1024)}
	if err := w.first(snap); err != nil {
		return err
	}
	fc := cfg.Feed
	fc.Poll = func(ctx context.Context) (*model.Snapshot, error) { return cfg.Read(ctx, nil) }
	fc.Note = func(msg string) {
		if msg == WatchingAgain {
			w.say("Watching again.")
			return
		}
		w.say("Warning: " + msg)
	}
	f := Start(run, fc, snap, cur)
	defer f.Stop()
	w.say(fmt.Sprintf("Watching for changes (%s); Ctrl-C to stop.", f.Mode()))
	for {
		waited := time.Now()
		snap, err := f.Next(run)
		switch {
		case run.Err() != nil:
			if ferr := w.out.Flush(); ferr != nil {
				return fmt.Errorf("writing the output: %v", ferr)
			}
			// --timeout, Ctrl-C, SIGTERM: how the last report ended.
			return cfg.Verdict(w.last)
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
	cfg WatchConfig
	// memo carries each analysis into the next: a change re-analyses the
	// DaemonSets it touches, not the cluster.
	memo   *audit.Memo
	warned map[string]bool
	out    *bufio.Writer
	// state is what was printed; last what the exit code depends on.
	state *render.WatchState
	last  *report.Report
}

func (w *watchLoop) say(msg string) { fmt.Fprintf(w.cfg.ErrOut, "%s\n", text.Terminal(msg)) }

// first prints the first report as a one-shot audit does.
func (w *watchLoop) first(snap *model.Snapshot) error {
	rep, err := w.cfg.Analyse(snap, w.memo)
	if err != nil {
		return err
	}
	w.warnOnce(rep)
	if err := w.cfg.First(rep); err != nil {
		return err
	}
	w.state, w.last = render.NewWatchState(rep, w.cfg.Wide), verdictOf(rep)
	return nil
}

// step analyses a new snapshot and prints a line per change.
func (w *watchLoop) step(snap *model.Snapshot, waited time.Time) error {
	analysed := time.Now()
	rep, err := w.cfg.Analyse(snap, w.memo)
	if err != nil {
		return err
	}
	w.warnOnce(rep)
	next := render.NextWatchState(w.state, rep, w.cfg.Wide)
	lines := render.WatchChanges(w.state, next)
	for _, line := range lines {
		fmt.Fprintln(w.out, line)
	}
	if err := w.out.Flush(); err != nil {
		return fmt.Errorf("writing the output: %v", err)
	}
	// -v 4 says what each change cost, as kubectl -v 6 says what each
	// request did.
	klog.V(4).Infof("watch: waited %s (the snapshot included), analysed %d DaemonSets (%d reused) and printed %d lines in %s",
		analysed.Sub(waited).Round(time.Millisecond), w.memo.Analysed, w.memo.Reused, len(lines), time.Since(analysed).Round(time.Millisecond))
	w.state, w.last = next, verdictOf(rep)
	return nil
}

// warnOnce prints the report's warnings that were not printed before.
func (w *watchLoop) warnOnce(rep *report.Report) {
	for _, msg := range rep.Warnings {
		if !w.warned[msg] {
			w.warned[msg] = true
			fmt.Fprintf(w.cfg.ErrOut, "Warning: %s\n", text.Terminal(msg))
		}
	}
}

// verdictOf keeps of a report what its exit code depends on, so a long
// watch does not hold a whole report between changes.
func verdictOf(rep *report.Report) *report.Report {
	return &report.Report{Summary: report.Summary{Failing: rep.Summary.Failing}, Partial: rep.Partial,
		DaemonSets: make([]report.DaemonSetReport, min(len(rep.DaemonSets), 1))}
}
