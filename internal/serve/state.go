package serve

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/daemoncheck/daemoncheck/internal/version"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// published is what one complete analysis leaves for scrapes and the page.
// It is never changed once stored: a new analysis stores a new one, so a
// scrape or a page reads a consistent report while the next is being made.
type published struct {
	report  *report.Report
	metrics []prometheus.Metric
}

// state is what the HTTP side reads: the last complete analysis and
// whether the cluster can be read. The analysis loop is its only writer.
type state struct {
	latest atomic.Pointer[published]

	mu sync.Mutex
	// readable: the watches are open, or (polling) the last read worked.
	readable bool
	// why says, while not ready, what is wrong (one line).
	why string

	analyses, readErrors, interrupts atomic.Int64
	lastDuration                     atomic.Int64 // nanoseconds
	reloadOK                         atomic.Bool
	reloadAt                         atomic.Int64 // unix nanoseconds
	failOn                           string
}

// setReadable records whether the cluster can be read, and why not.
func (s *state) setReadable(ok bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readable, s.why = ok, why
}

// ready says whether /readyz passes: a complete analysis is published and
// the cluster can be read now; else why not.
func (s *state) ready() (bool, string) {
	if s.latest.Load() == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.why != "" {
			return false, "no complete analysis yet: " + s.why
		}
		return false, "no complete analysis yet: the first read is in progress"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.readable {
		return false, s.why
	}
	return true, ""
}

// collector exports the last complete analysis and the process' state. It
// never waits for an analysis in progress: it reads what was published.
type collector struct{ s *state }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	if p := c.s.latest.Load(); p != nil {
		for _, m := range p.metrics {
			ch <- m
		}
	}
	emit := func(f *family, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
	}
	ready, _ := c.s.ready()
	c.s.mu.Lock()
	up := c.s.readable
	c.s.mu.Unlock()
	emit(famUp, b2f(up))
	emit(famReady, b2f(ready))
	emit(famAnalyses, float64(c.s.analyses.Load()))
	emit(famDuration, time.Duration(c.s.lastDuration.Load()).Seconds())
	emit(famReadErrors, float64(c.s.readErrors.Load()))
	emit(famInterrupts, float64(c.s.interrupts.Load()))
	emit(famReloadOK, b2f(c.s.reloadOK.Load()))
	if at := c.s.reloadAt.Load(); at != 0 {
		emit(famReloadTime, float64(at/int64(time.Millisecond))/1000)
	}
	emit(famGate, 1, c.s.failOn)
	emit(famBuild, 1, version.Version, version.Commit, runtime.Version())
}
