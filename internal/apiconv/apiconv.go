// Package apiconv completes objects of older API versions, decoded straight
// into their apps/v1 form, with what the API server's conversion to apps/v1
// would have carried over. Readers of offline input call it; the analysis
// only ever sees apps/v1.
package apiconv

import (
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
)

// KeepTemplateGeneration carries spec.templateGeneration of an
// extensions/v1beta1 DaemonSet (raw is the object as read, ds its apps/v1
// decoding, which has no such field) into the
// deprecated.daemonset.template.generation annotation, as the API server's
// Convert_apps_DaemonSet_To_v1_DaemonSet (pkg/apis/apps/v1/conversion.go)
// does when it serves the object as apps/v1. The controller of those
// versions compared the Pods' pod-template-generation label with it
// (pkg/controller/daemon/util IsPodUpdated, v1.6-v1.15): without it every
// Pod whose revision hash predates the current ControllerRevision looks
// outdated.
//
// An object without the field (0 or absent: servers set 1 on create) is
// left as it is: a generation the dump does not hold is not invented.
// apps/v1beta2 objects carry the annotation already (the server's
// conversion to v1beta2 adds it); a spec.templateGeneration in one is kept
// too.
func KeepTemplateGeneration(ds *appsv1.DaemonSet, raw []byte) error {
	var old struct {
		Spec struct {
			TemplateGeneration *int64 `json:"templateGeneration"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &old); err != nil {
		return fmt.Errorf("reading spec.templateGeneration: %w", err)
	}
	g := old.Spec.TemplateGeneration
	if g == nil || *g <= 0 {
		return nil
	}
	// The server's conversion copies the map before it writes (the
	// decoded object may share it with nothing here, but a caller's may).
	ann := make(map[string]string, len(ds.Annotations)+1)
	for k, v := range ds.Annotations {
		ann[k] = v
	}
	ann[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(*g, 10)
	ds.Annotations = ann
	return nil
}
