package decode

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func mustJSON(t *testing.T, o any) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonList is a typed List as kubectl -o json prints it: items without
// their kind.
func jsonList(t *testing.T, kind, apiVersion string, items ...any) string {
	t.Helper()
	var raw []json.RawMessage
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		delete(m, "kind")
		delete(m, "apiVersion")
		b, _ = json.Marshal(m)
		raw = append(raw, b)
	}
	if raw == nil {
		raw = []json.RawMessage{}
	}
	b, err := json.MarshalIndent(map[string]any{"kind": kind, "apiVersion": apiVersion, "metadata": map[string]any{}, "items": raw}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func yamlList(t *testing.T, kind, apiVersion string, items ...any) string {
	t.Helper()
	j := jsonList(t, kind, apiVersion, items...)
	y, err := yaml.JSONToYAML([]byte(j))
	if err != nil {
		t.Fatal(err)
	}
	return "---\n" + string(y)
}

// writeTree writes files (slash-separated relative path -> content) under
// a new directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, []byte(content))
	}
	return dir
}

// tarTree packs a directory into a .tar.gz (or a plain .tar), as tar czf
// would, under a top-level directory named like the tree.
func tarTree(t *testing.T, dir string, gz bool) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "dump.tar")
	if gz {
		name += ".gz"
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		w = zw
	}
	tw := tar.NewWriter(w)
	top := filepath.Base(dir)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := filepath.ToSlash(filepath.Join(top, rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = name
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func warningsWith(snap *model.Snapshot, sub string) []string {
	var out []string
	for _, w := range snap.Warnings {
		if strings.Contains(w, sub) {
			out = append(out, w)
		}
	}
	return out
}

// A JSON stream with a comment line on top is JSON, not
// one YAML document that keeps the first object and drops the rest.
func TestJSONStreamWithCommentOnTop(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	p := fixture.Pod(&ds, "n1")
	in := "# kubectl get ds,nodes,pods -A -o json\n#\n" + mustJSON(t, &ds) + "\n" + mustJSON(t, &n) + "\n" + mustJSON(t, &p) + "\n"
	snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 1 || len(snap.Nodes) != 1 || len(snap.DaemonPods) != 1 {
		t.Fatalf("read %d ds, %d nodes, %d pods; want 1 each", len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods))
	}
	// The same stream after a YAML document: one YAML document that holds
	// several JSON values is refused, naming it, not cut to its first.
	in = "apiVersion: v1\nkind: Node\nmetadata: {name: n0}\n---\n" + mustJSON(t, &ds) + "\n" + mustJSON(t, &n) + "\n"
	_, err = Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Doc != 2 || !strings.Contains(err.Error(), "more than one JSON value") {
		t.Errorf("a JSON stream inside a YAML document: %v", err)
	}
	// One JSON value in a YAML document, with a comment after it, is fine.
	in = "---\n" + mustJSON(t, &ds) + " # the agent\n---\n" + mustJSON(t, &n) + "\n"
	if _, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{}); err != nil {
		t.Errorf("one JSON value per YAML document: %v", err)
	}
}

// An input without any DaemonSet or DaemonSetList says
// nothing about the DaemonSets: "not read" (partial), not "none".
func TestNoDaemonSetListIsNotRead(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	p := fixture.Pod(&ds, "n1")
	in := jsonList(t, "NodeList", "v1", &n) + jsonList(t, "PodList", "v1", &p)
	snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Has(model.DaemonSets) {
		t.Fatal("Nodes and Pods only: DaemonSets must be marked not read")
	}
	snap, err = Files([]string{"-"}, strings.NewReader(in+jsonList(t, "DaemonSetList", "apps/v1")), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Has(model.DaemonSets) {
		t.Fatalf("an empty DaemonSetList means read, none: %v", snap.Missing)
	}
}

// A dump of kubectl's internal objects ("Items", no
// kind) fails in one line that says what it is and how to re-export.
func TestOldKubectlDump(t *testing.T) {
	inputs := map[string]string{
		"json list": `{"selfLink": "/api/v1/nodes", "resourceVersion": "4225", "Items": [{"name": "minikube", "uid": "ead2"}]}`,
		"json item": `{"name": "minikube", "selfLink": "/api/v1/nodes/minikube", "uid": "ead2"}`,
		"yaml list": "selfLink: /api/v1/nodes\nItems:\n- name: minikube\n",
	}
	for name, in := range inputs {
		_, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "old kubectl") || !strings.Contains(err.Error(), "kubectl get ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want one line naming an old kubectl and the command, got %v", name, err)
		}
	}
}

// Config.openshift.io/v1 Node (in every must-gather) is
// not a Node, whether the List or its items carry the apiVersion.
func TestOtherGroupNodeIsNotANode(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	p := fixture.Pod(&ds, "n1")
	cfg := map[string]any{"metadata": map[string]any{"name": "cluster"}, "spec": map[string]any{"cgroupMode": "v2"}}
	in := jsonList(t, "DaemonSetList", "apps/v1", &ds) + jsonList(t, "PodList", "v1", &p) +
		jsonList(t, "NodeList", "config.openshift.io/v1", cfg) +
		`{"apiVersion":"config.openshift.io/v1","kind":"Node","metadata":{"name":"cluster"}}` + "\n"
	snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 0 || snap.Has(model.Nodes) {
		t.Errorf("config.openshift.io Nodes taken as Nodes: %d nodes, missing %v", len(snap.Nodes), snap.Missing)
	}
	if w := warningsWith(snap, "Node.config.openshift.io"); len(w) != 1 {
		t.Errorf("want the ignored kind named with its group: %v", snap.Warnings)
	}
}

// The stdout form of kubectl cluster-info dump: JSON
// Lists with log sections between them (logs may hold anything, even
// braces), CRLF line ends when captured on Windows, and the trailer line
// of older kubectl; from a file and from stdin.
func TestClusterInfoDumpStdout(t *testing.T) {
	ds := fixture.DaemonSet("kube-system", "kube-proxy")
	n := fixture.Node("n1")
	p := fixture.Pod(&ds, "n1")
	ds2 := fixture.DaemonSet("default", "agent")
	p2 := fixture.Pod(&ds2, "n1")
	logs := func(ns, pod string) string {
		return "==== START logs for container c of pod " + ns + "/" + pod + " ====\n" +
			"I1117 10:19:41 {\"level\":\"info\"} [ { not json\n" +
			"\n" +
			"==== END logs for container c of pod " + ns + "/" + pod + " ====\n"
	}
	dump := jsonList(t, "NodeList", "v1", &n) +
		jsonList(t, "EventList", "v1") +
		jsonList(t, "DaemonSetList", "apps/v1", &ds) +
		jsonList(t, "PodList", "v1", &p) +
		logs("kube-system", p.Name) + logs("kube-system", "other") +
		jsonList(t, "EventList", "v1") +
		jsonList(t, "DaemonSetList", "apps/v1", &ds2) +
		jsonList(t, "PodList", "v1", &p2) +
		logs("default", p2.Name) +
		"Cluster info dumped to standard output\n"
	for name, in := range map[string]string{"lf": dump, "crlf": strings.ReplaceAll(dump, "\n", "\r\n")} {
		file := writeFile(t, filepath.Join(t.TempDir(), "cluster-info-dump.txt"), []byte(in))
		for src, read := range map[string]func() (*model.Snapshot, error){
			"file":  func() (*model.Snapshot, error) { return Files([]string{file}, nil, collect.Options{}) },
			"stdin": func() (*model.Snapshot, error) { return Files([]string{"-"}, strings.NewReader(in), collect.Options{}) },
		} {
			snap, err := read()
			if err != nil {
				t.Fatalf("%s %s: %v", name, src, err)
			}
			if len(snap.DaemonSets) != 2 || len(snap.Nodes) != 1 || len(snap.DaemonPods) != 2 {
				t.Errorf("%s %s: read %d ds, %d nodes, %d pods; want 2, 1, 2", name, src, len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods))
			}
		}
	}
	// A log section cut off (a truncated paste) fails, naming the document.
	cut := jsonList(t, "NodeList", "v1", &n) + "==== START logs for container c of pod ns/p ====\nlast line\n"
	_, err := Files([]string{"-"}, strings.NewReader(cut), collect.Options{})
	if err == nil || !strings.Contains(err.Error(), "no END line") {
		t.Errorf("truncated log section: %v", err)
	}
	// Other text between JSON values is not a log section.
	_, err = Files([]string{"-"}, strings.NewReader(jsonList(t, "NodeList", "v1", &n)+"PS C:\\> kubectl get pods\n"+jsonList(t, "PodList", "v1", &p)), collect.Options{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Doc != 2 {
		t.Errorf("text between JSON values: %v", err)
	}
}

// dumpObjects are the objects of a small cluster, for the layouts.
type dumpObjects struct {
	ds    appsv1.DaemonSet
	node  corev1.Node
	pod   corev1.Pod
	event corev1.Event
}

func newDumpObjects() dumpObjects {
	ds := fixture.DaemonSet("kube-system", "agent")
	return dumpObjects{ds: ds, node: fixture.Node("n1"), pod: fixture.Pod(&ds, "n1"), event: corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: "kube-system", UID: "e1"},
		InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Namespace: "kube-system", Name: "agent", UID: ds.UID},
		Type:           "Warning", Reason: "FailedCreate", LastTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}}
}

// The layouts, as the tools write them, with the files that hold no
// Kubernetes objects (which used to stop the read at the first of them).
func layoutTrees(t *testing.T) map[string]struct {
	files   map[string]string
	summary string // what the one skip line says
} {
	o := newDumpObjects()
	cfgNodes := jsonList(t, "NodeList", "config.openshift.io/v1", map[string]any{"metadata": map[string]any{"name": "cluster"}})
	cfgNodesYAML, _ := yaml.JSONToYAML([]byte(cfgNodes))
	return map[string]struct {
		files   map[string]string
		summary string
	}{
		"cluster-info dump": {map[string]string{
			"nodes.json":                              jsonList(t, "NodeList", "v1", &o.node),
			"kube-system/daemonsets.json":             jsonList(t, "DaemonSetList", "apps/v1", &o.ds),
			"kube-system/pods.json":                   jsonList(t, "PodList", "v1", &o.pod),
			"kube-system/events.json":                 jsonList(t, "EventList", "v1", &o.event),
			"kube-system/services.json":               jsonList(t, "ServiceList", "v1"),
			"kube-system/" + o.pod.Name + "/logs.txt": "I0101 started\n",
			"default/daemonsets.json":                 jsonList(t, "DaemonSetList", "apps/v1"),
			"default/pods.json":                       jsonList(t, "PodList", "v1"),
		}, "read 6 files of the kubectl cluster-info dump in DIR; skipped 2 that hold no objects daemoncheck reads (1 logs, 1 of other resources)"},
		"must-gather": {map[string]string{
			"must-gather.local.1/timestamp":                                                                  "2026-01-01 00:00:00\n",
			"must-gather.local.1/img/version":                                                                "openshift/must-gather\n",
			"must-gather.local.1/img/timestamp":                                                              "2026-01-01 00:00:00\n",
			"must-gather.local.1/img/etcd_info/alarm_list.json":                                              "{}\n",
			"must-gather.local.1/img/etcd_info/member_list.json":                                             `{"header":{"cluster_id":1},"members":[{"name":"m"}]}`,
			"must-gather.local.1/img/monitoring/alerts.json":                                                 `{"status":"success","data":{"groups":[]}}`,
			"must-gather.local.1/img/nodes/n1/sysinfo.json":                                                  `{"cpus": 4}`,
			"must-gather.local.1/img/cluster-scoped-resources/core/nodes/n1.yaml":                            "---\n" + string(mustYAML(t, &o.node)),
			"must-gather.local.1/img/cluster-scoped-resources/config.openshift.io/nodes.yaml":                "---\n" + string(cfgNodesYAML),
			"must-gather.local.1/img/namespaces/kube-system/kube-system.yaml":                                "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n",
			"must-gather.local.1/img/namespaces/kube-system/apps/daemonsets.yaml":                            yamlList(t, "DaemonSetList", "apps/v1", &o.ds),
			"must-gather.local.1/img/namespaces/kube-system/apps/controllerrevisions.yaml":                   yamlList(t, "ControllerRevisionList", "apps/v1"),
			"must-gather.local.1/img/namespaces/kube-system/core/pods.yaml":                                  yamlList(t, "PodList", "v1", &o.pod),
			"must-gather.local.1/img/namespaces/kube-system/core/events.yaml":                                yamlList(t, "EventList", "v1", &o.event),
			"must-gather.local.1/img/namespaces/kube-system/core/secrets.yaml":                               "not read: {",
			"must-gather.local.1/img/namespaces/kube-system/pods/" + o.pod.Name + "/" + o.pod.Name + ".yaml": "---\n" + string(mustYAML(t, &o.pod)),
			"must-gather.local.1/img/namespaces/kube-system/pods/" + o.pod.Name + "/c/c/logs/current.log":    "started\n",
		}, "read 6 files of the oc adm must-gather in DIR/must-gather.local.1/img; skipped 10 that hold no objects daemoncheck reads (3 of other resources, 2 files at its top, 2 in etcd_info/, 1 logs, 1 in monitoring/, 1 in nodes/)"},
		"support bundle": {map[string]string{
			"support-bundle-1/version.yaml":                                  "apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  versionNumber: 0.118.0\n",
			"support-bundle-1/analysis.json":                                 `[{"name":"x","insight":{}}]`,
			"support-bundle-1/node-metrics/n1.json":                          `{"node":{"nodeName":"n1"}}`,
			"support-bundle-1/cluster-resources/nodes.json":                  jsonList(t, "NodeList", "v1", &o.node),
			"support-bundle-1/cluster-resources/daemonsets/kube-system.json": jsonList(t, "DaemonSetList", "apps/v1", &o.ds),
			// troubleshoot before it wrote Lists: a bare array, no kind
			"support-bundle-1/cluster-resources/pods/kube-system.json":                     "[" + strings.TrimSuffix(mustJSON(t, &o.pod), "\n") + "]",
			"support-bundle-1/cluster-resources/events/kube-system.json":                   jsonList(t, "EventList", "v1", &o.event),
			"support-bundle-1/cluster-resources/pods/logs/kube-system/p/c.log":             "started\n",
			"support-bundle-1/cluster-resources/auth-cani-list/kube-system.json":           `[{"verbs":["*"]}]`,
			"support-bundle-1/cluster-resources/statefulsets-errors.json/kube-system.json": `["forbidden"]`,
		}, "read 4 files of the troubleshoot.sh support bundle in DIR/support-bundle-1; skipped 6 that hold no objects daemoncheck reads (2 files at its top, 2 of other resources, 1 logs, 1 in node-metrics/)"},
	}
}

// Each layout is recognised by its structure and read
// whole, from a directory and from a tarball of it; what holds no objects
// is skipped with one summary line, and the source says what was read
// where instead of listing every file.
func TestLayoutsAndTheirTarballs(t *testing.T) {
	for name, tree := range layoutTrees(t) {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, tree.files)
			inputs := map[string]string{"directory": dir, "tar.gz": tarTree(t, dir, true), "tar": tarTree(t, dir, false)}
			for form, in := range inputs {
				snap, err := Files([]string{in}, nil, collect.Options{})
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if len(snap.DaemonSets) != 1 || len(snap.Nodes) != 1 || len(snap.DaemonPods) != 1 || len(snap.Events) != 1 {
					t.Errorf("%s: read %d ds, %d nodes, %d pods, %d events; want 1 each", form, len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods), len(snap.Events))
				}
				if !snap.Has(model.DaemonSets) || !snap.Has(model.Nodes) || !snap.Has(model.Pods) {
					t.Errorf("%s: missing %v", form, snap.Missing)
				}
				at := dir
				if form != "directory" {
					at = in + ":" + filepath.Base(dir)
				}
				want := strings.ReplaceAll(tree.summary, "DIR", at)
				if got := warningsWith(snap, "that hold no objects"); len(got) != 1 || got[0] != want {
					t.Errorf("%s: skip summary\n got %q\nwant %q", form, got, want)
				}
				if strings.Count(snap.Source, "/") > 8 || !strings.Contains(snap.Source, at) {
					t.Errorf("%s: source %q", form, snap.Source)
				}
			}
		})
	}
}

// Files outside any layout are read as before, strictly: a directory of
// plain dumps with a non-object JSON file still fails, naming it.
func TestPlainDirectoryStaysStrict(t *testing.T) {
	o := newDumpObjects()
	dir := writeTree(t, map[string]string{
		"dump.yaml":  string(yamlDocs(t, &o.ds, &o.node, &o.pod)),
		"extra.json": `{"cpus": 4}`,
	})
	_, err := Files([]string{dir}, nil, collect.Options{})
	if err == nil || !strings.Contains(err.Error(), "extra.json") || !strings.Contains(err.Error(), "no kind") {
		t.Errorf("a stray JSON file in a plain directory: %v", err)
	}
	// A file added by hand to a cluster-info dump is read, strictly.
	tree := layoutTrees(t)["cluster-info dump"].files
	tree["extra/ds.yaml"] = string(yamlDocs(t, &o.ds))
	tree["kube-system/notes.json"] = `{"note": "no kind"}`
	_, err = Files([]string{writeTree(t, tree)}, nil, collect.Options{})
	if err == nil || !strings.Contains(err.Error(), "notes.json") {
		t.Errorf("a hand-added file in a cluster-info dump: %v", err)
	}
	// A namespaces/ directory of manifests is not a must-gather.
	dir = writeTree(t, map[string]string{
		"namespaces/kube-system/apps/agent.yaml": string(yamlDocs(t, &o.ds)),
		"cluster.yaml":                           string(yamlDocs(t, &o.node, &o.pod)),
	})
	snap, err := Files([]string{dir}, nil, collect.Options{})
	if err != nil || len(snap.DaemonSets) != 1 {
		t.Errorf("manifests by namespace: %v", err)
	}
}

// An archive is read without extracting it: links are
// never followed, entries that leave the archive are skipped, a file in a
// layout that cannot be read fails naming it inside the archive, the
// decompressed size is bounded, and a tarball on stdin is refused in one
// line.
func TestArchiveTricks(t *testing.T) {
	o := newDumpObjects()
	name := filepath.Join(t.TempDir(), "tricks.tgz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		h.Mode = 0o644
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(&tar.Header{Name: "d/dump.yaml", Typeflag: tar.TypeReg}, string(yamlDocs(t, &o.ds, &o.node, &o.pod)))
	add(&tar.Header{Name: "d/passwd.yaml", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "")
	add(&tar.Header{Name: "d/again.yaml", Typeflag: tar.TypeLink, Linkname: "d/dump.yaml"}, "")
	add(&tar.Header{Name: "../../evil.yaml", Typeflag: tar.TypeReg}, "kind: Node\nmetadata: {name: evil}\n")
	add(&tar.Header{Name: "/abs.yaml", Typeflag: tar.TypeReg}, "kind: Node\nmetadata: {name: abs}\n")
	add(&tar.Header{Name: "d/fifo.yaml", Typeflag: tar.TypeFifo}, "")
	_ = tw.Close()
	_ = zw.Close()
	writeFile(t, name, buf.Bytes())
	snap, err := Files([]string{name}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 1 || snap.Nodes[0].Name != "n1" || len(snap.DaemonSets) != 1 {
		t.Errorf("read %d nodes (%v), %d ds", len(snap.Nodes), snap.Nodes, len(snap.DaemonSets))
	}
	for _, w := range []string{"skipped 2 links", "/etc/passwd", "skipped 2 entries", "leaves the archive", "skipped 1 entries"} {
		if len(warningsWith(snap, w)) != 1 {
			t.Errorf("want a warning with %q: %v", w, snap.Warnings)
		}
	}

	// A bad file inside: named inside the archive.
	tree := layoutTrees(t)["must-gather"].files
	tree["must-gather.local.1/img/namespaces/kube-system/core/pods.yaml"] = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: [}\n"
	tgz := tarTree(t, writeTree(t, tree), true)
	_, err = Files([]string{tgz}, nil, collect.Options{})
	if err == nil || !strings.Contains(err.Error(), tgz+":") || !strings.Contains(err.Error(), "namespaces/kube-system/core/pods.yaml") {
		t.Errorf("bad file in an archive: %v", err)
	}

	// A gzip bomb: the decompressed bytes are bounded.
	defer func(m int64) { MaxInputBytes = m }(MaxInputBytes)
	MaxInputBytes = 1 << 20
	big := layoutTrees(t)["cluster-info dump"].files
	big["kube-system/big/logs.txt"] = strings.Repeat("x", 2<<20)
	bomb := tarTree(t, writeTree(t, big), true)
	within(t, 20*time.Second, func() {
		_, err = Files([]string{bomb}, nil, collect.Options{})
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("over MaxInputBytes decompressed: %v", err)
		}
	})
	MaxInputBytes = 1 << 30

	// On stdin, a tarball needs two passes: refused in one line.
	data, _ := os.ReadFile(tgz)
	if _, err := Files([]string{"-"}, bytes.NewReader(data), collect.Options{}); err == nil || !strings.Contains(err.Error(), "tar archive on stdin") {
		t.Errorf("tarball on stdin: %v", err)
	}
	// Formats it does not unpack are named, not called binary data.
	xz := writeFile(t, filepath.Join(t.TempDir(), "must-gather.tar.xz"), []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"))
	if _, err := Files([]string{xz}, nil, collect.Options{}); err == nil || !strings.Contains(err.Error(), "xz data, which daemoncheck does not unpack") {
		t.Errorf("an xz file: %v", err)
	}
	// A gzipped dump (not a tarball) is read, from a file and stdin.
	var z bytes.Buffer
	gw := gzip.NewWriter(&z)
	_, _ = gw.Write(yamlDocs(t, &o.ds, &o.node, &o.pod))
	_ = gw.Close()
	if snap, err := Files([]string{"-"}, bytes.NewReader(z.Bytes()), collect.Options{}); err != nil || len(snap.DaemonSets) != 1 {
		t.Errorf("gzipped YAML on stdin: %v", err)
	}
}

// A support bundle of older troubleshoot versions writes each namespace's
// objects as a bare array: an empty one is a list of its kind, so the kind
// was read (none), while a kind with no file at all was not read.
func TestEmptyBareArrayOfALayoutIsRead(t *testing.T) {
	o := newDumpObjects()
	dir := writeTree(t, map[string]string{
		"support-bundle-1/cluster-resources/nodes.json":                  jsonList(t, "NodeList", "v1", &o.node),
		"support-bundle-1/cluster-resources/daemonsets/kube-system.json": "[]",
	})
	snap, err := Files([]string{dir}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, missing := snap.Missing[model.DaemonSets]; missing {
		t.Errorf("an empty array of DaemonSets is read, none: %v", snap.Missing)
	}
	dir = writeTree(t, map[string]string{
		"support-bundle-1/cluster-resources/nodes.json":            jsonList(t, "NodeList", "v1", &o.node),
		"support-bundle-1/cluster-resources/pods/kube-system.json": "[]",
	})
	if snap, err = Files([]string{dir}, nil, collect.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, missing := snap.Missing[model.DaemonSets]; !missing {
		t.Errorf("no DaemonSet file at all must be not read: %v", snap.Missing)
	}
}
