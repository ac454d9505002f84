package kruise_test

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/internal/kruise"
)

func TestConvertAppliesKruiseDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, doc              string
		maxUnavailable, surge  string
		partitioned            bool
		partition, updateRevis string
	}{
		{name: "no rollingUpdate: maxUnavailable 1, maxSurge 0",
			doc:            `{"apiVersion":"apps.kruise.io/v1alpha1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns"},"spec":{},"status":{"daemonSetHash":"h1"}}`,
			maxUnavailable: "1", surge: "0", updateRevis: "h1"},
		{name: "maxSurge alone: no unavailability (a nil budget counts 0 in Kruise)",
			doc:            `{"apiVersion":"apps.kruise.io/v1alpha1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns"},"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":"10%"}}}}`,
			maxUnavailable: "0", surge: "10%"},
		{name: "deprecated Surging: maxSurge 1, maxUnavailable 0",
			doc:            `{"apiVersion":"apps.kruise.io/v1alpha1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns"},"spec":{"updateStrategy":{"rollingUpdate":{"rollingUpdateType":"Surging"}}}}`,
			maxUnavailable: "0", surge: "1"},
		{name: "v1alpha1 progressive-create-pod annotation is partitioned scaling",
			doc:            `{"apiVersion":"apps.kruise.io/v1alpha1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns","annotations":{"daemonset.kruise.io/progressive-create-pod":"true"}},"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}`,
			maxUnavailable: "1", surge: "0", partitioned: true, partition: "2"},
		{name: "v1beta1 partitionedScaling, percentage partition, updateRevision",
			doc:            `{"apiVersion":"apps.kruise.io/v1beta1","kind":"DaemonSet","metadata":{"name":"a","namespace":"ns"},"spec":{"scaleStrategy":{"partitionedScaling":true},"updateStrategy":{"rollingUpdate":{"partition":"50%","maxUnavailable":2}}},"status":{"updateRevision":"h2"}}`,
			maxUnavailable: "2", surge: "0", partitioned: true, partition: "50%", updateRevis: "h2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o kruise.Object
			if err := json.Unmarshal([]byte(tc.doc), &o); err != nil {
				t.Fatal(err)
			}
			ds, k := kruise.Convert(&o)
			ru := ds.Spec.UpdateStrategy.RollingUpdate
			if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil ||
				ru.MaxUnavailable.String() != tc.maxUnavailable || ru.MaxSurge.String() != tc.surge {
				t.Fatalf("strategy %+v, want RollingUpdate maxUnavailable %s maxSurge %s", ds.Spec.UpdateStrategy, tc.maxUnavailable, tc.surge)
			}
			if ds.APIVersion != o.APIVersion || ds.Kind != "DaemonSet" {
				t.Fatalf("typeMeta %+v", ds.TypeMeta)
			}
			part := ""
			if k.Partition != nil {
				part = k.Partition.String()
			}
			if k.PartitionedScaling != tc.partitioned || part != tc.partition || k.UpdateRevision != tc.updateRevis {
				t.Fatalf("kruise record %+v", k)
			}
		})
	}
}
