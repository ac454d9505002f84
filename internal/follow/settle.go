// Package follow holds what the commands that follow a cluster share (-w,
// --wait and serve): how a burst of changes becomes one analysis.
package follow

import (
	"context"
	"time"

	"k8s.io/utils/clock"
)

// Settle waits, after a first change, until changes pause for quiet, or max
// has passed since the first, or ctx ends: changes that keep coming (a
// rollout, a node pool joining) cost a few analyses, not one per object.
func Settle(ctx context.Context, clk clock.Clock, changed <-chan struct{}, quiet, max time.Duration) {
	limit := clk.NewTimer(max)
	defer limit.Stop()
	pause := clk.NewTimer(quiet)
	defer pause.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-limit.C():
			return
		case <-pause.C():
			return
		case <-changed:
			pause.Stop()
			pause = clk.NewTimer(quiet)
		}
	}
}

// Coalesce decides, at a first change after idle time without one, whether
// to analyse at once (the watch was quiet: a single change is printed one
// analysis after it arrives) or to Settle first (changes keep coming).
func Coalesce(ctx context.Context, clk clock.Clock, changed <-chan struct{}, idle, quiet, max time.Duration) {
	if idle < quiet {
		Settle(ctx, clk, changed, quiet, max)
	}
}
