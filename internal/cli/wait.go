package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// wait re-audits until no failing finding remains or the run's deadline
// (--timeout) passes, and returns the last report. After the first read it
// watches the cluster, analysing each change, or, when the server refuses
// the watch (RBAC without the watch verb), polls every --interval; the
// progress line says which. Progress goes to stderr: one updating line on a
// terminal, cut to its width, else a line each time the state changes (as
// kubectl rollout status does), never to stdout. A read that fails (API
// server restarting during an upgrade) is retried until the deadline; the
// watches reconnect by themselves.
func (o *runner) wait(ctx context.Context) (*report.Report, error) {
	start := time.Now()
	lastLine := ""
	say := func(line string) {
		line = text.Terminal(line) // it may quote the server
		if line == lastLine {
			return
		}
		lastLine = line
		if o.run.out.progress {
			fmt.Fprintf(o.ErrOut, "\r\033[K%s", fitWidth(line, terminalWidth(o.ErrOut)))
		} else {
			fmt.Fprintln(o.ErrOut, line)
		}
	}
	defer func() {
		if o.run.out.progress && lastLine != "" {
			fmt.Fprintln(o.ErrOut)
		}
	}()
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
		snap, err = o.snapshot(ctx, cur)
		switch {
		case err == nil:
		case errIsUsage(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, inputErrorf("timed out after %s waiting for daemon coverage before any read succeeded; the last read failed: %v", o.run.timeout, err)
		default:
			say(fmt.Sprintf("Waiting for daemon coverage: read failed, retrying: %v", err))
			select {
			case <-ctx.Done():
			case <-time.After(o.run.follow.interval):
			}
			continue
		}
		break
	}
	last, err := o.analyse(snap, true)
	if err != nil || converged(last) {
		return last, err
	}

	f := o.startFeed(ctx, snap, cur, func(msg string) { say("Waiting for daemon coverage: " + msg) })
	defer f.Stop()
	say(fmt.Sprintf("Waiting for daemon coverage (%s): %s", f.Mode(), progressLine(last)))
	for {
		snap, err := f.Next(ctx)
		switch {
		case ctx.Err() != nil:
			// The deadline: report the last full pass.
			say(fmt.Sprintf("timed out after %s waiting for daemon coverage: %s", o.run.timeout, progressLine(last)))
			return last, nil
		case err != nil:
			say(fmt.Sprintf("Waiting for daemon coverage (%s): read failed, retrying: %v", f.Mode(), err))
			continue
		}
		rep, err := o.analyse(snap, false)
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

// terminalWidth is the width of the terminal w writes to (0 if unknown).
func terminalWidth(w any) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
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
