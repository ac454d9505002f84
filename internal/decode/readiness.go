package decode

import (
	"encoding/json"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// readinessRule keeps the record of a NodeReadinessRule
// (node-readiness-controller's CRD, readiness.node.x-k8s.io/v1alpha1).
func (r *fileReader) readinessRule(raw json.RawMessage) error {
	const kind = "NodeReadinessRule"
	var o collect.NodeReadinessRule
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if err := needIdentity(kind, "-", o.Name, "-", false); err != nil {
		return err
	}
	add(r, model.NodeReadinessRules, o.UID, "", o.Name, o.ResourceVersion, &r.readiness, o)
	return nil
}

// readinessRules puts the rules read into the snapshot: an input that holds
// NodeReadinessRule objects (or an empty NodeReadinessRuleList) has read
// them; one without says nothing about them, and they stay unread.
func (r *fileReader) readinessRules(snap *model.Snapshot) {
	snap.NodeReadinessRulesRead = r.seen[model.NodeReadinessRules]
	if len(r.readiness) > 0 {
		snap.NodeReadinessRules = collect.ReadinessRules(r.readiness)
	}
}
