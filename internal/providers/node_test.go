package providers_test

import (
	"reflect"
	"strings"
	"testing"
)

func TestNodeManifest(t *testing.T) {
	p := readOne(t, whatifData+"node.yaml")
	if p.NodeName != "storage-1" || p.Kind != "Node" {
		t.Errorf("node %+v", p)
	}
	if p.Allocatable.Cpu().String() != "32" || !strings.Contains(p.AllocatableFrom, "status.capacity") || !strings.Contains(p.AllocatableFrom, "optimistic") {
		t.Errorf("allocatable %v from %q", p.Allocatable, p.AllocatableFrom)
	}
	if got := taints(p.Taints); !reflect.DeepEqual(got, []string{"storage=ceph:NoSchedule"}) {
		t.Errorf("taints %v", got)
	}
}
