package follow

import (
	"context"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/watcher"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// FeedConfig is what a Feed follows the cluster with.
type FeedConfig struct {
	// Client watches (nil: nothing to watch, e.g. offline: poll); Read
	// says what the first read read, RequestTimeout bounds each list of a
	// re-list, OpenTimeout how long to wait for the watches to open.
	Client         collect.Client
	Read           collect.Options
	RequestTimeout time.Duration
	OpenTimeout    time.Duration
	// Interval is how often to analyse without a change (findings change
	// with time too: --grace, minReadySeconds), and to poll.
	Interval time.Duration
	// Quiet and MaxDelay debounce changes (Coalesce).
	Quiet, MaxDelay time.Duration
	// Host names the cluster in messages.
	Host string
	// Poll is a full read, used when not watching.
	Poll func(ctx context.Context) (*model.Snapshot, error)
	// Note is told what happened to the watch (refused, interrupted,
	// WatchingAgain); it is called from the goroutine that calls Next.
	Note func(string)
}

// WatchingAgain is the note that interrupted watches are back.
const WatchingAgain = "watching again"

// Feed yields the snapshots after the first read: from a watch, or, when
// the server refuses one (RBAC without the watch verb), by polling.
type Feed struct {
	cfg   FeedConfig
	w     *watcher.Watcher
	clk   clock.Clock
	notes chan string
}

// Start watches from the read that produced snap (cur says where its lists
// stood), or, when watching is not possible, polls.
func Start(ctx context.Context, cfg FeedConfig, snap *model.Snapshot, cur *collect.Cursor) *Feed {
	f := &Feed{cfg: cfg, clk: clock.RealClock{}, notes: make(chan string, 8)}
	if cfg.Client == nil {
		return f
	}
	w, err := watcher.Start(ctx, cfg.Client, snap, cur, watcher.Options{
		Read: cfg.Read, RequestTimeout: cfg.RequestTimeout, Status: f.status,
	})
	if err != nil {
		cfg.Note(fmt.Sprintf("cannot watch: %v; %s", err, f.Mode()))
		return f
	}
	// A refused watch is refused at once; a server that does not answer
	// is retried by the watches themselves.
	t := time.NewTimer(cfg.OpenTimeout)
	defer t.Stop()
	select {
	case <-w.Ready():
	case <-t.C:
	case <-ctx.Done():
	case <-w.Failed():
		w.Stop()
		cfg.Note(fmt.Sprintf("%s; %s", w.Err(), f.Mode()))
		return f
	}
	f.w = w
	return f
}

// status is told by the watches when they are interrupted and when they are
// back; the message is passed to the goroutine that calls Next.
func (f *Feed) status(err error) {
	msg := WatchingAgain
	if err != nil {
		msg = fmt.Sprintf("watch interrupted (%s); reconnecting", text.OneLine(err.Error()))
	}
	select {
	case f.notes <- msg:
	default:
	}
}

// Mode is what a progress line says: "watching" or "polling every 5s".
func (f *Feed) Mode() string {
	if f.w != nil {
		return "watching"
	}
	return fmt.Sprintf("polling every %s", f.cfg.Interval)
}

// Stop stops the watches.
func (f *Feed) Stop() {
	if f.w != nil {
		f.w.Stop()
	}
}

// Next waits for something new to analyse and returns the snapshot. When
// watching: a change (debounced), or Interval without one. When polling:
// Interval, then a new read, whose error is returned (the caller retries).
// On ctx's end it returns ctx's error.
func (f *Feed) Next(ctx context.Context) (*model.Snapshot, error) {
	for {
		idleSince := f.clk.Now()
		tick := f.clk.NewTimer(f.cfg.Interval)
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
			f.cfg.Note(msg)
			continue
		case <-failed:
			tick.Stop()
			err := f.w.Err()
			f.w.Stop()
			f.w = nil
			f.cfg.Note(fmt.Sprintf("%s; %s", err, f.Mode()))
			continue
		case <-changed:
			tick.Stop()
			Coalesce(ctx, f.clk, changed, f.clk.Since(idleSince), f.cfg.Quiet, f.cfg.MaxDelay)
		case <-tick.C():
		}
		if f.w != nil {
			// The watch's objects get the amount check a full read gets:
			// a wrapped quantity must not pass a gate here.
			snap := f.w.Snapshot()
			if err := capacity.CheckSnapshot(snap); err != nil {
				return nil, fmt.Errorf("the cluster at %s: %v", f.cfg.Host, err)
			}
			return snap, nil
		}
		return f.cfg.Poll(ctx)
	}
}
