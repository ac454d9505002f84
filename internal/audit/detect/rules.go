package detect

import (
	"strconv"
	"strings"
)

// Rules are the DaemonSet controller rules that differ between the
// Kubernetes minor versions daemoncheck supports (about 1.30 to 1.37). The
// analysis follows the cluster's version (snapshot.ServerVersion: discovery,
// or --server-version offline); an unknown version gets the newest rules.
// README "How it decides" lists them with the upstream changes.
type Rules struct {
	// Version is the server version as given ("" unknown); Minor its minor
	// version (0 unknown).
	Version string
	Minor   int
	// AvailableAtBoundary: a Pod Ready for exactly minReadySeconds is
	// available. podutil.IsPodAvailable compares readySince+minReadySeconds
	// <= now since kubernetes#132122 (merged June 2025, first released in
	// v1.34.0); before, the comparison was strict (Before).
	AvailableAtBoundary bool
	// StaleMisscheduledOnUntaint: the controller may not resync a DaemonSet
	// when a node's taints change, leaving numberMisscheduled stale after a
	// new node's not-ready taint is lifted (kubernetes#132459, a regression
	// of v1.33.0; fixed by kubernetes#132477 on master for v1.35 and
	// back-ported to release-1.34 (#133749) and release-1.33 (#133992)).
	StaleMisscheduledOnUntaint bool
}

// RulesFor returns the controller rules of a server version such as
// "v1.33.4", "v1.34.1-gke.1200" or "1.31".
func RulesFor(version string) Rules {
	r := Rules{Version: version, Minor: minorOf(version)}
	r.AvailableAtBoundary = r.Minor == 0 || r.Minor >= 34
	r.StaleMisscheduledOnUntaint = r.Minor == 33
	return r
}

// minorOf returns the minor version of a "v1.N..." version, 0 when it is not
// one.
func minorOf(v string) int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	major, rest, ok := strings.Cut(v, ".")
	if !ok || major != "1" {
		return 0
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return n
}
