package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// wait re-audits until no finding selected by --fail-on remains or --timeout
// passes, and returns the last report. Progress goes to stderr: one updating
// line on a terminal, else a line each time the state changes (as kubectl
// rollout status does), never to stdout. A read that fails midway (API server
// restarting during an upgrade) is retried until the timeout.
func (o *CheckOptions) wait(ctx context.Context) (*report.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	var last *report.Report
	lastLine := ""
	say := func(line string) {
		if line == lastLine {
			return
		}
		lastLine = line
		if o.showProgress {
			fmt.Fprintf(o.ErrOut, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(o.ErrOut, line)
		}
	}
	defer func() {
		if o.showProgress && lastLine != "" {
			fmt.Fprintln(o.ErrOut)
		}
	}()
	for first := true; ; first = false {
		rep, err := o.audit(ctx, first)
		var ee *ExitError
		switch {
		case err == nil:
			last = rep
			if rep.Summary.Failing == 0 && !rep.Partial {
				say(fmt.Sprintf("daemon coverage converged after %s", time.Since(start).Round(time.Second)))
				return rep, nil
			}
			say("Waiting for daemon coverage: " + progressLine(rep))
		case errors.As(err, &ee) && ee.Code == ExitUsage:
			return nil, err
		case ctx.Err() != nil && last != nil:
			// The deadline fell during a read: report the last full pass.
		default:
			say(fmt.Sprintf("Waiting for daemon coverage: read failed, retrying: %v", err))
			if ctx.Err() != nil {
				return nil, inputErrorf("timed out after %s waiting for daemon coverage; the last read failed: %v", o.Timeout, err)
			}
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return nil, inputErrorf("timed out after %s waiting for daemon coverage before any read succeeded", o.Timeout)
			}
			say(fmt.Sprintf("timed out after %s waiting for daemon coverage: %s", o.Timeout, progressLine(last)))
			return last, nil
		case <-time.After(o.Interval):
		}
	}
}

// progressLine summarizes failing findings by type.
func progressLine(rep *report.Report) string {
	byType := map[report.FindingType]int{}
	dss := 0
	for i := range rep.DaemonSets {
		n := 0
		for j := range rep.DaemonSets[i].Findings {
			f := &rep.DaemonSets[i].Findings[j]
			if f.Active() {
				byType[f.Type]++
				n++
			}
		}
		if n > 0 {
			dss++
		}
	}
	var parts []string
	for t, n := range byType {
		parts = append(parts, fmt.Sprintf("%d %s", n, t))
	}
	sort.Strings(parts)
	s := fmt.Sprintf("%d failing findings in %d DaemonSets", rep.Summary.Failing, dss)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if rep.Partial {
		s += "; report partial"
	}
	return s
}
