package audit

import (
	"strconv"
	"strings"
)

// controllerRules are the DaemonSet controller rules that differ between the
// Kubernetes minor versions daemoncheck supports (about 1.30 to 1.37). The
// analysis follows the cluster's version (snapshot.ServerVersion: discovery,
// or --server-version offline); an unknown version gets the newest rules.
// README "How it decides" lists them with the upstream changes.
type controllerRules struct {
	// version is the server version as given ("" unknown); minor its minor
	// version (0 unknown).
	version string
	minor   int
	// availableAtBoundary: a Pod Ready for exactly minReadySeconds is
	// available. podutil.IsPodAvailable compares readySince+minReadySeconds
	// <= now since kubernetes#132122 (merged June 2025, first released in
	// v1.34.0); before, the comparison was strict (Before).
	availableAtBoundary bool
	// staleMisscheduledOnUntaint: the controller may not resync a DaemonSet
	// when a node's taints change, leaving numberMisscheduled stale after a
	// new node's not-ready taint is lifted (kubernetes#132459, a regression
	// of v1.33.0; fixed by kubernetes#132477 on master for v1.35 and
	// back-ported to release-1.34 (#133749) and release-1.33 (#133992)).
	staleMisscheduledOnUntaint bool
}

// rulesFor returns the controller rules of a server version such as
// "v1.33.4", "v1.34.1-gke.1200" or "1.31".
func rulesFor(version string) controllerRules {
	r := controllerRules{version: version, minor: minorOf(version)}
	r.availableAtBoundary = r.minor == 0 || r.minor >= 34
	r.staleMisscheduledOnUntaint = r.minor == 33
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
