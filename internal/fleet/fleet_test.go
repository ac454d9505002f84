package fleet

import (
	"fmt"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	available := []string{"prod-eu-10", "prod-eu-9", "staging", "arn:aws:eks:eu-west-1:1:cluster/prod", "dev[1]"}
	tests := []struct {
		patterns []string
		want     string
		err      string
	}{
		{[]string{"staging"}, "staging", ""},
		{[]string{"prod-*"}, "prod-eu-9 prod-eu-10", ""},
		{[]string{"prod-eu-?"}, "prod-eu-9", ""},
		{[]string{"staging", "prod-*", "prod-eu-9"}, "prod-eu-9 prod-eu-10 staging", ""},
		{[]string{"*"}, "arn:aws:eks:eu-west-1:1:cluster/prod dev[1] prod-eu-9 prod-eu-10 staging", ""},
		// * crosses "/", which EKS context names hold.
		{[]string{"arn:*prod"}, "arn:aws:eks:eu-west-1:1:cluster/prod", ""},
		{[]string{"*/prod"}, "arn:aws:eks:eu-west-1:1:cluster/prod", ""},
		// A name is a name even with pattern characters.
		{[]string{"dev[1]"}, "dev[1]", ""},
		{[]string{"prod"}, "", `--contexts: no context "prod" in the kubeconfig; it has arn:aws:eks:eu-west-1:1:cluster/prod, dev[1], prod-eu-9, prod-eu-10, staging`},
		{[]string{"qa-*"}, "", `--contexts: no context matches "qa-*" in the kubeconfig; it has arn:aws:eks`},
		{[]string{"prod-[e"}, "", `--contexts "prod-[e" is not a valid pattern`},
	}
	for _, tt := range tests {
		got, err := Select(append([]string(nil), available...), tt.patterns)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.patterns, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("%q: %q %v, want %s", tt.patterns, got, err, tt.want)
		}
	}
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprintf("c%02d", i)
	}
	if _, err := Select(many, []string{"x"}); err == nil || !strings.HasSuffix(err.Error(), "c19 and 10 more (kubectl config get-contexts)") {
		t.Errorf("a long list of contexts is cut: %v", err)
	}
}
