package report

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FleetKind is the kind of the report of a run over several clusters
// (kubeconfig contexts); it shares APIVersion with the single report.
const FleetKind = "FleetReport"

// Result is a cluster's verdict in a fleet run.
type Result string

const (
	// ResultPassed: the cluster was read completely and no finding fails the gate.
	ResultPassed Result = "Passed"
	// ResultFailed: findings fail the gate (also when the report is partial).
	ResultFailed Result = "Failed"
	// ResultPartial: some kinds could not be read, and nothing read fails.
	ResultPartial Result = "Partial"
	// ResultError: the cluster could not be audited (see Error).
	ResultError Result = "Error"
)

// FleetReport is the result of one run over several clusters: one entry per
// kubeconfig context, each with its own Report or the error that kept it
// from being audited. Every cluster's report is judged by the same gate
// (--fail-on, --ignore, --grace, policy) as a single run's.
type FleetReport struct {
	metav1.TypeMeta `json:",inline"`
	// GeneratedAt is when the run started (RFC 3339); each cluster's report
	// has its own analysis clock.
	GeneratedAt time.Time    `json:"generatedAt"`
	Summary     FleetSummary `json:"summary"`
	// Clusters are sorted by context name (natural order).
	Clusters []ClusterReport `json:"clusters"`
}

// FleetSummary counts the clusters by result, and the findings over all
// clusters' reports.
type FleetSummary struct {
	Clusters int `json:"clusters"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Partial  int `json:"partial"`
	Errors   int `json:"errors"`
	// Findings and Failing add up the clusters' summary.findings and
	// summary.failing.
	Findings int `json:"findings"`
	Failing  int `json:"failing"`
}

// ClusterReport is one cluster of a fleet run.
type ClusterReport struct {
	// Context is the kubeconfig context; Server its API server URL
	// (credentials redacted).
	Context string `json:"context"`
	Server  string `json:"server,omitempty"`
	Result  Result `json:"result"`
	// Error says in one line why the cluster could not be audited (or, with
	// a report, why its view is empty, e.g. -l matched no DaemonSet).
	Error string `json:"error,omitempty"`
	// Report is the cluster's audit; null when it could not be read.
	Report *Report `json:"report"`
}

// NewFleet returns a fleet report of the clusters, each stamped with its
// result, and their summary.
func NewFleet(generatedAt time.Time, clusters []ClusterReport) *FleetReport {
	f := &FleetReport{
		TypeMeta:    metav1.TypeMeta{APIVersion: APIVersion, Kind: FleetKind},
		GeneratedAt: generatedAt,
		Clusters:    clusters,
	}
	if f.Clusters == nil {
		f.Clusters = []ClusterReport{}
	}
	f.Summary.Clusters = len(clusters)
	for i := range f.Clusters {
		c := &f.Clusters[i]
		c.Result = c.verdict()
		switch c.Result {
		case ResultPassed:
			f.Summary.Passed++
		case ResultFailed:
			f.Summary.Failed++
		case ResultPartial:
			f.Summary.Partial++
		default:
			f.Summary.Errors++
		}
		if c.Report != nil {
			f.Summary.Findings += c.Report.Summary.Findings
			f.Summary.Failing += c.Report.Summary.Failing
		}
	}
	return f
}

// verdict follows a single run's exit code: failing findings win over a
// partial read (exit 1), a partial read or an error without them is
// incomplete (exit 3).
func (c *ClusterReport) verdict() Result {
	switch {
	case c.Report != nil && c.Report.Summary.Failing > 0:
		return ResultFailed
	case c.Error != "" || c.Report == nil:
		return ResultError
	case c.Report.Partial:
		return ResultPartial
	}
	return ResultPassed
}

// DeepCopyObject implements runtime.Object, as Report's does.
func (f *FleetReport) DeepCopyObject() runtime.Object {
	data, err := json.Marshal(f)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	out := &FleetReport{}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}
