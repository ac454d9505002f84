package cli

import (
	"context"
	"errors"

	"github.com/daemoncheck/daemoncheck/internal/follow"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// wait is --wait: follow.Wait re-audits with this run's reads and analysis
// until no failing finding remains or --timeout passes, and returns the
// last report; progress goes to stderr.
func (o *runner) wait(ctx context.Context) (*report.Report, error) {
	cfg := follow.WaitConfig{
		Read:    o.snapshot,
		Analyse: o.analyse,
		Fatal:   errIsUsage,
		Feed:    o.feedConfig(),
		Timeout: o.run.timeout,
		Out:     o.ErrOut,
	}
	if o.run.out.progress {
		cfg.Width = func() int { return terminalWidth(o.ErrOut) }
	}
	rep, err := follow.Wait(ctx, cfg)
	var ee *ExitError
	if err != nil && !errors.As(err, &ee) {
		// Wait's own errors: no read succeeded before the deadline.
		return nil, inputErrorf("%v", err)
	}
	return rep, err
}
