package main

import (
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var (
	whatifOnce           sync.Once
	whatifPool, whatifDS string
	whatifErr            error
)

// whatifInputs writes, once, the proposal the whatif command is measured
// with: a NodePool like the fixture's GPU pool (its taint, both
// architectures, its instance type, so capacity comes from its nodes) and
// a change to security/linux-hardening that drops its amd64-only affinity
// (it gains the arm64 nodes: every node is placed again).
func whatifInputs() (pool, change string, err error) {
	whatifOnce.Do(func() {
		dir, err := os.MkdirTemp("", "daemoncheck-bench-whatif-")
		if err != nil {
			whatifErr = err
			return
		}
		np := map[string]any{
			"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": map[string]any{"name": "gpu"},
			"spec": map[string]any{"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]string{"node-pool": "gpu"}},
				"spec": map[string]any{
					"nodeClassRef": map[string]string{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
					"taints":       []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}},
					"requirements": []map[string]any{
						{"key": "kubernetes.io/arch", "operator": "In", "values": []string{"amd64", "arm64"}},
						{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": []string{"p4d.24xlarge"}},
					},
				},
			}},
		}
		var spec dsSpec
		for _, s := range dsSpecs {
			if s.ns == "security" && s.name == "linux-hardening" {
				spec = s
			}
		}
		spec.affinity = nil
		ds := buildDaemonSet(spec)
		ds.APIVersion, ds.Kind = "apps/v1", "DaemonSet"
		whatifPool, whatifDS = filepath.Join(dir, "nodepool.yaml"), filepath.Join(dir, "linux-hardening.yaml")
		for path, obj := range map[string]any{whatifPool: np, whatifDS: ds} {
			data, err := yaml.Marshal(obj)
			if err == nil {
				err = os.WriteFile(path, data, 0o644)
			}
			if err != nil {
				whatifErr = err
				return
			}
		}
	})
	return whatifPool, whatifDS, whatifErr
}
