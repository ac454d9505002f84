package decode

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// The artifacts people hand over are rarely one `kubectl get -o yaml`: a
// directory (or a tarball of one) written by a tool, holding the objects
// daemoncheck reads next to logs, host data and JSON that is not a
// Kubernetes object at all. A layout is recognised by its structure (the
// directories and files it always has), never by the name of the directory
// or archive; inside a recognised layout, the files that hold the kinds
// daemoncheck reads are read strictly (any error fails the run, naming the
// file and document) and everything else is skipped, counted in one summary
// line. Files outside every recognised layout are read as before (every
// .json, .yaml and .yml file).

// layoutKind names a tool's directory layout.
type layoutKind int

const (
	plainFiles layoutKind = iota
	clusterInfoDump
	mustGather
	supportBundle
)

func (k layoutKind) String() string {
	switch k {
	case clusterInfoDump:
		return "kubectl cluster-info dump"
	case mustGather:
		return "oc adm must-gather"
	case supportBundle:
		return "troubleshoot.sh support bundle"
	}
	return "files"
}

// layoutRoot is one recognised layout inside a tree: the directory (prefix,
// "" or ending in "/") its paths are relative to.
type layoutRoot struct {
	kind   layoutKind
	prefix string
	read   int
	// skipped counts the files not read, by where they are (a top-level
	// directory of the layout, "logs", "other resources").
	skipped map[string]int
}

// relevantResources maps a resource (API group, or "core", and plural) to
// the kind daemoncheck reads from it.
var relevantResources = map[string]string{
	"core/nodes": "Node", "core/pods": "Pod", "core/events": "Event",
	"apps/daemonsets": "DaemonSet", "apps/controllerrevisions": "ControllerRevision",
	"scheduling.k8s.io/priorityclasses": "PriorityClass",
	"storage.k8s.io/csinodes":           "CSINode", "storage.k8s.io/csidrivers": "CSIDriver",
	"resource.k8s.io/resourceslices": "ResourceSlice",
}

// mustGatherResources are resource files every must-gather has in some
// namespace (namespaces/NS/GROUP/PLURAL.yaml): one of them marks the
// namespaces/ directory as a must-gather's, not a repository of manifests
// that happens to be laid out by namespace.
var mustGatherResources = map[string]bool{
	"core/pods.yaml": true, "core/events.yaml": true, "core/configmaps.yaml": true,
	"core/services.yaml": true, "core/endpoints.yaml": true, "core/persistentvolumeclaims.yaml": true,
	"core/replicationcontrollers.yaml": true, "core/secrets.yaml": true,
	"apps/daemonsets.yaml": true, "apps/deployments.yaml": true, "apps/replicasets.yaml": true,
	"apps/statefulsets.yaml": true, "apps/controllerrevisions.yaml": true,
}

// supportBundleResources are the per-namespace directories of a support
// bundle's cluster-resources/ that hold the kinds daemoncheck reads.
var supportBundleResources = map[string]string{
	"daemonsets": "DaemonSet", "pods": "Pod", "events": "Event", "controllerrevisions": "ControllerRevision",
}

// clusterInfoFiles are the per-namespace files of `kubectl cluster-info
// dump --output-directory` that hold the kinds daemoncheck reads, and
// clusterInfoOthers the ones it writes besides; any other file of the
// layout (one added by hand) is read as a plain file would be.
var (
	clusterInfoFiles = map[string]string{
		"daemonsets.json": "DaemonSet", "pods.json": "Pod", "events.json": "Event",
	}
	clusterInfoOthers = map[string]bool{
		"services.json": true, "deployments.json": true, "replicasets.json": true, "replication-controllers.json": true,
	}
)

func isYAMLName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

func isObjectFileName(name string) bool {
	return isYAMLName(name) || strings.ToLower(path.Ext(name)) == ".json"
}

// detectLayouts finds the layouts in a tree of slash-separated relative
// file paths, by structure:
//   - a must-gather: NS/GROUP/PLURAL.yaml files under namespaces/ (with a
//     resource every must-gather has), or cluster-scoped-resources/core/nodes/;
//   - a support bundle: cluster-resources/nodes.json or
//     cluster-resources/{daemonsets,pods,events}/NS.json;
//   - a cluster-info dump: nodes.json next to NS/{pods,daemonsets,events}.json.
func detectLayouts(rels []string) []*layoutRoot {
	set := make(map[string]bool, len(rels))
	for _, rel := range rels {
		set[rel] = true
	}
	found := map[string]layoutKind{}
	for _, rel := range rels {
		c := strings.Split(rel, "/")
		for i := range c {
			prefix := strings.Join(c[:i], "/")
			if prefix != "" {
				prefix += "/"
			}
			rest := c[i:]
			switch {
			case rest[0] == "namespaces" && len(rest) == 4 && mustGatherResources[rest[2]+"/"+rest[3]]:
				found[prefix] = mustGather
			case rest[0] == "cluster-scoped-resources" && len(rest) == 4 && rest[1] == "core" && rest[2] == "nodes" && isYAMLName(rest[3]):
				found[prefix] = mustGather
			case rest[0] == "cluster-resources" && len(rest) == 2 && rest[1] == "nodes.json",
				rest[0] == "cluster-resources" && len(rest) == 3 && supportBundleResources[rest[1]] != "" && path.Ext(rest[2]) == ".json":
				found[prefix] = supportBundle
			}
		}
		if n := len(c); n >= 2 && clusterInfoFiles[c[n-1]] != "" {
			prefix := strings.Join(c[:n-2], "/")
			if prefix != "" {
				prefix += "/"
			}
			if _, ok := found[prefix]; !ok && set[prefix+"nodes.json"] {
				found[prefix] = clusterInfoDump
			}
		}
	}
	roots := make([]*layoutRoot, 0, len(found))
	for p, k := range found {
		roots = append(roots, &layoutRoot{kind: k, prefix: p, skipped: map[string]int{}})
	}
	// Longest prefix first: a file belongs to the innermost layout.
	sort.Slice(roots, func(i, j int) bool {
		if len(roots[i].prefix) != len(roots[j].prefix) {
			return len(roots[i].prefix) > len(roots[j].prefix)
		}
		return roots[i].prefix < roots[j].prefix
	})
	return roots
}

// rootOf is the layout a file belongs to, nil if none.
func rootOf(roots []*layoutRoot, rel string) *layoutRoot {
	for _, l := range roots {
		if strings.HasPrefix(rel, l.prefix) {
			return l
		}
	}
	return nil
}

// classify says whether a file of the layout is read and with which kind
// expected ("*": any; a support bundle of older troubleshoot versions
// writes bare arrays of objects without their kind), or where it is for
// the skip summary.
func (l *layoutRoot) classify(rel string) (kind, where string) {
	rest := strings.Split(strings.TrimPrefix(rel, l.prefix), "/")
	top := rest[0] + "/"
	if len(rest) == 1 {
		top = "at its top"
	}
	const others = "other resources"
	switch l.kind {
	case mustGather:
		switch {
		case rest[0] == "namespaces" && len(rest) == 4 && isYAMLName(rest[3]):
			// namespaces/NS/GROUP/PLURAL.yaml: a List of one resource
			if k := relevantResources[rest[2]+"/"+strings.TrimSuffix(rest[3], path.Ext(rest[3]))]; k != "" {
				return k, ""
			}
			return "", others
		case rest[0] == "namespaces" && len(rest) == 5 && rest[2] == "pods" && rest[4] == rest[3]+".yaml":
			return "Pod", "" // namespaces/NS/pods/POD/POD.yaml
		case rest[0] == "namespaces" && len(rest) > 3 && rest[2] == "pods":
			return "", "logs"
		case rest[0] == "namespaces" && len(rest) == 5 && isYAMLName(rest[4]):
			// namespaces/NS/GROUP/PLURAL/NAME.yaml: one object
			if k := relevantResources[rest[2]+"/"+rest[3]]; k != "" {
				return k, ""
			}
			return "", others
		case rest[0] == "namespaces" && len(rest) == 3 && isYAMLName(rest[2]):
			return "", others // the Namespace itself
		case rest[0] == "cluster-scoped-resources" && len(rest) == 3 && isYAMLName(rest[2]):
			if k := relevantResources[rest[1]+"/"+strings.TrimSuffix(rest[2], path.Ext(rest[2]))]; k != "" {
				return k, ""
			}
			return "", others
		case rest[0] == "cluster-scoped-resources" && len(rest) == 4 && isYAMLName(rest[3]):
			if k := relevantResources[rest[1]+"/"+rest[2]]; k != "" {
				return k, ""
			}
			return "", others
		}
	case clusterInfoDump:
		switch {
		case len(rest) == 1 && rest[0] == "nodes.json":
			return "Node", ""
		case len(rest) == 2 && clusterInfoFiles[rest[1]] != "":
			return clusterInfoFiles[rest[1]], ""
		case len(rest) == 2 && clusterInfoOthers[rest[1]]:
			return "", others
		case len(rest) == 3 && rest[2] == "logs.txt":
			return "", "logs"
		case isObjectFileName(rel):
			return "*", ""
		}
	case supportBundle:
		if rest[0] != "cluster-resources" {
			break
		}
		switch {
		case len(rest) == 2 && rest[1] == "nodes.json":
			return "Node", ""
		case len(rest) == 2 && rest[1] == "priorityclasses.json":
			return "PriorityClass", ""
		case len(rest) == 3 && supportBundleResources[rest[1]] != "" && path.Ext(rest[2]) == ".json":
			return supportBundleResources[rest[1]], ""
		case len(rest) > 3 && rest[1] == "pods" && rest[2] == "logs":
			return "", "logs"
		}
		return "", others
	}
	return "", top
}

// skipSummary is the one line that says what a layout's files not read
// were, e.g. "read 70 files of the oc adm must-gather in DIR; skipped 1,280
// that hold no objects daemoncheck reads (900 of other resources, 370 logs,
// 4 in etcd_info/, ...)".
func (l *layoutRoot) skipSummary(at string) string {
	total := 0
	type group struct {
		where string
		n     int
	}
	var gs []group
	for w, n := range l.skipped {
		total += n
		gs = append(gs, group{w, n})
	}
	if total == 0 {
		return ""
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].n != gs[j].n {
			return gs[i].n > gs[j].n
		}
		return gs[i].where < gs[j].where
	})
	parts := make([]string, 0, len(gs))
	for i, g := range gs {
		if i == 6 {
			parts = append(parts, "...")
			break
		}
		switch {
		case g.where == "logs":
			parts = append(parts, fmt.Sprintf("%d logs", g.n))
		case g.where == "other resources":
			parts = append(parts, fmt.Sprintf("%d of other resources", g.n))
		case g.where == "at its top":
			parts = append(parts, fmt.Sprintf("%d %s at its top", g.n, plural(g.n, "file", "files")))
		case strings.HasSuffix(g.where, "/"):
			parts = append(parts, fmt.Sprintf("%d in %s", g.n, g.where))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", g.n, g.where))
		}
	}
	return fmt.Sprintf("read %d files of the %s in %s; skipped %d that hold no objects daemoncheck reads (%s)", l.read, l.kind, at, total, strings.Join(parts, ", "))
}
