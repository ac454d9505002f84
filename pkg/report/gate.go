package report

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// FailOnNone is the --fail-on value that selects nothing: the report is
// printed and the exit code speaks only of errors and partial reads.
const FailOnNone = "none"

// Selector is a parsed --fail-on: severities (a severity selects itself and
// every higher one) and finding types. It selects by the finding's own
// severity, as stamped in the report.
type Selector struct {
	minRank int // 0: no severity threshold
	types   map[FindingType]bool
	values  []string
}

// ParseSelector parses --fail-on values: error, warning, none, or finding
// types. Empty values are an error: in CI `--fail-on "$UNSET"` must not
// turn the gate off silently.
func ParseSelector(values []string) (Selector, error) {
	s := Selector{types: map[FindingType]bool{}}
	if len(values) == 0 {
		return s, fmt.Errorf("no value: use error, warning, info, none or finding types (%s)", typeList())
	}
	none := false
	for _, v := range values {
		switch {
		case v == "":
			return s, fmt.Errorf("empty value: use error, warning, info, none or finding types (%s)", typeList())
		case v == FailOnNone:
			none = true
		case Severity(v).Rank() > 0:
			if r := Severity(v).Rank(); s.minRank == 0 || r < s.minRank {
				s.minRank = r
			}
		case Known(FindingType(v)) || knownNodeProblem(FindingType(v)):
			s.types[FindingType(v)] = true
		default:
			return s, fmt.Errorf("%q: use error, warning, info, none or finding types (%s)", v, typeList())
		}
		s.values = append(s.values, v)
	}
	if none && len(values) > 1 {
		return s, fmt.Errorf("%q cannot be combined with other values", FailOnNone)
	}
	sort.Strings(s.values)
	return s, nil
}

// Selects reports whether an active finding fails the gate.
func (s Selector) Selects(f *Finding) bool {
	if s.minRank > 0 && f.Severity.Rank() >= s.minRank {
		return true
	}
	return s.types[f.Type] || (f.NodeCause != "" && s.types[nodeProblemType(f.NodeCause)])
}

// Values returns the selector as given, sorted (for the report).
func (s Selector) Values() []string { return append([]string{}, s.values...) }

// typeList names every type --fail-on and --ignore accept: the finding
// types, then the node problems.
func typeList() string {
	names := make([]string, 0, len(Catalog)+len(NodeProblems))
	for _, ti := range Catalog {
		names = append(names, string(ti.Type))
	}
	for _, np := range NodeProblems {
		names = append(names, string(np.Type))
	}
	return strings.Join(names, ", ")
}

// ParseTypes parses finding type names (--ignore).
func ParseTypes(values []string) (map[FindingType]bool, error) {
	out := map[FindingType]bool{}
	for _, v := range values {
		if !Known(FindingType(v)) && !knownNodeProblem(FindingType(v)) {
			return nil, fmt.Errorf("%q: unknown finding type; use one of %s", v, typeList())
		}
		out[FindingType(v)] = true
	}
	return out, nil
}

// Gate is what a report is judged under, as resolved from the flags. The
// analysis stamps every finding with it, and the report records it.
type Gate struct {
	FailOn Selector
	// Ignore drops findings of these types from the report.
	Ignore map[FindingType]bool
	// Grace holds back findings on nodes, and about Pods (catalog PodGrace),
	// younger than it.
	Grace time.Duration
}

// DefaultFailOn is --fail-on's default: what is broken now. Findings at
// risk and advice are reported and never fail unless --fail-on asks.
const DefaultFailOn = SeverityError

// DefaultGate fails on what is broken now (errors: a targeted or required
// node without a working daemon).
func DefaultGate() Gate {
	s, _ := ParseSelector([]string{string(DefaultFailOn)})
	return Gate{FailOn: s}
}

// GateSettings is the JSON form of a Gate.
type GateSettings struct {
	FailOn []string      `json:"failOn"`
	Ignore []FindingType `json:"ignore"`
	Grace  string        `json:"grace,omitempty"`
}

// Settings returns the gate as recorded in the report.
func (g Gate) Settings() GateSettings {
	gs := GateSettings{FailOn: g.FailOn.Values(), Ignore: []FindingType{}}
	for _, ti := range Catalog {
		if g.Ignore[ti.Type] {
			gs.Ignore = append(gs.Ignore, ti.Type)
		}
	}
	for _, np := range NodeProblems {
		if g.Ignore[np.Type] {
			gs.Ignore = append(gs.Ignore, np.Type)
		}
	}
	if g.Grace > 0 {
		gs.Grace = g.Grace.String()
	}
	return gs
}

// Summarize counts the stamped findings of the DaemonSets: active ones by
// type, failing ones, and those exemptions and --grace set aside. It reads
// only the flags the gate stamped, so every consumer counts alike.
func Summarize(dss []DaemonSetReport) Summary {
	s := Summary{ByType: map[FindingType]int{}, FailingByType: map[FindingType]int{}, FailingBySeverity: map[Severity]int{}}
	for i := range dss {
		s.DaemonSets++
		active := 0
		for j := range dss[i].Findings {
			switch f := &dss[i].Findings[j]; {
			case f.Exempted != "":
				s.Exempted++
			case f.HeldBack != "":
				s.HeldBack++
			default:
				active++
				s.Findings++
				s.ByType[f.Type]++
				if f.Failing {
					s.Failing++
					s.FailingByType[f.Type]++
					s.FailingBySeverity[f.Severity]++
				}
			}
		}
		if active == 0 {
			s.Healthy++
		}
	}
	return s
}

// SortFindings puts findings in their canonical order: findings about the
// DaemonSet itself (no node) first, then by node, catalog order, Pod.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		if oa, ob := typeOrder(a.Type), typeOrder(b.Type); oa != ob {
			return oa < ob
		}
		return a.Pod < b.Pod
	})
}

// IsZero reports whether the selector was never parsed (Options left empty).
func (s Selector) IsZero() bool { return s.values == nil }
