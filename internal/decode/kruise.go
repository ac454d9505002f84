package decode

import (
	"encoding/json"
	"fmt"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/kruise"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
)

// isKruiseDaemonSet tells an Advanced DaemonSet (kind DaemonSet in
// apps.kruise.io) from the core kind, which the rest of the reader maps.
func isKruiseDaemonSet(kind, apiVersion string) bool {
	return kind == "DaemonSet" && model.DaemonSetGroup(apiVersion) == model.KruiseGroup
}

// kruiseDaemonSet keeps an Advanced DaemonSet: the DaemonSet the engine
// judges, among the core ones (kept once per identity as they are, the
// newest copy winning), and its Kruise record, matched up at the end
// (kruiseRecords).
func (r *fileReader) kruiseDaemonSet(raw json.RawMessage, apiVersion string) error {
	const kind = "DaemonSet." + model.KruiseGroup
	var o kruise.Object
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if o.APIVersion == "" {
		o.APIVersion = apiVersion
	}
	switch v := o.APIVersion; v {
	case "", model.KruiseGroup + "/v1alpha1", model.KruiseGroup + "/v1beta1":
	default:
		return fmt.Errorf("%s has unsupported apiVersion %s (want %s/v1alpha1 or v1beta1)", kind, v, model.KruiseGroup)
	}
	if err := needIdentity(kind, o.Namespace, o.Name, string(o.UID), true); err != nil {
		return err
	}
	if o.Spec.Selector == nil {
		return fmt.Errorf("%s %s/%s has no spec.selector", kind, o.Namespace, o.Name)
	}
	if err := capacity.CheckPodSpec(&o.Spec.Template.Spec, "spec.template.spec"); err != nil {
		return fmt.Errorf("%s %s/%s: %w", kind, o.Namespace, o.Name, err)
	}
	ds, k := kruise.Convert(&o)
	r.saneTime(&ds.CreationTimestamp, kind, ds.Namespace, ds.Name)
	// An input of Advanced DaemonSets only still holds DaemonSets to audit.
	r.seen[model.DaemonSets] = true
	r.seen[model.KruiseDaemonSets] = true
	add(r, model.KruiseDaemonSets, ds.UID, ds.Namespace, ds.Name, ds.ResourceVersion, &r.snap.DaemonSets, ds)
	if r.kruise == nil {
		r.kruise = map[kruiseID]model.KruiseDaemonSet{}
	}
	r.kruise[kruiseID{ds.Namespace, ds.Name, string(ds.UID), ds.ResourceVersion}] = k
	return nil
}

type kruiseID struct{ ns, name, uid, rv string }

// kruiseRecords are the Kruise records of the Advanced DaemonSets kept,
// each the record of the very copy kept.
func (r *fileReader) kruiseRecords(snap *model.Snapshot) {
	for i := range snap.DaemonSets {
		ds := &snap.DaemonSets[i]
		if k, ok := r.kruise[kruiseID{ds.Namespace, ds.Name, string(ds.UID), ds.ResourceVersion}]; ok && model.IsKruise(ds) {
			snap.Kruise = append(snap.Kruise, k)
		}
	}
}

// keepKruise keeps the records of the Advanced DaemonSets selected.
func keepKruise(snap *model.Snapshot) {
	snap.Kruise = collect.KeepKruise(snap.Kruise, snap.DaemonSets)
}
