package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// MaxProposalBytes bounds one what-if input (a manifest of a pull request):
// far above any real one.
var MaxProposalBytes int64 = 16 << 20

// proposalObject is one object of a what-if input, decoded enough to route.
type proposalObject struct {
	file       string
	doc        int
	apiVersion string
	kind       string
	name       string
	namespace  string
	raw        json.RawMessage
}

// proposalKinds says what a what-if reads, for messages.
const proposalKinds = "Node (v1), NodePool (karpenter.sh/v1), MachineDeployment, MachineSet or MachinePool (cluster.x-k8s.io/v1beta1 or v1beta2) and DaemonSet (apps/v1)"

// ReadProposal reads what-if inputs: files, directories (their *.json,
// *.yaml and *.yml files) or "-" for stdin, each JSON or YAML, one object,
// a List or several documents. Node, NodePool, MachineDeployment,
// MachineSet and MachinePool objects become pool templates, DaemonSets
// changes; a bootstrap or infrastructure template a MachineDeployment
// references is read when it is in the input too; other kinds are ignored
// with a warning.
func ReadProposal(paths []string, stdin io.Reader) (*model.Proposal, error) {
	var objs []proposalObject
	prop := &model.Proposal{}
	for _, p := range paths {
		if p == "-" {
			prop.Inputs = append(prop.Inputs, "<stdin>")
			data, err := io.ReadAll(io.LimitReader(stdin, MaxProposalBytes+1))
			if err != nil {
				return nil, &InputError{File: "<stdin>", Err: err}
			}
			if int64(len(data)) > MaxProposalBytes {
				return nil, &InputError{File: "<stdin>", Err: fmt.Errorf("larger than %d bytes", MaxProposalBytes)}
			}
			more, err := decodeProposal("<stdin>", data)
			if err != nil {
				return nil, err
			}
			objs = append(objs, more...)
			continue
		}
		files, skipped, err := expand(p)
		if err != nil {
			return nil, err
		}
		prop.Warnings = append(prop.Warnings, skipped...)
		for _, f := range files {
			prop.Inputs = append(prop.Inputs, f)
			data, err := ReadFileBounded(f, MaxProposalBytes)
			if err != nil {
				return nil, &InputError{File: f, Err: unwrapPathError(err)}
			}
			more, err := decodeProposal(f, data)
			if err != nil {
				return nil, err
			}
			objs = append(objs, more...)
		}
	}
	if err := translate(objs, prop); err != nil {
		return nil, err
	}
	if len(prop.Pools) == 0 && len(prop.DaemonSets) == 0 {
		return nil, &InputError{File: strings.Join(prop.Inputs, ", "), Err: fmt.Errorf("nothing to evaluate: no %s", proposalKinds)}
	}
	return prop, nil
}

// decodeProposal splits a file into objects (documents, List items). Every
// document is read, or the error names the one that could not be: JSON or
// YAML is told by the first character after any blank and comment lines
// (a JSON stream saved with a "# note" on top is JSON, and each of its
// values a document), and a YAML document that holds more than one JSON
// value is refused rather than cut to its first (the YAML library keeps
// the first value and drops the rest without a word).
func decodeProposal(file string, data []byte) ([]proposalObject, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &InputError{File: file, Err: errors.New("binary data (a NUL byte), not JSON or YAML")}
	}
	var out []proposalObject
	add := func(doc int, raw []byte) error {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return nil // an empty document ("---" at the end)
		}
		if err := splitObject(file, doc, raw, 1, &out); err != nil {
			return &InputError{File: file, Doc: doc, Err: err}
		}
		return nil
	}
	if body := skipBlankAndComments(data); len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(body))
		for doc := 1; ; doc++ {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid JSON: %s", text.OneLine(err.Error()))}
			}
			if err := add(doc, raw); err != nil {
				return nil, err
			}
		}
	} else {
		yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for doc := 1; ; doc++ {
			chunk, err := yr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid YAML: %s", text.OneLine(err.Error()))}
			}
			if blankOrCommentOnly(chunk) {
				continue
			}
			if err := oneValue(chunk); err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: err}
			}
			j, err := yaml.YAMLToJSON(chunk)
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid JSON or YAML: %s", text.OneLine(err.Error()))}
			}
			if err := add(doc, j); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, &InputError{File: file, Err: errors.New("empty input")}
	}
	return out, nil
}

// skipBlankAndComments drops the blank and comment lines before the first
// content.
func skipBlankAndComments(data []byte) []byte {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line = data[:i+1]
		}
		if !blankOrComment(line) {
			return bytes.TrimLeft(data, " \t\r")
		}
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}

func splitObject(file string, doc int, raw json.RawMessage, depth int, out *[]proposalObject) error {
	if raw[0] != '{' {
		return errors.New("expected a Kubernetes object (a JSON/YAML mapping)")
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("not a Kubernetes object: %s", text.OneLine(err.Error()))
	}
	if head.Kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(head.Kind, "List") {
		if depth > maxListDepth {
			return fmt.Errorf("Lists nested more than %d deep", maxListDepth) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
		}
		for i, item := range head.Items {
			item = bytes.TrimSpace(item)
			if len(item) == 0 {
				continue
			}
			if err := splitObject(file, doc, item, depth+1, out); err != nil {
				return fmt.Errorf("%s item %d: %w", head.Kind, i+1, err)
			}
		}
		return nil
	}
	*out = append(*out, proposalObject{file: file, doc: doc, apiVersion: head.APIVersion, kind: head.Kind,
		name: head.Metadata.Name, namespace: head.Metadata.Namespace, raw: raw})
	return nil
}

// Cluster API groups and the versions whose template fields are read.
const capiGroup = "cluster.x-k8s.io"

func capiVersion(apiVersion string) (string, bool) {
	v, ok := strings.CutPrefix(apiVersion, capiGroup+"/")
	return v, ok && (v == "v1beta1" || v == "v1beta2")
}

// translate turns the objects into pool templates and DaemonSet changes.
func translate(objs []proposalObject, prop *model.Proposal) error {
	// Templates a MachineDeployment may reference, by kind and name.
	refs := map[[2]string]*proposalObject{}
	for i := range objs {
		o := &objs[i]
		refs[[2]string{o.kind, o.name}] = o
	}
	used := map[*proposalObject]bool{}
	ignored := map[string]int{}
	for i := range objs {
		o := &objs[i]
		fail := func(err error) error { return &InputError{File: o.file, Doc: o.doc, Err: err} }
		switch {
		case o.kind == "Node" && o.apiVersion == "v1":
			t, err := nodeTemplate(o)
			if err != nil {
				return fail(err)
			}
			prop.Pools = append(prop.Pools, t)
		case o.kind == "NodePool" && o.apiVersion == "karpenter.sh/v1":
			t, err := karpenterTemplate(o)
			if err != nil {
				return fail(err)
			}
			prop.Pools = append(prop.Pools, t)
		case o.kind == "NodePool" && strings.HasPrefix(o.apiVersion, "karpenter.sh/"):
			return fail(fmt.Errorf("NodePool %s has apiVersion %s; whatif reads karpenter.sh/v1 (export it from a Karpenter v1 cluster: kubectl get nodepool %s -o yaml)", o.name, o.apiVersion, o.name))
		case o.kind == "MachineDeployment" || o.kind == "MachineSet" || o.kind == "MachinePool":
			v, ok := capiVersion(o.apiVersion)
			if !ok {
				if strings.HasPrefix(o.apiVersion, capiGroup+"/") {
					return fail(fmt.Errorf("%s %s has apiVersion %s; whatif reads %s/v1beta1 and v1beta2", o.kind, o.name, o.apiVersion, capiGroup))
				}
				ignored[o.kind]++
				continue
			}
			t, err := capiTemplate(o, v, refs, used)
			if err != nil {
				return fail(err)
			}
			prop.Pools = append(prop.Pools, t)
		case o.kind == "DaemonSet" && o.apiVersion == "apps/v1":
			var ds appsv1.DaemonSet
			if err := json.Unmarshal(o.raw, &ds); err != nil {
				return fail(fmt.Errorf("invalid DaemonSet: %s", text.OneLine(err.Error())))
			}
			if ds.Name == "" {
				return fail(errors.New("DaemonSet has no metadata.name"))
			}
			if err := capacity.CheckPodSpec(&ds.Spec.Template.Spec, "spec.template.spec"); err != nil {
				return fail(fmt.Errorf("DaemonSet %s: %w", ds.Name, err))
			}
			ds.Status = appsv1.DaemonSetStatus{}
			prop.DaemonSets = append(prop.DaemonSets, ds)
			prop.Sources = append(prop.Sources, o.file)
		case o.kind == "DaemonSet":
			return fail(fmt.Errorf("DaemonSet %s has apiVersion %s; whatif reads apps/v1", o.name, o.apiVersion))
		default:
			ignored[o.kind]++
		}
	}
	for o := range used {
		ignored[o.kind]--
	}
	var kinds []string
	total := 0
	for k, n := range ignored {
		if n > 0 {
			kinds = append(kinds, k)
			total += n
		}
	}
	if total > 0 {
		sort.Strings(kinds)
		prop.Warnings = append(prop.Warnings, fmt.Sprintf("ignored %d objects of kinds whatif does not read (%s); it reads %s", total, strings.Join(kinds, ", "), proposalKinds))
	}
	return nil
}

// nodeTemplate is a Node manifest as the node it describes.
func nodeTemplate(o *proposalObject) (model.PoolTemplate, error) {
	var n corev1.Node
	if err := json.Unmarshal(o.raw, &n); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid Node: %s", text.OneLine(err.Error()))
	}
	if n.Name == "" {
		return model.PoolTemplate{}, errors.New("Node has no metadata.name") //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	if err := checkTaints(n.Spec.Taints, "spec.taints"); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("Node %s: %w", n.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	if err := capacity.CheckNode(&n); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("Node %s: %w", n.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	t := model.PoolTemplate{Source: o.file, Kind: "Node", APIVersion: o.apiVersion, Name: n.Name, NodeName: n.Name,
		Labels: copyLabels(n.Labels), Taints: n.Spec.Taints,
		OS: n.Status.NodeInfo.OperatingSystem, Arch: n.Status.NodeInfo.Architecture}
	switch {
	case len(n.Status.Allocatable) > 0:
		t.Allocatable, t.AllocatableFrom = n.Status.Allocatable, "the manifest's status.allocatable"
	case len(n.Status.Capacity) > 0:
		t.Allocatable, t.AllocatableFrom = n.Status.Capacity, "the manifest's status.capacity (no status.allocatable: the kubelet reserves part of it, so the fit is optimistic)"
	}
	t.InstanceType = t.Labels[corev1.LabelInstanceTypeStable]
	if n.Spec.Unschedulable {
		t.Notes = append(t.Notes, "spec.unschedulable is set: daemon Pods tolerate it (node.kubernetes.io/unschedulable), other Pods do not")
	}
	return t, nil
}

// karpenterNodePool is the part of a karpenter.sh/v1 NodePool that decides
// what its nodes carry (sigs.k8s.io/karpenter pkg/apis/v1 NodePoolSpec,
// NodeClaimTemplate, NodeClaimSpec); the rest (disruption, limits, weight)
// does not matter to daemons.
type karpenterNodePool struct {
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Taints        []corev1.Taint `json:"taints"`
				StartupTaints []corev1.Taint `json:"startupTaints"`
				Requirements  []struct {
					Key      string   `json:"key"`
					Operator string   `json:"operator"`
					Values   []string `json:"values"`
				} `json:"requirements"`
				NodeClassRef *struct {
					Group string `json:"group"`
					Kind  string `json:"kind"`
					Name  string `json:"name"`
				} `json:"nodeClassRef"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// Karpenter's well-known labels (pkg/apis/v1 labels.go WellKnownLabels): it
// sets each on every node, to the value of the instance type and offering
// it launched, within the NodePool's requirements.
const (
	karpenterNodePoolLabel    = "karpenter.sh/nodepool"
	karpenterCapacityType     = "karpenter.sh/capacity-type"
	karpenterRegisteredLabel  = "karpenter.sh/registered"
	karpenterInitializedLabel = "karpenter.sh/initialized"
)

var karpenterWellKnown = []string{
	corev1.LabelArchStable, corev1.LabelOSStable, corev1.LabelInstanceTypeStable,
	corev1.LabelTopologyZone, corev1.LabelTopologyRegion, karpenterCapacityType,
}

// karpenterTemplate mirrors how Karpenter labels and taints a node
// (NewNodeClaimTemplate and the registration controller's syncNode in
// sigs.k8s.io/karpenter): the template's labels, karpenter.sh/nodepool and
// the NodeClass label, a concrete value for every requirement on a custom
// key, the well-known labels of the instance type it picks, and the
// template's taints and startupTaints. karpenter.sh/registered and
// karpenter.sh/initialized are set once the node is up.
func karpenterTemplate(o *proposalObject) (model.PoolTemplate, error) {
	var np karpenterNodePool
	if err := json.Unmarshal(o.raw, &np); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid NodePool: %s", text.OneLine(err.Error()))
	}
	if o.name == "" {
		return model.PoolTemplate{}, errors.New("NodePool has no metadata.name")
	}
	s := &np.Spec.Template.Spec
	for _, tt := range []struct {
		ts    []corev1.Taint
		field string
	}{{s.Taints, "spec.template.spec.taints"}, {s.StartupTaints, "spec.template.spec.startupTaints"}} {
		if err := checkTaints(tt.ts, tt.field); err != nil {
			return model.PoolTemplate{}, fmt.Errorf("NodePool %s: %w", o.name, err)
		}
	}
	t := model.PoolTemplate{Source: o.file, Kind: "NodePool", APIVersion: o.apiVersion, Name: o.name,
		Labels: copyLabels(np.Spec.Template.Metadata.Labels), Taints: s.Taints, StartupTaints: s.StartupTaints}
	fill := func(k, v string) {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = v
			t.Filled = append(t.Filled, k)
		}
	}
	fill(karpenterNodePoolLabel, o.name)
	if ref := s.NodeClassRef; ref != nil && ref.Group != "" && ref.Kind != "" && ref.Name != "" {
		// NodeClassLabelKey: group/lowercased kind, e.g. karpenter.k8s.aws/ec2nodeclass.
		fill(ref.Group+"/"+strings.ToLower(ref.Kind), ref.Name)
	}
	fill(karpenterRegisteredLabel, "true")
	fill(karpenterInitializedLabel, "true")
	constrained := map[string]bool{}
	for i, r := range s.Requirements {
		req := corev1.NodeSelectorRequirement{Key: r.Key, Operator: corev1.NodeSelectorOperator(r.Operator), Values: r.Values}
		where := fmt.Sprintf("NodePool %s: spec.template.spec.requirements[%d] (%s)", o.name, i, r.Key)
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) == 0 {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs values", where, r.Operator)
			}
		case "Exists", "DoesNotExist":
		case "Gt", "Lt", "Gte", "Lte":
			// Gte/Lte are Karpenter's; a node selector only has Gt/Lt.
			if len(r.Values) != 1 {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs one integer value", where, r.Operator)
			}
			// Kept as written: Gte n is not Gt n-1 at the int64 bound,
			// where n-1 wraps to the other end and nothing matches.
			if n, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil || strconv.FormatInt(n, 10) != r.Values[0] {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs an integer (int64), got %q", where, r.Operator, r.Values[0])
			}
		default:
			return model.PoolTemplate{}, fmt.Errorf("%s: unknown operator %q (In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte)", where, r.Operator)
		}
		constrained[r.Key] = true
		t.Requirements = append(t.Requirements, req)
	}
	for _, k := range karpenterWellKnown {
		if _, fixed := t.Labels[k]; fixed || constrained[k] {
			continue
		}
		if k == corev1.LabelOSStable {
			// The NodeClass's image family decides the OS, not the pool.
			t.Labels[k] = "linux"
			t.Filled = append(t.Filled, k)
			t.Notes = append(t.Notes, "kubernetes.io/os: the NodePool does not constrain it; assumed linux (the NodeClass's image decides; add a kubernetes.io/os requirement, or give --os)")
			continue
		}
		// Set on every node, to a value the cloud provider offers.
		t.Chosen = append(t.Chosen, k)
	}
	if v, ok := t.Labels[corev1.LabelInstanceTypeStable]; ok {
		t.InstanceType = v
	}
	if len(s.StartupTaints) > 0 {
		t.Notes = append(t.Notes, "startupTaints are on each node until something removes them (usually a DaemonSet that tolerates them); Karpenter does not provision for them")
	}
	return t, nil
}

// capiMachine is the part of a Cluster API MachineDeployment, MachineSet or
// MachinePool (v1beta1 and v1beta2; sigs.k8s.io/cluster-api api/core) that
// reaches the Node: spec.template (a MachineTemplateSpec).
type capiMachine struct {
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Bootstrap struct {
					ConfigRef *capiRef `json:"configRef"`
				} `json:"bootstrap"`
				InfrastructureRef capiRef `json:"infrastructureRef"`
				// Taints exist since Cluster API v1.12 in both versions.
				Taints []struct {
					corev1.Taint `json:",inline"`
					Propagation  string `json:"propagation"`
				} `json:"taints"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// capiRef is a v1beta1 ObjectReference or a v1beta2
// ContractVersionedObjectReference: kind and name are what both have.
type capiRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Label domains the Machine controller syncs to the Node (Cluster API book,
// "Metadata propagation", Machine; util/labels GetManagedLabels).
const (
	capiNodeRolePrefix       = "node-role.kubernetes.io"
	capiNodeRestrictionLabel = "node-restriction.kubernetes.io"
	capiManagedLabelDomain   = "node.cluster.x-k8s.io"
)

// capiSynced says whether the Machine controller copies a Machine label to
// its Node: the node-role.kubernetes.io prefix, and the
// node-restriction.kubernetes.io and node.cluster.x-k8s.io domains and their
// subdomains (GetManagedLabels). The manager's --additional-sync-machine-
// labels patterns are not known here.
func capiSynced(key string) bool {
	domain, _, _ := strings.Cut(key, "/")
	if domain == capiNodeRolePrefix {
		return true
	}
	for _, d := range []string{capiNodeRestrictionLabel, capiManagedLabelDomain} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// capiTemplate mirrors Cluster API's propagation: a MachineDeployment's (or
// MachineSet's) spec.template labels reach its Machines, and a Machine's
// labels in the synced domains reach the Node; with the
// MachineTaintPropagation feature gate, spec.template.spec.taints reach the
// Node (Always: kept; OnInitialization: set once, then up to whoever removes
// it: a startup taint). A MachinePool's nodes get template labels only when
// its infrastructure provider creates MachinePool Machines, and taints are
// not propagated for MachinePools. Taints and labels of the bootstrap
// configuration (kubeadm nodeRegistration) are read when the referenced
// KubeadmConfigTemplate is in the input, and the instance type from a
// referenced infrastructure machine template (AWS, GCP: instanceType;
// Azure: vmSize).
func capiTemplate(o *proposalObject, version string, refs map[[2]string]*proposalObject, used map[*proposalObject]bool) (model.PoolTemplate, error) {
	var m capiMachine
	if err := json.Unmarshal(o.raw, &m); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid %s: %s", o.kind, text.OneLine(err.Error()))
	}
	if o.name == "" {
		return model.PoolTemplate{}, fmt.Errorf("%s has no metadata.name", o.kind)
	}
	t := model.PoolTemplate{Source: o.file, Kind: o.kind, APIVersion: o.apiVersion, Namespace: o.namespace, Name: o.name, Labels: map[string]string{}}
	var stayed []string
	for k, v := range m.Spec.Template.Metadata.Labels {
		if capiSynced(k) {
			t.Labels[k] = v
		} else {
			stayed = append(stayed, k)
		}
	}
	sort.Strings(stayed)
	if len(stayed) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("spec.template.metadata.labels %s stay on the Machines: Cluster API syncs only node-role.kubernetes.io/*, node-restriction.kubernetes.io and node.cluster.x-k8s.io labels to Nodes (plus the manager's --additional-sync-machine-labels patterns, not known here; give such labels with --labels)", strings.Join(stayed, ", ")))
	}
	if o.kind == "MachinePool" && len(t.Labels) > 0 {
		t.Notes = append(t.Notes, "a MachinePool's template labels reach its Nodes only when its infrastructure provider creates MachinePool Machines; otherwise the provider's own configuration labels the nodes")
	}
	for i, mt := range m.Spec.Template.Spec.Taints {
		if err := checkTaints([]corev1.Taint{mt.Taint}, fmt.Sprintf("spec.template.spec.taints[%d]", i)); err != nil {
			return model.PoolTemplate{}, fmt.Errorf("%s %s: %w", o.kind, o.name, err)
		}
		if o.kind == "MachinePool" {
			continue
		}
		if mt.Propagation == "OnInitialization" {
			t.StartupTaints = append(t.StartupTaints, mt.Taint)
		} else {
			t.Taints = append(t.Taints, mt.Taint)
		}
	}
	if n := len(m.Spec.Template.Spec.Taints); n > 0 {
		if o.kind == "MachinePool" {
			t.Notes = append(t.Notes, "spec.template.spec.taints are ignored: Cluster API does not propagate taints for MachinePools yet")
		} else {
			t.Notes = append(t.Notes, "spec.template.spec.taints reach the Nodes only when the Cluster API manager runs with the MachineTaintPropagation feature gate (alpha, off by default); OnInitialization taints are counted as startup taints")
		}
	}
	if ref := m.Spec.Template.Spec.Bootstrap.ConfigRef; ref != nil && ref.Name != "" {
		if b := refs[[2]string{ref.Kind, ref.Name}]; b != nil && ref.Kind == "KubeadmConfigTemplate" {
			used[b] = true
			if err := kubeadmRegistration(b, &t); err != nil {
				return model.PoolTemplate{}, &InputError{File: b.file, Doc: b.doc, Err: err}
			}
		} else {
			t.Notes = append(t.Notes, fmt.Sprintf("taints and labels the bootstrap configuration sets at registration (%s %s, e.g. kubeadm's joinConfiguration.nodeRegistration taints and kubeletExtraArgs node-labels) are not in the %s: add that object to the input, or give them with --taints and --labels", ref.Kind, ref.Name, o.kind))
		}
	}
	if ref := m.Spec.Template.Spec.InfrastructureRef; ref.Name != "" {
		if inf := refs[[2]string{ref.Kind, ref.Name}]; inf != nil {
			used[inf] = true
			var it struct {
				Spec struct {
					Template struct {
						Spec struct {
							InstanceType string `json:"instanceType"`
							VMSize       string `json:"vmSize"`
						} `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			}
			_ = json.Unmarshal(inf.raw, &it)
			t.InstanceType = it.Spec.Template.Spec.InstanceType
			if t.InstanceType == "" {
				t.InstanceType = it.Spec.Template.Spec.VMSize
			}
		}
		if t.InstanceType == "" {
			t.InstanceTypeWhere = fmt.Sprintf("the infrastructure template %s %s, not in the input", ref.Kind, ref.Name)
		}
	}
	_ = version // both versions carry the fields read here under the same names
	return t, nil
}

// kubeadmRegistration reads what a KubeadmConfigTemplate
// (bootstrap.cluster.x-k8s.io v1beta1 or v1beta2) gives the Node at
// registration: joinConfiguration.nodeRegistration.taints (kubeadm sets
// them; nothing removes them) and the kubelet's --node-labels.
func kubeadmRegistration(b *proposalObject, t *model.PoolTemplate) error {
	var kc struct {
		Spec struct {
			Template struct {
				Spec struct {
					JoinConfiguration struct {
						NodeRegistration struct {
							Taints           []corev1.Taint  `json:"taints"`
							KubeletExtraArgs json.RawMessage `json:"kubeletExtraArgs"`
						} `json:"nodeRegistration"`
					} `json:"joinConfiguration"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b.raw, &kc); err != nil {
		return fmt.Errorf("invalid KubeadmConfigTemplate: %s", text.OneLine(err.Error()))
	}
	nr := kc.Spec.Template.Spec.JoinConfiguration.NodeRegistration
	if err := checkTaints(nr.Taints, "spec.template.spec.joinConfiguration.nodeRegistration.taints"); err != nil {
		return fmt.Errorf("KubeadmConfigTemplate %s: %w", b.name, err)
	}
	t.Taints = append(t.Taints, nr.Taints...)
	setTaintOrigin(t, nr.Taints, fmt.Sprintf("KubeadmConfigTemplate %s spec.template.spec.joinConfiguration.nodeRegistration.taints", b.name))
	// v1beta1: a map; v1beta2: a list of {name, value}.
	args := map[string]string{}
	if len(nr.KubeletExtraArgs) > 0 && nr.KubeletExtraArgs[0] == '[' {
		var list []struct{ Name, Value string }
		if err := json.Unmarshal(nr.KubeletExtraArgs, &list); err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: invalid kubeletExtraArgs: %s", b.name, text.OneLine(err.Error()))
		}
		for _, a := range list {
			args[a.Name] = a.Value
		}
	} else if len(nr.KubeletExtraArgs) > 0 {
		if err := json.Unmarshal(nr.KubeletExtraArgs, &args); err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: invalid kubeletExtraArgs: %s", b.name, text.OneLine(err.Error()))
		}
	}
	if v := args["node-labels"]; v != "" {
		ls, err := ParseLabels(v)
		if err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: kubeletExtraArgs node-labels: %v", b.name, err)
		}
		for k, val := range ls {
			t.Labels[k] = val
		}
	}
	if v := args["register-with-taints"]; v != "" {
		ts, err := ParseTaints(strings.Split(v, ","))
		if err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: kubeletExtraArgs register-with-taints: %v", b.name, err)
		}
		t.Taints = append(t.Taints, ts...)
		setTaintOrigin(t, ts, fmt.Sprintf("KubeadmConfigTemplate %s kubeletExtraArgs register-with-taints", b.name))
	}
	t.Notes = append(t.Notes, fmt.Sprintf("taints and node-labels from KubeadmConfigTemplate %s (joinConfiguration.nodeRegistration)", b.name))
	return nil
}

// setTaintOrigin records where taints ts are set.
func setTaintOrigin(t *model.PoolTemplate, ts []corev1.Taint, where string) {
	if len(ts) > 0 && t.TaintOrigin == nil {
		t.TaintOrigin = map[string]string{}
	}
	for _, tn := range ts {
		t.TaintOrigin[tn.Key] = where
	}
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkTaints refuses taints the API server would refuse: an effect the
// controller would not know, or no key.
func checkTaints(ts []corev1.Taint, field string) error {
	for i, t := range ts {
		if t.Key == "" {
			return fmt.Errorf("%s[%d]: taint has no key", field, i)
		}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return fmt.Errorf("%s[%d]: taint %s has effect %q; want NoSchedule, PreferNoSchedule or NoExecute", field, i, t.Key, t.Effect)
		}
	}
	return nil
}

// ParseTaints parses taints as `kubectl taint` takes them:
// key[=value]:Effect. It mirrors kubectl's parseTaint
// (k8s.io/kubectl/pkg/cmd/taint/utils.go, unexported there): the key is a
// qualified name, the value a label value, the effect one of the three.
func ParseTaints(specs []string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	for _, s := range specs {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		kv, effect, ok := strings.Cut(s, ":")
		if !ok || strings.Contains(effect, ":") {
			return nil, fmt.Errorf("invalid taint %q: write key[=value]:Effect, e.g. nvidia.com/gpu=true:NoSchedule", s)
		}
		t := corev1.Taint{Effect: corev1.TaintEffect(effect)}
		t.Key, t.Value, _ = strings.Cut(kv, "=")
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			return nil, fmt.Errorf("invalid taint %q: key: %s", s, strings.Join(errs, "; "))
		}
		if t.Value != "" {
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				return nil, fmt.Errorf("invalid taint %q: value: %s", s, strings.Join(errs, "; "))
			}
		}
		if err := checkTaints([]corev1.Taint{t}, "taint"); err != nil {
			return nil, fmt.Errorf("invalid taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", s)
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseLabels parses key=value,key=value (the kubelet's --node-labels and
// whatif's --labels), each key a qualified name and each value a label value.
func ParseLabels(s string) (map[string]string, error) {
	m, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		return nil, fmt.Errorf("%q: write key=value,key=value (%v)", s, err)
	}
	for k, v := range m {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label %s value %q: %s", k, v, strings.Join(errs, "; "))
		}
	}
	return m, nil
}

// ParseResources parses name=quantity,name=quantity (cpu=4,memory=16Gi,
// pods=110, nvidia.com/gpu=1) as --allocatable takes them.
func ParseResources(s string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, q, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: write name=quantity, e.g. cpu=4,memory=16Gi,pods=110", part)
		}
		if errs := validation.IsQualifiedName(name); len(errs) > 0 {
			return nil, fmt.Errorf("resource name %q: %s", name, strings.Join(errs, "; "))
		}
		qty, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: not a quantity (e.g. 4, 500m, 16Gi)", name, q)
		}
		if _, err := capacity.Amount(corev1.ResourceName(name), qty); err != nil {
			return nil, fmt.Errorf("%s=%s: %v", name, q, err)
		}
		out[corev1.ResourceName(name)] = qty
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q: no resources, e.g. cpu=4,memory=16Gi,pods=110", s)
	}
	return out, nil
}
