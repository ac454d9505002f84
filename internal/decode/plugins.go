package decode

import (
	"encoding/json"
	"sort"

	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// pluginVersions are the apiVersions of the node-plugin registrations read
// from files: the fields kept (driver names, spec.driver, spec.nodeName)
// mean the same in each. Another version (an alpha) is counted as ignored,
// as an unknown kind is.
var pluginVersions = map[string]map[string]bool{
	"CSINode":       {"storage.k8s.io/v1": true, "storage.k8s.io/v1beta1": true},
	"CSIDriver":     {"storage.k8s.io/v1": true, "storage.k8s.io/v1beta1": true},
	"ResourceSlice": {"resource.k8s.io/v1": true, "resource.k8s.io/v1beta2": true, "resource.k8s.io/v1beta1": true},
}

// pluginObject keeps the record of a CSINode, CSIDriver or ResourceSlice
// (the kind already checked to be in its group), and reports whether it
// was one of them.
func (r *fileReader) pluginObject(raw json.RawMessage, kind, apiVersion string) (bool, error) {
	versions, ok := pluginVersions[kind]
	if !ok {
		return false, nil
	}
	if apiVersion != "" && !versions[apiVersion] {
		r.ignored[kind+" "+apiVersion]++
		return true, nil
	}
	var o struct {
		Metadata struct {
			Name            string    `json:"name"`
			UID             types.UID `json:"uid"`
			ResourceVersion string    `json:"resourceVersion"`
		} `json:"metadata"`
		Spec struct {
			Drivers []struct {
				Name string `json:"name"`
			} `json:"drivers"`
			Driver   string `json:"driver"`
			NodeName string `json:"nodeName"`
		} `json:"spec"`
	}
	if err := decodeInto(raw, &o, kind); err != nil {
		return true, err
	}
	if err := needIdentity(kind, "-", o.Metadata.Name, "-", false); err != nil {
		return true, err
	}
	md := o.Metadata
	p := &r.snap.Plugins
	switch kind {
	case "CSINode":
		r.seen[model.CSINodes] = true
		n := model.CSINode{Node: md.Name}
		for _, d := range o.Spec.Drivers {
			n.Drivers = append(n.Drivers, d.Name)
		}
		add(r, model.CSINodes, md.UID, "", md.Name, md.ResourceVersion, &p.CSINodes, n)
	case "CSIDriver":
		r.seen[model.CSIDrivers] = true
		add(r, model.CSIDrivers, md.UID, "", md.Name, md.ResourceVersion, &p.CSIDrivers, md.Name)
	case "ResourceSlice":
		r.seen[model.ResourceSlices] = true
		if o.Spec.NodeName != "" {
			add(r, model.ResourceSlices, md.UID, "", md.Name, md.ResourceVersion, &p.ResourceSlices, model.ResourceSlice{Name: md.Name, Driver: o.Spec.Driver, Node: o.Spec.NodeName})
		}
	}
	return true, nil
}

// markPlugins records which registrations the input holds, in the order
// the live reader gives them. Absent ones are not read, and the input is
// not partial for it: most dumps hold none.
func (r *fileReader) markPlugins(snap *model.Snapshot) {
	p := &snap.Plugins
	p.CSINodesRead, p.CSIDriversRead, p.ResourceSlicesRead = r.seen[model.CSINodes], r.seen[model.CSIDrivers], r.seen[model.ResourceSlices]
	for i := range p.CSINodes {
		sort.Strings(p.CSINodes[i].Drivers)
	}
	collect.SortCSINodes(p.CSINodes)
	sort.Strings(p.CSIDrivers)
	collect.SortSlices(p.ResourceSlices)
}
