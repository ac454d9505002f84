package collect

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// node-readiness-controller's rules (kubernetes-sigs/node-readiness-controller,
// api/v1alpha1/nodereadinessrule_types.go): read when the CRD is served and
// readable, to know which conditions a readiness.k8s.io/ gate waits for.
// Never an error: without them, those gates' conditions are unknown.

// ReadinessGroupVersion is the API of NodeReadinessRules.
var ReadinessGroupVersion = schema.GroupVersion{Group: "readiness.node.x-k8s.io", Version: "v1alpha1"}

const readinessResource = "nodereadinessrules"

// NodeReadinessRule is the part of the CRD's object daemoncheck reads.
type NodeReadinessRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              NodeReadinessRuleSpec `json:"spec"`
}

// NodeReadinessRuleSpec is the rule's spec.
type NodeReadinessRuleSpec struct {
	Conditions []struct {
		Type           string                 `json:"type"`
		RequiredStatus corev1.ConditionStatus `json:"requiredStatus"`
	} `json:"conditions"`
	EnforcementMode string       `json:"enforcementMode,omitempty"`
	Taint           corev1.Taint `json:"taint"`
	DryRun          bool         `json:"dryRun,omitempty"`
}

// NodeReadinessRuleList is a list of rules.
type NodeReadinessRuleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeReadinessRule `json:"items"`
}

// DeepCopyObject implements runtime.Object (plain data: a JSON copy).
func (r *NodeReadinessRule) DeepCopyObject() runtime.Object { return jsonCopy(r, &NodeReadinessRule{}) }

// DeepCopyObject implements runtime.Object.
func (l *NodeReadinessRuleList) DeepCopyObject() runtime.Object {
	return jsonCopy(l, &NodeReadinessRuleList{})
}

func jsonCopy[T runtime.Object](in, out T) runtime.Object {
	data, err := json.Marshal(in)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

func init() {
	readScheme.AddKnownTypes(ReadinessGroupVersion, &NodeReadinessRule{}, &NodeReadinessRuleList{})
	metav1.AddToGroupVersion(readScheme, ReadinessGroupVersion)
}

// readinessRuleLister is the optional part of a Client that lists
// NodeReadinessRules; a Client without it reads none, as from a cluster
// without the CRD.
type readinessRuleLister interface {
	ListNodeReadinessRules(ctx context.Context, o metav1.ListOptions) (*NodeReadinessRuleList, error)
}

// ListNodeReadinessRules lists node-readiness-controller's rules.
func (c *restClient) ListNodeReadinessRules(ctx context.Context, o metav1.ListOptions) (*NodeReadinessRuleList, error) {
	return get[*NodeReadinessRuleList](ctx, c.readiness, readinessResource, "", "", &o)
}

// ReadinessRules converts the CRD's objects into the snapshot's form.
func ReadinessRules(items []NodeReadinessRule) []model.NodeReadinessRule {
	out := make([]model.NodeReadinessRule, 0, len(items))
	for _, it := range items {
		r := model.NodeReadinessRule{Name: it.Name, Taint: it.Spec.Taint, EnforcementMode: it.Spec.EnforcementMode, DryRun: it.Spec.DryRun}
		for _, c := range it.Spec.Conditions {
			r.Conditions = append(r.Conditions, model.ReadinessCondition{Type: c.Type, RequiredStatus: c.RequiredStatus})
		}
		out = append(out, r)
	}
	return out
}

// readinessRuleRBAC is the rule that lets daemoncheck read them.
var readinessRuleRBAC = rbacRule(readinessResource, ReadinessGroupVersion.Group)

// readinessRules reads the rules when the client can. A server without the
// CRD (404) has no rules: read, none. A refusal or another failure is never
// the run's error nor a warning (most clusters have no readiness gates):
// the rules stay unread, and the analysis says so where a gate needs them.
func (r *liveRead) readinessRules() {
	l, ok := r.cs.(readinessRuleLister)
	if !ok {
		return
	}
	r.g.run(func(ctx context.Context) {
		items, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]NodeReadinessRule, metav1.ListMeta, error) {
			list, err := l.ListNodeReadinessRules(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			return list.Items, list.ListMeta, nil
		})
		r.g.locked(func() {
			switch {
			case err == nil:
				r.snap.NodeReadinessRules, r.snap.NodeReadinessRulesRead = ReadinessRules(items), true
			case apierrors.IsNotFound(err):
				r.snap.NodeReadinessRulesRead = true
			case apierrors.IsForbidden(err):
				r.snap.NodeReadinessRulesUnread = "forbidden; to read them add " + readinessRuleRBAC
			default:
				r.snap.NodeReadinessRulesUnread = text.Shorten(err.Error(), 200)
			}
		})
	})
}
