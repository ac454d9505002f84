package follow

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// WaitConfig is what Wait reads, analyses and says progress with.
type WaitConfig struct {
	// Read is a full read; it records in cur (when set) where its lists
	// stood, for the watch to carry on from.
	Read func(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error)
	// Analyse analyses a snapshot; warn prints the report's warnings.
	Analyse func(snap *model.Snapshot, warn bool) (*report.Report, error)
	// Fatal says a read's error is not retried (a usage error: following
	// the cluster cannot fix it).
	Fatal func(error) bool
	// Feed follows the cluster after the first read (Wait sets its Poll
	// and Note); its Interval also spaces the retries of the first read.
	Feed FeedConfig
	// Timeout is the run's --timeout, which ctx's deadline is; it words
	// the messages.
	Timeout time.Duration
	// Out gets the progress. Width, when set (Out is a terminal), gives
	// its width: one line, updated in place; else a line per change.
	Out   io.Writer
	Width func() int
}

// Wait re-audits until no failing finding remains or ctx's deadline
// (--timeout) passes, and returns the last report. After the first read it
// watches the cluster, analysing each change, or, when the server refuses
// the watch (RBAC without the watch verb), polls every Interval; the
// progress line says which. Progress goes to Out (stderr): one updating
// line on a terminal, cut to its width, else a line each time the state
// changes (as kubectl rollout status does), never to stdout. A read that
// fails (API server restarting during an upgrade) is retried until the
// deadline; the watches reconnect by themselves. Errors of Read and
// Analyse are returned as they are; Wait's own (no read succeeded before
// the deadline) are plain errors.
func Wait(ctx context.Context, cfg WaitConfig) (*report.Report, error) {
	start := time.Now()
	st := &status{out: cfg.Out, width: cfg.Width}
	defer st.end()
	say := st.say
	converged := func(rep *report.Report) bool {
		if rep.Summary.Failing == 0 && !rep.Partial && inFlight(rep) == "" {
			say(fmt.Sprintf("daemon coverage converged after %s", time.Since(start).Round(time.Second)))
			return true
		}
		return false
	}

	// The first read, retried until it succeeds.
	var snap *model.Snapshot
	cur := &collect.Cursor{}
	for {
		var err error
		snap, err = cfg.Read(ctx, cur)
		switch {
		case err == nil:
		case cfg.Fatal(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, fmt.Errorf("timed out after %s waiting for daemon coverage before any read succeeded; the last read failed: %v", cfg.Timeout, err)
		default:
			say(fmt.Sprintf("Waiting for daemon coverage: read failed, retrying: %v", err))
			select {
			case <-ctx.Done():
			case <-time.After(cfg.Feed.Interval):
			}
			continue
		}
		break
	}
	last, err := cfg.Analyse(snap, true)
	if err != nil || converged(last) {
		return last, err
	}

	fc := cfg.Feed
	fc.Poll = func(ctx context.Context) (*model.Snapshot, error) { return cfg.Read(ctx, nil) }
	fc.Note = func(msg string) { say("Waiting for daemon coverage: " + msg) }
	f := Start(ctx, fc, snap, cur)
	defer f.Stop()
	say(fmt.Sprintf("Waiting for daemon coverage (%s): %s", f.Mode(), progressLine(last)))
	for {
		snap, err := f.Next(ctx)
		switch {
		case ctx.Err() != nil:
			// The deadline: report the last full pass.
			say(fmt.Sprintf("timed out after %s waiting for daemon coverage: %s", cfg.Timeout, progressLine(last)))
			return last, nil
		case err != nil:
			say(fmt.Sprintf("Waiting for daemon coverage (%s): read failed, retrying: %v", f.Mode(), err))
			continue
		}
		rep, err := cfg.Analyse(snap, false)
		if err != nil {
			return nil, err
		}
		last = rep
		if converged(rep) {
			return rep, nil
		}
		say(fmt.Sprintf("Waiting for daemon coverage (%s): %s", f.Mode(), progressLine(rep)))
	}
}

// status is --wait's progress: on a terminal (width set) one line updated
// in place, else a line each time it changes.
type status struct {
	out   io.Writer
	width func() int
	last  string
}

func (s *status) say(line string) {
	line = text.Terminal(line) // it may quote the server
	if line == s.last {
		return
	}
	s.last = line
	if s.width != nil {
		fmt.Fprintf(s.out, "\r\033[K%s", fitWidth(line, s.width()))
	} else {
		fmt.Fprintln(s.out, line)
	}
}

// end ends the line updated in place.
func (s *status) end() {
	if s.width != nil && s.last != "" {
		fmt.Fprintln(s.out)
	}
}

// progressLine summarizes the failing findings by type, as the gate stamped
// them: the counts are the gate's own (a finding --fail-on does not select is
// not counted).
func progressLine(rep *report.Report) string {
	dss := 0
	for i := range rep.DaemonSets {
		for j := range rep.DaemonSets[i].Findings {
			if rep.DaemonSets[i].Findings[j].Failing {
				dss++
				break
			}
		}
	}
	var parts []string
	for _, ti := range report.Catalog {
		if n := rep.Summary.FailingByType[ti.Type]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, ti.Type))
		}
	}
	s := fmt.Sprintf("%s in %s", plural(rep.Summary.Failing, "failing finding", "failing findings"), plural(dss, "DaemonSet", "DaemonSets"))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if rep.Partial {
		s += "; report partial"
	}
	if f := inFlight(rep); f != "" {
		s += "; " + f
	}
	return s
}

// inFlight says what the DaemonSet controller is still doing ("" when
// nothing): a DaemonSet whose status is behind its spec, daemon Pods being
// deleted. --wait does not call coverage converged meanwhile: a rollout
// passes through moments where old Pods are going and new ones are not yet
// created, with no failing finding (a watch sees those moments).
func inFlight(rep *report.Report) string {
	stale, terminating := 0, 0
	for i := range rep.DaemonSets {
		ds := &rep.DaemonSets[i]
		if ds.Status.ObservedGeneration < ds.Generation {
			stale++
		}
		for j := range ds.Nodes {
			for _, p := range ds.Nodes[j].Pods {
				if p.State == "Terminating" {
					terminating++
				}
			}
		}
	}
	var parts []string
	if stale > 0 {
		parts = append(parts, plural(stale, "DaemonSet status behind its spec", "DaemonSet statuses behind their spec"))
	}
	if terminating > 0 {
		parts = append(parts, plural(terminating, "daemon Pod terminating", "daemon Pods terminating"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "the DaemonSet controller is mid-change (" + strings.Join(parts, ", ") + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fitWidth cuts s to fit width columns with an ellipsis, so that a
// "\r"-updated line never wraps (a wrapped line cannot be redrawn).
func fitWidth(s string, width int) string {
	if width <= 1 {
		return s
	}
	r := []rune(s)
	if len(r) < width {
		return s
	}
	return string(r[:width-2]) + "…"
}
