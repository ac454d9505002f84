package serve

import (
	"context"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/watcher"
	"github.com/daemoncheck/daemoncheck/internal/follow"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"k8s.io/utils/clock"
)

// Debounce, as -w does it (internal/follow) but slower to settle: a
// change after a quiet spell is analysed at once; changes that keep coming
// (a rollout, a pool joining) are batched until they pause for
// settleQuiet or settleMax has passed, so a burst costs a few analyses.
// Nobody reads metrics faster than a scrape interval.
const (
	settleQuiet = 100 * time.Millisecond
	settleMax   = time.Second
	// maxWarnings bounds the warnings remembered as already logged.
	maxWarnings = 1000
)

// follower is the analysis loop's own state: only the loop goroutine
// touches it.
type follower struct {
	s      *Server
	pol    *policy.Policy
	memo   *audit.Memo
	files  *fileWatch
	warned map[string]bool
	w      *watcher.Watcher
}

// follow reads the cluster, then keeps the analysis current until ctx ends:
// on each change the watches report, every Interval (findings change with
// time: --grace, minReadySeconds, rollout progress), and when the policy
// files change. Nothing here ends the process: a read that fails is
// retried, and readiness says so meanwhile.
func (s *Server) follow(ctx context.Context) {
	f := &follower{s: s, memo: &audit.Memo{}, files: newFileWatch(s.cfg.PolicyFiles), warned: map[string]bool{}}
	f.loadPolicy()
	defer func() {
		if f.w != nil {
			f.w.Stop()
		}
	}()

	cur := &collect.Cursor{}
	snap := f.firstRead(ctx, cur)
	if snap == nil {
		return
	}
	f.analyse(snap)
	var ready <-chan struct{}
	if s.cfg.Source.Watch != nil {
		ready = f.startWatch(ctx, snap, cur)
	} else {
		s.st.setReadable(true, "")
	}

	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	reload := time.NewTicker(s.cfg.ReloadInterval)
	defer reload.Stop()
	for {
		var changed, failed <-chan struct{}
		if f.w != nil {
			changed, failed = f.w.Changed(), f.w.Failed()
		}
		select {
		case <-ctx.Done():
			return
		case <-ready:
			ready = nil
			s.st.setReadable(true, "")
			s.log.Printf("watching for changes")
		case <-failed:
			// Refused (RBAC without the watch verb): poll instead.
			s.log.Printf("%s; polling every %s", text.OneLine(f.w.Err().Error()), s.cfg.Interval)
			f.w.Stop()
			f.w, ready = nil, nil
		case <-changed:
			follow.Settle(ctx, clock.RealClock{}, changed, settleQuiet, settleMax)
			f.analyse(f.w.Snapshot())
		case <-tick.C:
			f.refresh(ctx)
		case <-reload.C:
			if f.files.changed() && f.loadPolicy() {
				f.refresh(ctx)
			}
		}
	}
}

// refresh analyses again: the watched snapshot as it stands, or, polling,
// a new read. While the watches are interrupted the last report stays as
// it was: analysing a snapshot known to be out of date would make old data
// look fresh (daemoncheck_last_run_timestamp_seconds).
func (f *follower) refresh(ctx context.Context) {
	if f.w != nil {
		if ok, _ := f.s.st.ready(); ok {
			f.analyse(f.w.Snapshot())
		}
		return
	}
	snap, err := f.read(ctx, nil)
	if err != nil {
		return
	}
	f.s.st.setReadable(true, "")
	f.analyse(snap)
}

// firstRead reads until a read succeeds (backing off up to Interval) or
// ctx ends (nil).
func (f *follower) firstRead(ctx context.Context, cur *collect.Cursor) *model.Snapshot {
	wait := time.Second
	for {
		snap, err := f.read(ctx, cur)
		if err == nil {
			return snap
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, f.s.cfg.Interval)
	}
}

// read is one full read, bounded by ReadTimeout; a failure is logged,
// counted, and makes the server not ready.
func (f *follower) read(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error) {
	rctx, cancel := context.WithTimeout(ctx, f.s.cfg.ReadTimeout)
	defer cancel()
	snap, err := f.s.cfg.Source.Read(rctx, cur)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := "cannot read the cluster: " + text.OneLine(err.Error())
		f.s.st.readErrors.Add(1)
		f.s.st.setReadable(false, msg)
		f.s.log.Printf("%s; retrying", msg)
		return nil, err
	}
	return snap, nil
}

// startWatch starts the watches from the first read. It returns a channel
// closed once they are open; until then the server is not ready (changes
// made meanwhile would be missed by a report that looks current).
func (f *follower) startWatch(ctx context.Context, snap *model.Snapshot, cur *collect.Cursor) <-chan struct{} {
	st := f.s.st
	st.setReadable(false, "opening the watches")
	w, err := f.s.cfg.Source.Watch(ctx, snap, cur, func(err error) {
		if err != nil {
			msg := "watch interrupted: " + text.OneLine(err.Error())
			st.interrupts.Add(1)
			st.setReadable(false, msg)
			f.s.log.Printf("%s; reconnecting", msg)
			return
		}
		st.setReadable(true, "")
		f.s.log.Printf("watching again")
	})
	if err != nil {
		f.s.log.Printf("cannot watch: %s; polling every %s", text.OneLine(err.Error()), f.s.cfg.Interval)
		st.setReadable(true, "")
		return nil
	}
	f.w = w
	return w.Ready()
}

// loadPolicy (re)reads the coverage rules. A failure keeps the rules in
// force, says so once on the log and in
// daemoncheck_config_last_reload_successful; it reports whether the rules
// changed.
func (f *follower) loadPolicy() bool {
	p, err := f.s.cfg.LoadPolicy()
	if err != nil {
		f.s.st.reloadOK.Store(false)
		f.s.log.Printf("loading the coverage policy: %s; keeping the rules in force", text.OneLine(err.Error()))
		if f.pol == nil {
			f.pol = &policy.Policy{}
		}
		return false
	}
	first := f.pol == nil
	f.pol = p
	// A Memo belongs to one sequence of analyses under the same options.
	f.memo = &audit.Memo{}
	f.s.st.reloadOK.Store(true)
	f.s.st.reloadAt.Store(time.Now().UnixNano())
	if !first {
		f.s.log.Printf("coverage policy reloaded: %d rule(s)", len(p.Rules))
	}
	return true
}

// analyse runs the analysis and publishes it: the report for the page and
// the series for scrapes, swapped in at once.
func (f *follower) analyse(snap *model.Snapshot) {
	cfg := &f.s.cfg
	start := time.Now()
	if cfg.ServerVersion != "" {
		snap.ServerVersion = cfg.ServerVersion
	}
	// An amount no int64 holds (the API server stores any size) would
	// wrap in the fit arithmetic: no report rather than a wrong one, and
	// not ready until the next read or change brings judgeable objects.
	if err := capacity.CheckSnapshot(snap); err != nil {
		msg := "cannot judge the cluster: " + text.OneLine(err.Error())
		f.s.st.readErrors.Add(1)
		f.s.st.setReadable(false, msg)
		f.s.log.Printf("%s", msg)
		return
	}
	rep := audit.Analyze(snap, audit.Options{Now: start, Policy: f.pol, Gate: cfg.Gate, Selection: cfg.Selection, Memo: f.memo})
	rep.Warnings = append(rep.Warnings, policy.AnnotationWarnings(snap.DaemonSets, snap.Nodes, func(t string) bool { return report.Known(report.FindingType(t)) })...)
	unmatched := 0
	if err := f.pol.Validate(snap.DaemonSets); err != nil {
		unmatched = unmatchedRules(f.pol, snap)
		rep.Warnings = append(rep.Warnings, err.Error())
	}
	f.warn(rep.Warnings)
	metrics := seriesOf(rep, seriesOptions{maxNodeSeries: cfg.MaxNodeSeries, unmatched: unmatched})
	f.s.st.latest.Store(&published{report: rep, metrics: metrics})
	f.s.st.analyses.Add(1)
	f.s.st.lastDuration.Store(int64(time.Since(start)))
}

// unmatchedRules counts the rules that name a DaemonSet the snapshot lacks.
func unmatchedRules(p *policy.Policy, snap *model.Snapshot) int {
	n := 0
	for _, r := range p.Rules {
		if r.Name == "" {
			continue
		}
		found := false
		for i := range snap.DaemonSets {
			if r.Matches(&snap.DaemonSets[i]) {
				found = true
				break
			}
		}
		if !found {
			n++
		}
	}
	return n
}

// warn logs each warning once (a long-running server would repeat the same
// ones on every analysis).
func (f *follower) warn(ws []string) {
	for _, w := range ws {
		if f.warned[w] {
			continue
		}
		if len(f.warned) >= maxWarnings {
			f.warned = map[string]bool{}
		}
		f.warned[w] = true
		f.s.log.Printf("warning: %s", w)
	}
}
