package decode

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// corpusDir is test/corpus: real dumps from public repositories, each with
// its PROVENANCE.md.
const corpusDir = "../../test/corpus"

// corpusCase is what one corpus entry loads to.
type corpusCase struct {
	name string
	// file, if set, is the input inside the entry (a stdout dump is one
	// file); else the entry's directory is given, as -f DIR.
	file string
	// root is the layout's root inside the entry ("" for no layout).
	root                    string
	daemonSets, nodes, pods int
	events                  int
	// missing are the kinds not read (the report's unread).
	missing []model.Kind
	// summary is the one skip line, with AT for where the layout is.
	summary string
	// err, if set, is a part of the one-line error the entry fails with.
	err string
}

var corpusCases = []corpusCase{
	{
		name: "cluster-info-dump-aks", root: "dump",
		daemonSets: 2, nodes: 1, pods: 2, events: 7,
		summary: "read 7 files of the kubectl cluster-info dump in AT; skipped 21 that hold no objects daemoncheck reads (15 logs, 6 of other resources)",
	},
	{
		name: "cluster-info-dump-stdout-minikube", file: "cluster-info-dump.json",
		daemonSets: 1, nodes: 1, pods: 1, events: 52,
	},
	{
		name: "cluster-info-dump-stdout-eks", file: "cluster-info-dump.json",
		daemonSets: 2, nodes: 2, pods: 4, events: 84,
	},
	{
		// kubeadm v1.8.1, 2017: kubectl 1.8 wrote internal objects too.
		name: "cluster-info-dump-kubeadm-1.8", root: "dump",
		err: `dump/default/daemonsets.json: document 1: written by an old kubectl in its internal object format ("Items", no "kind"), which cannot be read; re-export with a current kubectl: kubectl get ds,nodes,pods,controllerrevisions,events -A -o yaml`,
	},
	{
		name: "cluster-info-dump-old-kubectl", root: "dump",
		err: `dump/default/daemonsets.json: document 1: written by an old kubectl in its internal object format ("Items", no "kind"), which cannot be read; re-export with a current kubectl: kubectl get ds,nodes,pods,controllerrevisions,events -A -o yaml`,
	},
	{
		name: "must-gather-aws", root: "must-gather-aws/quay-io-openshift-release-dev-ocp-v4-0-art-dev-sha256-eede85cbd33388f7e18954e5ce8ad9616e91df05ace604966c0a44111d85c897",
		daemonSets: 17, nodes: 6, pods: 81, events: 0,
		summary: "read 73 files of the oc adm must-gather in AT; skipped 29 that hold no objects daemoncheck reads (15 of other resources, 6 logs, 4 in etcd_info/, 2 files at its top, 1 in host_service_logs/, 1 in monitoring/)",
	},
	{
		// Rancher's support-bundle-kit layout (Harvester on RKE2) is not
		// recognised: its metadata.yaml is read as an object and refused.
		// Its yamls/ would not load either: this early kit wrote every
		// null as the string "null" (creationTimestamp: "null").
		name: "support-bundle-kit-rke2", root: "sampleSupportBundle",
		err: "sampleSupportBundle/metadata.yaml: document 1: object has no kind",
	},
	{
		name: "support-bundle-k3s", root: "support-bundle-2025-04-11T14_05_31",
		daemonSets: 0, nodes: 1, pods: 0, events: 41,
		summary: "read 21 files of the troubleshoot.sh support bundle in AT; skipped 10 that hold no objects daemoncheck reads (4 of other resources, 2 files at its top, 1 in execution-data/, 1 logs, 1 in node-metrics/, 1 in rqlite-status/)",
	},
}

// TestCorpus loads every real dump through Files, as -f does, from its
// directory and from a tarball of it (and a stdout dump from stdin too):
// what it holds, which kinds were read, and the one skip line.
func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	var names []string
	for _, c := range corpusCases {
		names = append(names, c.name)
	}
	sort.Strings(names)
	if strings.Join(dirs, " ") != strings.Join(names, " ") {
		t.Fatalf("corpus entries %v, cases %v: every entry needs a case", dirs, names)
	}
	for _, c := range corpusCases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(corpusDir, c.name)
			if _, err := os.Stat(filepath.Join(dir, "PROVENANCE.md")); err != nil {
				t.Error(err)
			}
			type input struct {
				paths []string
				stdin func() *os.File
				at    string // where the layout's root is named
			}
			inputs := map[string]input{}
			if c.file != "" {
				f := filepath.Join(dir, c.file)
				inputs["file"] = input{paths: []string{f}}
				inputs["stdin"] = input{paths: []string{"-"}, stdin: func() *os.File {
					in, err := os.Open(f)
					if err != nil {
						t.Fatal(err)
					}
					return in
				}}
			}
			inputs["directory"] = input{paths: []string{dir}, at: filepath.Join(dir, c.root)}
			tgz := tarTree(t, dir, true)
			inputs["tar.gz"] = input{paths: []string{tgz}, at: strings.TrimSuffix(tgz+":"+c.name+"/"+c.root, "/")}
			for form, in := range inputs {
				var stdin *os.File
				if in.stdin != nil {
					stdin = in.stdin()
				}
				snap, err := Files(in.paths, stdin, collect.Options{})
				if stdin != nil {
					stdin.Close()
				}
				if c.err != "" {
					var ie *InputError
					if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "\n") {
						t.Errorf("%s: want one line with %q, got %v", form, c.err, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if len(snap.DaemonSets) != c.daemonSets || len(snap.Nodes) != c.nodes || len(snap.DaemonPods) != c.pods || len(snap.Events) != c.events {
					t.Errorf("%s: %d DaemonSets, %d Nodes, %d daemon Pods, %d Events; want %d, %d, %d, %d", form,
						len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods), len(snap.Events), c.daemonSets, c.nodes, c.pods, c.events)
				}
				var missing []model.Kind
				for k := range snap.Missing {
					missing = append(missing, k)
				}
				sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
				if strings.Join(kindNames(missing), ",") != strings.Join(kindNames(c.missing), ",") {
					t.Errorf("%s: not read %v, want %v", form, missing, c.missing)
				}
				got := warningsWith(snap, "that hold no objects")
				switch {
				case c.summary == "" && len(got) != 0:
					t.Errorf("%s: unexpected skip summary %q", form, got)
				case c.summary != "" && (len(got) != 1 || got[0] != strings.ReplaceAll(c.summary, "AT", in.at)):
					t.Errorf("%s: skip summary\n got %q\nwant %q", form, got, strings.ReplaceAll(c.summary, "AT", in.at))
				}
				if len(snap.Source) > 300 {
					t.Errorf("%s: source is %d bytes: %s", form, len(snap.Source), snap.Source)
				}
			}
		})
	}
}

func kindNames(ks []model.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}
