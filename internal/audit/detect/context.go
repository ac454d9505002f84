package detect

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Context carries what every detector of one DaemonSet needs. The engine
// fills it before the detectors run (they read it, and add to Report's
// unknowns); one goroutine analyses a DaemonSet, so nothing in it is
// locked.
type Context struct {
	DS   *appsv1.DaemonSet
	Eval *scheduling.Evaluator
	// Cluster is what every DaemonSet of the analysis shares.
	Cluster *Cluster
	// Now is the analysis clock.
	Now time.Time
	// Hash and Gen are the current revision's hash and template
	// generation (SetGeneration), either may be unknown; RevKnown says
	// whether one is known, i.e. whether Pods can be judged up to date.
	Hash     string
	Gen      *int64
	genLabel string
	RevKnown bool
	// Surge: a rolling update with a maxSurge other than 0.
	Surge bool
	// Rollout is the rollout's progress in words, when nodes were read.
	Rollout string
	// Policy are the coverage policy's rules for the DaemonSet.
	Policy []policy.Rule
	// Rules are the version-dependent controller rules (rules.go).
	Rules Rules
	// Adopted are the orphan Pods the controller adopts (and counts) at
	// its next sync; Released[node] the owned Pods it releases (and does
	// not count) because their labels no longer match the selector
	// (Claim).
	Adopted  map[*model.DaemonPod]bool
	Released map[string][]*model.DaemonPod
	// PodsKnown and NodesKnown say whether Pods and nodes were read.
	PodsKnown, NodesKnown bool
	// Verdicts[i] is the controller's decision for Cluster.Nodes[i].
	Verdicts []scheduling.Verdict
	// Untargeted are Pods the controller cannot attribute to a node.
	Untargeted []*model.DaemonPod
	healthOf   map[*model.DaemonPod]podstate.Health
	// Report is the DaemonSet's report so far (header, status, counts).
	Report *report.DaemonSetReport
	// ByNode are the DaemonSet's Pods by target node, sorted as the
	// controller sorts them.
	ByNode map[string][]*model.DaemonPod
	// Manager is what reconciles the DaemonSet: a fix that changes it
	// goes through the manager (AdviseChange).
	Manager owner.Manager
	// kruise is what OpenKruise's controller does with an Advanced
	// DaemonSet (kruise.go); nil for a core DaemonSet.
	kruise *kruiseState
	// PoolLabels are the analysis's pool labels (PoolOf).
	PoolLabels []string
	// ImageIDs tells whether the Pods whose health was computed run more
	// than one imageID per container (health.go).
	ImageIDs ImageIDs
	// until is the first moment after Now at which the report would
	// change with time alone (ChangesAt), zero if never.
	until time.Time
	// once holds what detector packages compute once per DaemonSet (Once).
	once map[*Key]any
}

// SetGeneration records the DaemonSet's template generation g.
func (c *Context) SetGeneration(g int64) {
	c.Gen = &g
	c.genLabel = strconv.FormatInt(g, 10)
}

// Targeted reports whether the Pods of the case are on a node the
// DaemonSet should run on, or on a node whose verdict is unknown (nodes
// not read): the cases whose Pods are judged for health, duplicates and
// revision.
func (c *Context) Targeted(n *Node) bool {
	if n.Node != nil {
		return n.Verdict.ShouldRun
	}
	return !c.NodesKnown
}

// A Key names what a detector package computes once per DaemonSet (Once)
// or once per analysis (Shared): a package-level variable of its own.
type Key struct{ name string }

// NewKey returns a key; name is for reading.
func NewKey(name string) *Key { return &Key{name: name} }

// Once returns what f computes for the DaemonSet, calling f the first time
// only: state a package's detectors share (what a rollout would do, which
// drivers the DaemonSet is the plugin of), whichever runs first.
func Once[T any](c *Context, k *Key, f func() T) T {
	if v, ok := c.once[k]; ok {
		return v.(T)
	}
	v := f()
	if c.once == nil {
		c.once = map[*Key]any{}
	}
	c.once[k] = v
	return v
}

// ChangesAt records that the DaemonSet's report changes by itself at t (a
// grace period ends, a Pod becomes available, a rollout turns stuck): a
// Memo keeps the report until the earliest such moment after now.
func (c *Context) ChangesAt(t time.Time) {
	if t.After(c.Now) && (c.until.IsZero() || t.Before(c.until)) {
		c.until = t
	}
}

// Until is the first moment after Now at which the report changes with
// time alone (ChangesAt), zero if never.
func (c *Context) Until() time.Time { return c.until }

// AgeTextChangesAt is the first moment after now at which the age since
// t, as HumanDuration prints it, reads differently. The printed age
// changes only on a whole second, minute, hour or day of age, so the first
// of those boundaries where it reads differently is the moment.
func AgeTextChangesAt(since, now time.Time) time.Time {
	age := now.Sub(since)
	text := duration.HumanDuration(age)
	for _, unit := range []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour} {
		next := (age/unit + 1) * unit
		if duration.HumanDuration(next) != text {
			return since.Add(next)
		}
	}
	return now.Add(24 * time.Hour)
}
