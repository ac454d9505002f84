package storage

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Node plugins: a CSI node plugin registers its driver with the kubelet
// through the node-driver-registrar sidecar, and the kubelet lists it in
// the node's CSINode (pkg/volume/csi/nodeinfomanager); a DRA kubelet plugin
// publishes ResourceSlices for its node. A registration or slice on a node
// where the plugin does not run is a promise nobody keeps there: the
// kubelet cannot mount the driver's volumes (or prepare claims on its
// devices) on that node.
func init() {
	register(detector{typ: report.DriverWithoutPlugin,
		ds: func(c dsContext) []report.Finding {
			c.pluginUnknowns()
			return nil
		},
		node: func(c dsContext, n *nodeCase) []report.Finding {
			role := c.role()
			if role == nil || len(role.drivers) == 0 || n.Node == nil || n.Verdict.ShouldRun || runningPod(n.Pods) != nil {
				// A targeted node without a running Pod is MissingPod's,
				// PendingPod's or UnhealthyPod's.
				return nil
			}
			// One finding per reason and node (a finding's ID is its
			// DaemonSet, node, type and reason): a plugin of two drivers
			// names both.
			var csi, dra []pluginDriver
			var slices []string
			x := c.plugins()
			for _, d := range role.drivers {
				if x.csiOn(n.Name, d.name) {
					csi = append(csi, d)
				}
				if s := x.slicesOn(n.Name, d.name); len(s) > 0 {
					dra = append(dra, d)
					slices = append(slices, s...)
				}
			}
			var out []report.Finding
			if len(csi) > 0 {
				out = append(out, c.driverWithoutPlugin(n.Node, n.Verdict, csi, report.ReasonCSIRegistered, ""))
			}
			if len(dra) > 0 {
				out = append(out, c.driverWithoutPlugin(n.Node, n.Verdict, dra, report.ReasonSlicePublished, strings.Join(slices, ", ")))
			}
			return out
		}})
	register(detector{typ: report.PluginNotRegistered, node: func(c dsContext, n *nodeCase) []report.Finding {
		role, x := c.role(), c.plugins()
		if role == nil || len(role.drivers) == 0 || n.Node == nil || !x.csiKnown(n.Name) {
			return nil
		}
		p := runningPod(n.Pods)
		if p == nil || !p.Ready {
			return nil
		}
		var missing []pluginDriver
		for _, d := range role.drivers {
			if d.csi && !x.csiOn(n.Name, d.name) {
				missing = append(missing, d)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		return []report.Finding{c.pluginNotRegistered(n.Node, p, missing)}
	}})
}

// runningPod is the first Pod of a node case that runs (phase Running, not
// being deleted), nil if none.
func runningPod(pods []*model.DaemonPod) *model.DaemonPod {
	for _, p := range pods {
		if !p.Deleting && p.Phase == corev1.PodRunning {
			return p
		}
	}
	return nil
}

// pluginsKey, roleKey and indexKey name what the detectors of node plugins
// compute once: the registrations of every node once per analysis, the
// DaemonSet's role and the index it reads once per DaemonSet.
var pluginsKey, roleKey, indexKey = detect.NewKey("plugins"), detect.NewKey("plugin role"), detect.NewKey("plugins of the DaemonSet")

// pluginsOf is the registrations of every node, built once per analysis.
func pluginsOf(cl *detect.Cluster) *pluginIndex {
	return detect.Shared(cl, pluginsKey, func(cl *detect.Cluster) *pluginIndex { return newPluginIndex(cl.Snap) })
}

// plugins is pluginsOf the DaemonSet's cluster.
func (c dsContext) plugins() *pluginIndex {
	return detect.Once(c.Context, indexKey, func() *pluginIndex { return pluginsOf(c.Cluster) })
}

// role is what the DaemonSet is to the node plugins, nil when it is none's.
func (c dsContext) role() *pluginRole {
	return detect.Once(c.Context, roleKey, func() *pluginRole { return c.plugins().roleOf(c.DS) })
}

// pluginIndex is the registrations of every node, built once per analysis.
type pluginIndex struct {
	plugins *model.Plugins
	// missing are the snapshot's gaps (a refused read of a kind).
	missing map[model.Kind]model.Gap
	// csi[node] are the drivers the node's CSINode lists; a node without
	// a CSINode object is not in it (unknown, not "none").
	csi map[string][]string
	// slices[node] are the node's ResourceSlices.
	slices map[string][]model.ResourceSlice
	// known are the driver names some registration, CSIDriver or slice
	// names: the only names a path is matched against.
	known map[string]bool
	// csiDrivers and draDrivers say which known names are CSI drivers
	// (registered on a node or a CSIDriver) and which publish slices.
	csiDrivers, draDrivers map[string]bool
	// fromAnnotation: CSINodes were not read, and csi comes from the
	// nodes' model.CSINodeIDAnnotation instead.
	fromAnnotation bool
}

func newPluginIndex(snap *model.Snapshot) *pluginIndex {
	p := &snap.Plugins
	x := &pluginIndex{plugins: p, missing: snap.Missing, csi: map[string][]string{}, slices: map[string][]model.ResourceSlice{},
		known: map[string]bool{}, csiDrivers: map[string]bool{}, draDrivers: map[string]bool{}}
	for _, n := range p.CSINodes {
		x.csi[n.Node] = n.Drivers
	}
	if !p.CSINodesRead {
		// The kubelet writes the annotation in the same step as the
		// CSINode entry: a node without it has registered no driver, or
		// is unknown (a kubelet that never ran a CSI plugin); only nodes
		// with it are judged.
		for i := range snap.Nodes {
			n := &snap.Nodes[i]
			v, ok := n.Annotations[model.CSINodeIDAnnotation]
			if !ok {
				continue
			}
			var ids map[string]string
			if json.Unmarshal([]byte(v), &ids) != nil {
				continue
			}
			drivers := make([]string, 0, len(ids))
			for d := range ids {
				drivers = append(drivers, d)
			}
			sort.Strings(drivers)
			x.csi[n.Name], x.fromAnnotation = drivers, true
		}
	}
	for _, ds := range x.csi {
		for _, d := range ds {
			x.known[d], x.csiDrivers[d] = true, true
		}
	}
	for _, d := range p.CSIDrivers {
		x.known[d], x.csiDrivers[d] = true, true
	}
	for _, s := range p.ResourceSlices {
		x.slices[s.Node] = append(x.slices[s.Node], s)
		x.known[s.Driver], x.draDrivers[s.Driver] = true, true
	}
	return x
}

// csiKnown says whether the node's CSINode was read.
func (x *pluginIndex) csiKnown(node string) bool {
	_, ok := x.csi[node]
	return ok
}

// csiOn says whether the node's CSINode lists the driver.
func (x *pluginIndex) csiOn(node, driver string) bool {
	for _, d := range x.csi[node] {
		if d == driver {
			return true
		}
	}
	return false
}

// pluginRole is what a DaemonSet is to the node plugins: the drivers it is
// the node plugin of, with the evidence, and registrar paths that name no
// known driver (a CSI node plugin of a driver that cannot be told).
type pluginRole struct {
	drivers    []pluginDriver
	unresolved []string
}

type pluginDriver struct {
	name, evidence string
	csi, dra       bool
}

var (
	// kubeletPluginDir finds the directory a path names under the
	// kubelet's plugins directory, whatever the kubelet's root
	// (/var/lib/kubelet, /var/lib/k0s/kubelet, microk8s' snap path).
	kubeletPluginDir = regexp.MustCompile(`kubelet/plugins/([^/\s"']+)`)
	// envRef is a $(VAR) reference, which the kubelet expands in
	// command and args from the container's env.
	envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)
)

// driverNameFlags name a CSI driver outright (csi-driver-host-path,
// csi-driver-nfs, ceph-csi: --drivername; others --driver-name,
// --csi-driver-name).
var driverNameFlags = map[string]bool{"drivername": true, "driver-name": true, "csi-driver-name": true}

// roleOf says which drivers ds is the node plugin of. Evidence, strongest
// first: a flag that names the driver; the registrar's
// --kubelet-registration-path, another argument or an env value, or a
// hostPath volume under the kubelet's plugins directory, when the
// directory is a known driver's name (csi-driver-host-path registers
// /var/lib/kubelet/plugins/csi-hostpath/csi.sock for hostpath.csi.k8s.io:
// a directory is not a driver name until something names it so). Nothing
// is guessed from the DaemonSet's name or image.
func (x *pluginIndex) roleOf(ds *appsv1.DaemonSet) *pluginRole {
	if x == nil {
		return nil
	}
	spec := &ds.Spec.Template.Spec
	found := map[string]string{}
	var unresolved []string
	note := func(driver, evidence string) {
		if driver != "" && found[driver] == "" {
			found[driver] = evidence
		}
	}
	pathDriver := func(s string) (string, bool) {
		m := kubeletPluginDir.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		return m[1], x.known[m[1]]
	}
	ctrs := make([]*corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	for i := range spec.InitContainers {
		ctrs = append(ctrs, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		ctrs = append(ctrs, &spec.Containers[i])
	}
	for _, ctr := range ctrs {
		args := expandedArgs(ctr)
		for i, a := range args {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			flag, val, eq := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !eq && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				val = args[i+1]
			}
			switch {
			case driverNameFlags[flag] && val != "":
				note(val, fmt.Sprintf("container %s: --%s=%s", ctr.Name, flag, val))
			case flag == "kubelet-registration-path":
				if d, ok := pathDriver(val); ok {
					note(d, fmt.Sprintf("container %s: --kubelet-registration-path=%s", ctr.Name, val))
				} else if d != "" {
					unresolved = append(unresolved, val)
				}
			default:
				if d, ok := pathDriver(val); ok {
					note(d, fmt.Sprintf("container %s: --%s=%s", ctr.Name, flag, val))
				}
			}
		}
		for _, e := range ctr.Env {
			if d, ok := pathDriver(e.Value); ok && e.ValueFrom == nil {
				note(d, fmt.Sprintf("container %s: env %s=%s", ctr.Name, e.Name, e.Value))
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		if d, ok := pathDriver(v.HostPath.Path); ok {
			note(d, fmt.Sprintf("hostPath volume %s: %s", v.Name, v.HostPath.Path))
		}
	}
	if len(found) == 0 && len(unresolved) == 0 {
		return nil
	}
	r := &pluginRole{unresolved: unresolved}
	for name, ev := range found {
		// A flag naming a driver no registration names is still a CSI
		// driver's: the flags are the CSI sidecars' and drivers' own.
		r.drivers = append(r.drivers, pluginDriver{name: name, evidence: ev, csi: x.csiDrivers[name] || !x.known[name], dra: x.draDrivers[name]})
	}
	sort.Slice(r.drivers, func(i, j int) bool { return r.drivers[i].name < r.drivers[j].name })
	return r
}

// expandedArgs are the container's command and arguments with $(VAR)
// references to its plain env values expanded, as the kubelet does.
func expandedArgs(ctr *corev1.Container) []string {
	env := map[string]string{}
	for _, e := range ctr.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	args := make([]string, 0, len(ctr.Command)+len(ctr.Args))
	for _, a := range append(append([]string{}, ctr.Command...), ctr.Args...) {
		args = append(args, envRef.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		}))
	}
	return args
}

// pluginUnknowns says in the DaemonSet's report what could not be checked
// about it as a node plugin: registrations not read, or a registrar whose
// driver cannot be told.
func (c dsContext) pluginUnknowns() {
	r, p := c.role(), c.plugins().plugins
	if r == nil {
		return
	}
	anyCSI := len(r.unresolved) > 0
	for _, d := range r.drivers {
		anyCSI = anyCSI || d.csi
	}
	if anyCSI && !p.CSINodesRead && !c.plugins().fromAnnotation {
		// Nothing to match the registrar's directory against, nor
		// registrations to check: one line says both.
		what := "its driver's"
		if len(r.unresolved) > 0 {
			what = "the driver of its registrar's " + strings.Join(r.unresolved, ", ") + " and its"
		}
		c.Report.Unknown = append(c.Report.Unknown, "CSI node plugin: "+unreadWhy(c.snapMissing(model.CSINodes), "csinodes")+"; "+what+" registrations on nodes without its Pod are unknown")
		return
	}
	for _, path := range r.unresolved {
		c.Report.Unknown = append(c.Report.Unknown, fmt.Sprintf("CSI node plugin of an unidentified driver: its registrar registers %s, and no CSINode or CSIDriver names a driver after that directory; its registrations are not checked", path))
	}
}

// unreadWhy says why a kind was not read: the gap's reason when the server
// refused it, else that the input lacks it.
func unreadWhy(gap *model.Gap, resource string) string {
	if gap != nil {
		return gap.Reason
	}
	return resource + " not read (not in the input, or not served)"
}

// snapMissing is the gap of kind k, nil when it was not refused.
func (c dsContext) snapMissing(k model.Kind) *model.Gap {
	if g, ok := c.plugins().missing[k]; ok {
		return &g
	}
	return nil
}

// driverWithoutPlugin reports the registrations (reason CSIRegistered) or
// the slices (SlicePublished) of drivers on a node where their plugin does
// not run, and the DaemonSet does not target.
func (c dsContext) driverWithoutPlugin(node *corev1.Node, v scheduling.Verdict, ds []pluginDriver, reason report.Reason, slices string) report.Finding {
	names, evidence := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		names[i], evidence[i] = d.name, d.evidence
	}
	driver := strings.Join(names, ", ")
	f := report.Finding{Type: report.DriverWithoutPlugin, Node: node.Name, Reason: reason,
		Params: report.Params{Rule: string(v.Cause), Detail: detect.RuleOf(v.Reason), Other: driver}}
	where := "its CSINode lists it"
	if c.plugins().fromAnnotation {
		where = "its " + model.CSINodeIDAnnotation + " annotation lists it; CSINodes were not read"
	}
	what, harm := "CSI driver "+driver+" is registered on node "+node.Name+" ("+where+")",
		"the kubelet cannot mount or unmount its volumes there: a Pod placed there with one stays ContainerCreating, and volumes left mounted cannot be cleaned up"
	f.Cause = "CSI driver " + driver + " registered where its node plugin does not run: " + detect.RuleOf(v.Reason)
	after := "; if the node should not have the driver, move its workloads off and remove the registration (the kubelet drops it when the plugin's registration socket goes away)"
	if reason == report.ReasonSlicePublished {
		f.Params.Resource = slices
		what = "DRA driver " + driver + " published ResourceSlice " + slices + " for node " + node.Name
		harm = "the scheduler can allocate its devices there, but no kubelet plugin prepares them: Pods with such claims do not start"
		f.Cause = "DRA driver " + driver + " publishes devices where its kubelet plugin does not run: " + detect.RuleOf(v.Reason)
		after = "; if the node should not have the driver, delete its ResourceSlices once no claim uses their devices"
	}
	f.Message = fmt.Sprintf("%s, but no Pod of its node plugin %s/%s runs there (identified by %s), and the DaemonSet does not target the node: %s; %s",
		what, c.DS.Namespace, c.DS.Name, strings.Join(evidence, "; "), v.Reason, harm)
	a := explain.ExclusionFix(c.DS, c.Eval, node, v, "the driver's registration", explain.LiveNode(node.Name))
	if v.Cause == scheduling.CauseNodeSelector {
		// Labelling the node is not a change to the DaemonSet.
		explain.Advise(&f, "to run the plugin there: "+a.Text+after, a.Commands...)
		return f
	}
	c.AdviseChange(&f, owner.Change{What: "the node selector, affinity or tolerations of the Pod template, so that it targets node " + node.Name, Field: "spec.template.spec"},
		"to run the plugin there: "+a.Text+after, a.Commands...)
	return f
}

// pluginNotRegistered reports a Ready plugin Pod whose drivers the node's
// CSINode does not list.
func (c dsContext) pluginNotRegistered(node *corev1.Node, p *model.DaemonPod, ds []pluginDriver) report.Finding {
	names, evidence := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		names[i], evidence[i] = d.name, d.evidence
	}
	driver := strings.Join(names, ", ")
	f := report.Finding{Type: report.PluginNotRegistered, Node: node.Name, Pod: p.Name, Reason: report.ReasonCSINotRegistered,
		Params: report.Params{Other: driver}, Cause: "CSI driver " + driver + " not registered with the kubelet"}
	f.Since = detect.SinceOf(p.ReadySince)
	where := "the node's CSINode does not list"
	if c.plugins().fromAnnotation {
		where = "the node's " + model.CSINodeIDAnnotation + " annotation does not list"
	}
	f.Message = fmt.Sprintf("Pod %s of the CSI node plugin runs and is Ready on node %s, but %s driver %s (identified by %s): the kubelet did not take the registration, so it cannot mount the driver's volumes there",
		p.Name, node.Name, where, driver, strings.Join(evidence, "; "))
	explain.Advise(&f, "read the registrar's log ({0}) and check that --kubelet-registration-path is under the kubelet's root directory on that node",
		explain.Kubectl("logs", "-n", c.DS.Namespace, p.Name, "--all-containers", "--tail", "50"))
	return f
}

// Warnings names the drivers registered on nodes (or publishing
// slices) that no audited DaemonSet is identified as the plugin of: their
// registrations are not checked, and that is said rather than guessed.
func Warnings(cl *detect.Cluster, dss []*appsv1.DaemonSet) []string {
	x := pluginsOf(cl)
	if len(x.csi) == 0 && len(x.slices) == 0 {
		return nil
	}
	served := map[string]bool{}
	for _, ds := range dss {
		if r := x.roleOf(ds); r != nil {
			for _, d := range r.drivers {
				served[d.name] = true
			}
		}
	}
	nodesOf := map[string]int{}
	for _, ds := range x.csi {
		for _, d := range ds {
			nodesOf[d]++
		}
	}
	for _, ss := range x.slices {
		seen := map[string]bool{}
		for _, s := range ss {
			if !seen[s.Driver] {
				seen[s.Driver] = true
				nodesOf[s.Driver]++
			}
		}
	}
	var names []string
	for d := range nodesOf {
		if !served[d] {
			names = append(names, d)
		}
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, d := range names {
		out = append(out, fmt.Sprintf("node plugin of driver %s (registered or publishing on %d nodes) unknown: no audited DaemonSet names it in a driver-name flag, a registration path, an env value or a hostPath under the kubelet's plugins directory; its nodes are not checked for the plugin", d, nodesOf[d]))
	}
	return out
}
