package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusCommand runs the command on every real dump of test/corpus
// (see its PROVENANCE.md files). Healthy clusters pass the default gate
// (their kube-proxy lints and a termination handler waiting for spot nodes
// are advice and by design, not breakage): the exit code, the DaemonSets the report
// names, and the one skip line on stderr. internal/collect's TestCorpus checks
// what each loads to, also from a tarball.
func TestCorpusCommand(t *testing.T) {
	const corpus = "../../test/corpus"
	tests := []struct {
		name  string
		args  []string
		stdin string // a file of the entry to give on stdin (-f -)
		code  int
		// daemonSets are the DaemonSets the report names (namespace/name).
		daemonSets []string
		stderr     string // a part of stderr
	}{
		{
			name: "cluster-info-dump-aks", code: 0,
			daemonSets: []string{"kube-system/kube-proxy", "kube-system/omsagent"},
			stderr:     "Warning: read 7 files of the kubectl cluster-info dump in ",
		},
		{
			name: "cluster-info-dump-stdout-minikube", code: 0,
			daemonSets: []string{"kube-system/kube-proxy"},
			stderr:     "Warning: ignored 4 objects of kinds daemoncheck does not use (Deployment, ReplicaSet, Service)",
		},
		{
			name: "cluster-info-dump-stdout-minikube", stdin: "cluster-info-dump.json", code: 0,
			daemonSets: []string{"kube-system/kube-proxy"},
		},
		{
			name: "cluster-info-dump-stdout-eks", code: 0,
			daemonSets: []string{"kube-system/aws-node", "kube-system/kube-proxy"},
			stderr:     "Warning: ignored 5 objects of kinds daemoncheck does not use (Deployment, ReplicaSet, Service)",
		},
		{
			name: "cluster-info-dump-stdout-eks", stdin: "cluster-info-dump.json", code: 0,
			daemonSets: []string{"kube-system/aws-node", "kube-system/kube-proxy"},
		},
		{
			name: "cluster-info-dump-kubeadm-1.8", code: 3,
			stderr: `written by an old kubectl in its internal object format ("Items", no "kind"), which cannot be read; re-export with a current kubectl: kubectl get ds,nodes,pods,controllerrevisions,events -A -o yaml`,
		},
		{
			name: "cluster-info-dump-old-kubectl", code: 3,
			stderr: `written by an old kubectl in its internal object format ("Items", no "kind"), which cannot be read; re-export with a current kubectl: kubectl get ds,nodes,pods,controllerrevisions,events -A -o yaml`,
		},
		{
			name: "must-gather-aws", code: 0,
			daemonSets: []string{
				"openshift-cluster-csi-drivers/aws-ebs-csi-driver-node", "openshift-cluster-node-tuning-operator/tuned",
				"openshift-controller-manager/controller-manager", "openshift-dns/dns-default", "openshift-dns/node-resolver",
				"openshift-image-registry/node-ca", "openshift-ingress-canary/ingress-canary",
				"openshift-machine-api/machine-api-termination-handler", "openshift-machine-config-operator/machine-config-daemon",
				"openshift-machine-config-operator/machine-config-server", "openshift-multus/multus",
				"openshift-multus/multus-additional-cni-plugins", "openshift-multus/multus-admission-controller",
				"openshift-multus/network-metrics-daemon", "openshift-network-diagnostics/network-check-target",
				"openshift-sdn/sdn", "openshift-sdn/sdn-controller",
			},
			stderr: "skipped 29 that hold no objects daemoncheck reads (15 of other resources, 6 logs, 4 in etcd_info/, 2 files at its top, 1 in host_service_logs/, 1 in monitoring/)",
		},
		{
			name: "support-bundle-kit-rke2", code: 3,
			stderr: "sampleSupportBundle/metadata.yaml: document 1: object has no kind",
		},
		{
			name: "support-bundle-k3s", code: 0,
			stderr: "Warning: read 21 files of the troubleshoot.sh support bundle in ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name+tc.stdin, func(t *testing.T) {
			args := []string{"-f", filepath.Join(corpus, tc.name), "-o", "json"}
			stdin := ""
			if tc.stdin != "" {
				data, err := os.ReadFile(filepath.Join(corpus, tc.name, tc.stdin))
				if err != nil {
					t.Fatal(err)
				}
				args, stdin = []string{"-f", "-", "-o", "json"}, string(data)
			}
			out, errOut, code := runCmd(t, stdin, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.stderr) || strings.Count(errOut, "that hold no objects") > 1 {
				t.Errorf("stderr lacks %q (or has more than one skip line):\n%s", tc.stderr, errOut)
			}
			if tc.code == 3 {
				if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
					t.Errorf("want one line on stderr:\n%s", errOut)
				}
				return
			}
			var rep struct {
				Source     string `json:"source"`
				DaemonSets []struct {
					Namespace string `json:"namespace"`
					Name      string `json:"name"`
				} `json:"daemonSets"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range rep.DaemonSets {
				got = append(got, d.Namespace+"/"+d.Name)
			}
			if strings.Join(got, " ") != strings.Join(tc.daemonSets, " ") {
				t.Errorf("DaemonSets %v, want %v", got, tc.daemonSets)
			}
			if len(rep.Source) > 300 {
				t.Errorf("source is %d bytes", len(rep.Source))
			}
		})
	}
}

// Issue 25 item 16: a dump of Nodes and Pods without any DaemonSet list
// says nothing about the DaemonSets: a partial report, exit 3, naming them.
func TestNoDaemonSetListIsPartial(t *testing.T) {
	in := `{"apiVersion":"v1","kind":"NodeList","items":[{"metadata":{"name":"n1","uid":"n1"},"status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-01-01T00:00:00Z"}]}}]}` + "\n" +
		`{"apiVersion":"v1","kind":"PodList","items":[]}` + "\n"
	_, errOut, code := runCmd(t, in, "-f", "-")
	if code != 3 || !strings.Contains(errOut, "daemonsets not read: the input has no DaemonSet objects") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = runCmd(t, in+`{"apiVersion":"apps/v1","kind":"DaemonSetList","items":[]}`, "-f", "-")
	if code != 0 || strings.Contains(errOut, "not read") {
		t.Errorf("with an empty DaemonSetList: exit %d, stderr:\n%s", code, errOut)
	}
}
