package collect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

const readinessList = `{"apiVersion":"readiness.node.x-k8s.io/v1alpha1","kind":"NodeReadinessRuleList","metadata":{"resourceVersion":"7"},
"items":[{"apiVersion":"readiness.node.x-k8s.io/v1alpha1","kind":"NodeReadinessRule","metadata":{"name":"cni"},
"spec":{"conditions":[{"type":"network.example.com/CNIReady","requiredStatus":"True"}],"enforcementMode":"bootstrap-only",
"taint":{"key":"readiness.k8s.io/cni","value":"pending","effect":"NoSchedule"},"nodeSelector":{}}}]}`

// readinessServer answers the rules' list with status and body, and every
// other request as an empty server would.
func readinessServer(t *testing.T, status int, body string) *liveRead {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/readiness.node.x-k8s.io/v1alpha1/nodereadinessrules" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	cs, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	snap := &model.Snapshot{}
	return &liveRead{cs: cs, g: newListGroup(context.Background(), snap, 1), snap: snap}
}

func TestReadinessRulesAreReadWhenServed(t *testing.T) {
	r := readinessServer(t, http.StatusOK, readinessList)
	r.readinessRules()
	if err := r.g.wait(); err != nil {
		t.Fatal(err)
	}
	if !r.snap.NodeReadinessRulesRead || len(r.snap.NodeReadinessRules) != 1 {
		t.Fatalf("rules read %v: %+v", r.snap.NodeReadinessRulesRead, r.snap.NodeReadinessRules)
	}
	got := r.snap.NodeReadinessRules[0]
	if got.Name != "cni" || got.Taint.Key != "readiness.k8s.io/cni" || got.Taint.Effect != corev1.TaintEffectNoSchedule || got.EnforcementMode != "bootstrap-only" ||
		len(got.Conditions) != 1 || got.Conditions[0].Type != "network.example.com/CNIReady" || got.Conditions[0].RequiredStatus != corev1.ConditionTrue {
		t.Errorf("rule %+v", got)
	}
	if len(r.snap.Warnings) > 0 || len(r.snap.Missing) > 0 {
		t.Errorf("warnings %v, missing %v", r.snap.Warnings, r.snap.Missing)
	}
}

func TestReadinessRulesUnreadAreNeverAnError(t *testing.T) {
	forbidden := `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"nodereadinessrules.readiness.node.x-k8s.io is forbidden"}`
	cases := []struct {
		name   string
		status int
		body   string
		read   bool
		unread string
	}{
		{name: "CRD not served: no rules", status: http.StatusNotFound, body: `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, read: true},
		{name: "forbidden: unread, with the RBAC rule", status: http.StatusForbidden, body: forbidden, unread: "apiGroups: [readiness.node.x-k8s.io], resources: [nodereadinessrules]"},
		{name: "another failure: unread, with why", status: http.StatusInternalServerError, body: `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError","code":500,"message":"etcd down"}`, unread: "etcd down"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := readinessServer(t, tc.status, tc.body)
			r.readinessRules()
			if err := r.g.wait(); err != nil {
				t.Fatalf("an unread CRD failed the read: %v", err)
			}
			if r.snap.NodeReadinessRulesRead != tc.read || len(r.snap.NodeReadinessRules) > 0 || len(r.snap.Missing) > 0 || len(r.snap.Warnings) > 0 {
				t.Errorf("read %v (want %v), rules %v, missing %v, warnings %v", r.snap.NodeReadinessRulesRead, tc.read, r.snap.NodeReadinessRules, r.snap.Missing, r.snap.Warnings)
			}
			if got := r.snap.NodeReadinessRulesUnread; (tc.unread == "") != (got == "") || !strings.Contains(got, tc.unread) {
				t.Errorf("unread %q, want one with %q", got, tc.unread)
			}
		})
	}
}
