package text

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"prod-eu": "prod-eu",
		"arn:aws:eks:eu-west-1:1234:cluster/prod": "arn:aws:eks:eu-west-1:1234:cluster/prod",
		"gke_my-project_europe-west1_prod":        "gke_my-project_europe-west1_prod",
		"":                                        "''",
		"my cluster":                              "'my cluster'",
		"it's":                                    `'it'\''s'`,
		"$(rm -rf ~)":                             "'$(rm -rf ~)'",
		"a;b":                                     "'a;b'",
		"*":                                       "'*'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
