// Package rendertest holds what the printers' tests share across the
// render packages: reports that carry hostile text wherever a cluster's
// text goes, and the checks that an output lets none of it act on a
// terminal, a CI log or a Markdown or XML reader.
package rendertest

import (
	"bytes"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// HostileReport puts s wherever a report carries text from the cluster or
// the input: names, messages, reasons, server errors, events, labels.
func HostileReport(s string) *report.Report {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	counts := &report.Counts{DesiredNumberScheduled: 2, CurrentNumberScheduled: 1}
	ds := report.DaemonSetReport{
		Namespace: "ns-" + s, Name: "ds-" + s, Selector: "app=" + s, NodeSelector: "pool=" + s,
		Images: []string{"img-" + s}, UpdateStrategy: "RollingUpdate", CurrentRevision: "rev-" + s,
		Status: *counts, Computed: counts, Created: now.Add(-time.Hour),
		Unknown:     []string{"unknown: " + s},
		NotTargeted: []report.CoverageGap{{Pool: "pool-" + s, Count: 1, Range: "node-" + s, Reason: "taint " + s}},
		Nodes: []report.NodeVerdict{
			{Name: "node-" + s, ShouldRun: true, Coverage: report.Missing, Reason: "", Short: "s-" + s},
			{Name: "other-" + s, Reason: "taint " + s, Short: "t-" + s, Pods: []report.PodRef{{Name: "pod-" + s, State: "state-" + s, Revision: "rev-" + s}}},
		},
		Findings: []report.Finding{
			{Type: report.MissingPod, Severity: report.SeverityError, Node: "node-" + s, Message: "message " + s, Suggestion: "fix " + s, Failing: true},
			{Type: report.UnhealthyPod, Severity: report.SeverityError, Node: "other-" + s, Pod: "pod-" + s, Message: "event " + s, Suggestion: "fix " + s},
			{Type: report.OutdatedPod, Severity: report.SeverityWarning, Node: "other-" + s, Message: "exempted " + s, Exempted: "exempt-" + s},
		},
		Events: []report.Event{{Object: "pod/" + s, From: "kubelet " + s, Reason: "Failed" + s, Message: "404 --- " + s, Count: 3, LastSeen: now}},
	}
	return &report.Report{
		TypeMeta:    report.New().TypeMeta,
		GeneratedAt: now, NodeCount: 2, Partial: true,
		Unread:     []report.Unread{{Kind: "Pod", Reason: "the server said " + s, Rule: "rule " + s}},
		Summary:    report.Summary{DaemonSets: 1, Findings: 2, Failing: 1, Exempted: 1},
		DaemonSets: []report.DaemonSetReport{ds},
		Problems: []report.Problem{{
			Type: string(report.MissingPod), Severity: report.SeverityError, Failing: true,
			DaemonSets: []string{"ns-" + s + "/ds-" + s}, Nodes: []string{"node-" + s}, Range: "node-" + s,
			Cause: "cause " + s, Pattern: "pattern " + s, Fix: "fix " + s,
		}},
		Nodes: []report.NodeInfo{{Name: "node-" + s, Ready: "True", Taints: []string{"taint=" + s}, Labels: map[string]string{"pool": s}}, {Name: "other-" + s, Ready: "False"}},
		Capacity: &report.Capacity{
			Resources: []string{"cpu", "res-" + s},
			Pools: []report.PoolCapacity{{Pool: "pool-" + s, Nodes: 1, DaemonSets: 1, NotFitting: 1, NotFittingRange: "node-" + s, LeftOut: []string{"ds-" + s},
				Resources: []report.ResourceCapacity{{Resource: "cpu", MinHeadroomNode: "node-" + s}, {Resource: "res-" + s}}}},
			Nodes:   []report.NodeCapacity{{Name: "node-" + s, Pool: "pool-" + s, LeftOut: []report.LeftOutDaemon{{DaemonSet: "ds-" + s, Reason: "reason " + s, Resources: []string{"res-" + s}}}}},
			Unknown: []string{"unknown " + s},
		},
	}
}

// HostileFleet is two clusters: one audited, named and failing with s, one
// that could not be audited.
func HostileFleet(s string) *report.FleetReport {
	r := HostileReport(s)
	return report.NewFleet(r.GeneratedAt, []report.ClusterReport{
		{Context: "ctx-" + s, Server: "https://" + s, Report: r},
		{Context: s + "-down", Error: "the server said " + s},
	})
}

// Render runs a printer into a string.
func Render(t testing.TB, print func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := print(&b); err != nil {
		t.Fatalf("printing: %v", err)
	}
	return b.String()
}

// HostileWhatIf is a what-if report with s in its names and messages.
func HostileWhatIf(s string) *report.WhatIfReport {
	r := HostileReport(s)
	f := report.WhatIfFinding{Type: report.WhatIfWillNotRun, Severity: report.SeverityError, Failing: true, DaemonSet: "ns-" + s + "/ds-" + s,
		Shapes: []string{"shape-" + s}, Nodes: []string{"node-" + s}, Message: "message " + s, Suggestion: "fix " + s}
	return &report.WhatIfReport{
		TypeMeta:    report.NewWhatIf().TypeMeta,
		GeneratedAt: r.GeneratedAt, Source: "src-" + s, Inputs: []string{"in-" + s}, Partial: true, Unread: r.Unread,
		Changes: []report.DaemonSetChange{{Source: "src-" + s, Namespace: "ns-" + s, Name: "ds-" + s,
			Gained:   []report.NodeGroup{{Pool: "pool-" + s, Count: 1, Range: "node-" + s, Nodes: []string{"node-" + s}}},
			Lost:     []report.NodeGroup{{Pool: "pool-" + s, Reason: "reason " + s, Count: 1, Range: "other-" + s, Nodes: []string{"other-" + s}}},
			Findings: []report.WhatIfFinding{f}, Unknown: []string{"unknown " + s}}},
		Pools: []report.PoolWhatIf{{Source: "src-" + s, Kind: "NodePool", Name: "pool-" + s, Taints: []string{"taint " + s}, Notes: []string{"note " + s},
			Shapes: []report.Shape{{Name: "shape-" + s, FitUnknown: "unknown " + s, DaemonSets: []report.ShapeDaemon{
				{Namespace: "ns-" + s, Name: "ds-" + s, Reason: "reason " + s, Short: "short " + s, Required: true, RequiredBy: "policy " + s}}}},
			Findings: []report.WhatIfFinding{f}}},
	}
}
