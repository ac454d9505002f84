package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
)

// MaxInputBytes bounds one input file (or stdin): a dump of a very large
// cluster is a few GiB; beyond this the input is most likely not a dump.
var MaxInputBytes int64 = 4 << 30

// InputError is a problem with offline input; it names the file.
type InputError struct {
	File string
	Doc  int // 1-based document number within the file, 0 if not known
	Err  error
}

func (e *InputError) Error() string {
	if e.Doc > 0 {
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// Files reads a snapshot from files, directories (their *.json, *.yaml and
// *.yml files, recursively, in name order) or "-" for stdin. Each file may
// hold JSON or YAML, one object, a List (as `kubectl get -o json|yaml`
// prints), or several YAML documents. It keeps what opts selects, as Live
// does (ChunkSize, Parallel and PodEvents mean nothing offline).
func Files(paths []string, stdin io.Reader, opts Options) (*snapshot.Snapshot, error) {
	r := &fileReader{snap: &snapshot.Snapshot{}, ignored: map[string]int{}, seen: map[snapshot.Kind]bool{}}
	var names []string
	for _, p := range paths {
		if p == "-" {
			names = append(names, "<stdin>")
			if err := r.readStream("<stdin>", stdin); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			names = append(names, f)
			if err := r.readFile(f); err != nil {
				return nil, err
			}
		}
	}
	snap := r.snap
	snap.Source = "file " + strings.Join(names, ", ")
	if len(r.ignored) > 0 {
		kinds := make([]string, 0, len(r.ignored))
		total := 0
		for k, n := range r.ignored {
			kinds = append(kinds, k)
			total += n
		}
		sort.Strings(kinds)
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("ignored %d objects of kinds daemoncheck does not use (%s)", total, strings.Join(kinds, ", ")))
	}
	if len(snap.DaemonSets)+len(snap.Nodes)+len(snap.DaemonPods)+len(snap.ControllerRevisions) == 0 {
		return nil, &InputError{File: strings.Join(names, ", "), Err: errors.New("no DaemonSet, Node, Pod or ControllerRevision objects found; export them with: kubectl get ds,nodes,pods,controllerrevisions -A -o yaml")}
	}
	// A kind counts as read when the input holds objects of it, or a typed
	// List of it with no items (kubectl get pods -o json in a namespace with
	// no Pods prints an empty PodList): "read, none" is not "not read".
	if !r.seen[snapshot.Nodes] {
		snap.MarkMissing(snapshot.Nodes, "the input has no Node objects (add: kubectl get nodes -o yaml)", "")
	}
	if !r.seen[snapshot.Pods] && len(snap.DaemonSets) > 0 {
		snap.MarkMissing(snapshot.Pods, "the input has no Pod objects (add: kubectl get pods -A -o yaml)", "")
	}
	if !r.seen[snapshot.ControllerRevisions] && len(snap.DaemonSets) > 0 {
		snap.Warnings = append(snap.Warnings, "the input has no ControllerRevision objects: Pod revisions are compared by template generation only (add: kubectl get controllerrevisions -A -o yaml)")
	}
	dss, err := selectDaemonSets(snap.DaemonSets, opts, "the input")
	if err != nil {
		return nil, err
	}
	snap.DaemonSets = dss
	own := owners(dss)
	pods := snap.DaemonPods[:0]
	for i := range snap.DaemonPods {
		if keepPod(&snap.DaemonPods[i], own) {
			pods = append(pods, snap.DaemonPods[i])
		}
	}
	snap.DaemonPods = pods
	return snap, nil
}

func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, &InputError{File: p, Err: unwrapPathError(err)}
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return &InputError{File: path, Err: unwrapPathError(err)}
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".yaml", ".yml":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &InputError{File: p, Err: errors.New("directory holds no .json, .yaml or .yml files")}
	}
	sort.Strings(files)
	return files, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type fileReader struct {
	snap    *snapshot.Snapshot
	ignored map[string]int
	// seen records the kinds the input holds, as objects or typed Lists.
	seen map[snapshot.Kind]bool
}

// kindOf maps the object kinds the analysis reads to snapshot kinds.
var kindOf = map[string]snapshot.Kind{
	"DaemonSet": snapshot.DaemonSets, "Node": snapshot.Nodes, "Pod": snapshot.Pods,
	"ControllerRevision": snapshot.ControllerRevisions, "Event": snapshot.Events,
}

func (r *fileReader) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return &InputError{File: name, Err: unwrapPathError(err)}
	}
	defer f.Close()
	return r.readStream(name, f)
}

// typeMeta is enough of an object to route it.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

func (r *fileReader) readStream(name string, in io.Reader) error {
	lr := &io.LimitedReader{R: in, N: MaxInputBytes + 1}
	dec := yaml.NewYAMLOrJSONDecoder(lr, 64*1024)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if lr.N <= 0 {
			return &InputError{File: name, Err: fmt.Errorf("larger than %d bytes", MaxInputBytes)}
		}
		if err == io.EOF {
			if doc == 1 {
				return &InputError{File: name, Err: errors.New("empty input")}
			}
			return nil
		}
		if err != nil {
			return &InputError{File: name, Doc: doc, Err: fmt.Errorf("not valid JSON or YAML: %s", oneLine(err.Error()))}
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue // an empty YAML document, e.g. a trailing "---"
		}
		if err := r.object(raw, ""); err != nil {
			return &InputError{File: name, Doc: doc, Err: err}
		}
	}
}

// object routes one decoded object; listKind is the kind of the enclosing
// list, whose items may omit their own kind (e.g. a PodList).
func (r *fileReader) object(raw json.RawMessage, listKind string) error {
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("expected a Kubernetes object (a JSON/YAML mapping)")
	}
	var tm typeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
		return fmt.Errorf("not a Kubernetes object: %s", oneLine(err.Error()))
	}
	kind := tm.Kind
	if kind == "" && listKind != "" {
		kind = strings.TrimSuffix(listKind, "List")
	}
	if kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(kind, "List") {
		if k, ok := kindOf[strings.TrimSuffix(kind, "List")]; ok {
			r.seen[k] = true
		}
		for i, item := range tm.Items {
			if err := r.object(item, kind); err != nil {
				return fmt.Errorf("%s item %d: %w", kind, i+1, err)
			}
		}
		return nil
	}
	group := tm.APIVersion
	if i := strings.LastIndex(group, "/"); i >= 0 {
		group = group[:i]
	} else {
		group = ""
	}
	wantGroup := map[string]string{"DaemonSet": "apps", "ControllerRevision": "apps", "Node": "", "Pod": "", "Event": ""}
	g, relevant := wantGroup[kind]
	if !relevant || (tm.APIVersion != "" && group != g) {
		r.ignored[kind]++
		return nil
	}
	if tm.APIVersion != "" && tm.APIVersion != "v1" && tm.APIVersion != "apps/v1" {
		return fmt.Errorf("%s has unsupported apiVersion %s (want %s)", kind, tm.APIVersion, map[string]string{"apps": "apps/v1", "": "v1"}[g])
	}
	s := r.snap
	r.seen[kindOf[kind]] = true
	switch kind {
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := decodeInto(raw, &o, kind); err != nil {
			return err
		}
		if err := needIdentity(kind, o.Namespace, o.Name, string(o.UID), true); err != nil {
			return err
		}
		s.DaemonSets = append(s.DaemonSets, o)
	case "Node":
		var o corev1.Node
		if err := decodeInto(raw, &o, kind); err != nil {
			return err
		}
		if err := needIdentity(kind, "-", o.Name, "-", false); err != nil {
			return err
		}
		TrimNode(&o)
		s.Nodes = append(s.Nodes, o)
	case "Pod":
		var o corev1.Pod
		if err := decodeInto(raw, &o, kind); err != nil {
			return err
		}
		if err := needIdentity(kind, o.Namespace, o.Name, "-", false); err != nil {
			return err
		}
		s.DaemonPods = append(s.DaemonPods, snapshot.Compact(&o))
	case "ControllerRevision":
		var o appsv1.ControllerRevision
		if err := decodeInto(raw, &o, kind); err != nil {
			return err
		}
		o.Data.Raw, o.Data.Object = nil, nil
		s.ControllerRevisions = append(s.ControllerRevisions, o)
	case "Event":
		var o corev1.Event
		if err := decodeInto(raw, &o, kind); err != nil {
			return err
		}
		s.Events = append(s.Events, o)
	}
	return nil
}

func decodeInto(raw json.RawMessage, into any, kind string) error {
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("invalid %s: %s", kind, oneLine(err.Error()))
	}
	return nil
}

// needIdentity rejects objects that cannot be matched up: daemon Pods are
// tied to their DaemonSet by the owner's UID, so a DaemonSet without one
// (hand-written YAML) would silently own nothing.
func needIdentity(kind, ns, name, uid string, needUID bool) error {
	switch {
	case name == "":
		return fmt.Errorf("%s has no metadata.name", kind)
	case ns == "":
		return fmt.Errorf("%s %s has no metadata.namespace", kind, name)
	case needUID && uid == "":
		return fmt.Errorf("%s %s/%s has no metadata.uid, so its Pods cannot be matched to it by owner; export objects with kubectl get -o yaml", kind, ns, name)
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
