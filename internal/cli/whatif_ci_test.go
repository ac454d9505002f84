package cli

import (
	"encoding/xml"
	"strings"
	"testing"
)

// whatIfJUnitDoc is the part of a what-if's JUnit a CI reader counts.
type whatIfJUnitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// JUnit and GitHub report a what-if per cause, not per finding: two
// DaemonSets that one taint keeps off every shape of a pool are one test
// case and one annotation, naming both and every shape; and the gate reads
// the same after grouping: a failing what-if has a failing case and an
// ::error (exit 1), and one the gate does not select has neither (exit 0),
// while a warning the gate selects becomes a failure.
func TestWhatIfCIFormatsReportOneEntryPerCause(t *testing.T) {
	args := []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node", "--require", "logging/fluent-bit"}
	shapes := "gpu-amd64-g5.2xlarge, gpu-amd64-g5.xlarge, gpu-arm64-g5.2xlarge, gpu-arm64-g5g.xlarge"

	out, errOut, code := runCmd(t, "", append(args, "-o", "junit")...)
	if code != ExitFindings {
		t.Fatalf("junit: exit %d, want %d (stderr %q)", code, ExitFindings, errOut)
	}
	var doc whatIfJUnitDoc
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, out)
	}
	if doc.Failures != 1 || doc.Tests != 2 {
		t.Errorf("junit: %d tests, %d failures; want 2 causes (WillNotRun, FitUnknown), 1 failing:\n%s", doc.Tests, doc.Failures, out)
	}
	failed := 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure == nil {
				continue
			}
			failed++
			if c.Failure.Type != "WillNotRun" || c.Name != "WillNotRun kube-system/ebs-csi-node, logging/fluent-bit" {
				t.Errorf("junit: failing case %q of type %q", c.Name, c.Failure.Type)
			}
			if !strings.Contains(c.Failure.Text, "Node shapes: "+shapes) || !strings.Contains(c.Failure.Text, "Suggestion: add to the DaemonSet's Pod template tolerations") {
				t.Errorf("junit: the failure does not list the shapes and the fix: %q", c.Failure.Text)
			}
		}
	}
	if failed != 1 {
		t.Errorf("junit: %d failing cases, want 1:\n%s", failed, out)
	}

	out, errOut, code = runCmd(t, "", append(args, "-o", "github")...)
	if code != ExitFindings {
		t.Fatalf("github: exit %d, want %d (stderr %q)", code, ExitFindings, errOut)
	}
	var errs, warns []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "::error "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "::warning "):
			warns = append(warns, l)
		}
	}
	if len(errs) != 1 || len(warns) != 1 {
		t.Fatalf("github: %d errors and %d warnings, want one per cause (1 and 1):\n%s", len(errs), len(warns), out)
	}
	for _, want := range []string{"title=WillNotRun NodePool gpu kube-system/ebs-csi-node logging/fluent-bit::", "%0ANode shapes: " + shapes + "%0AFix: "} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("github: %q not in %q", want, errs[0])
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]), "whatif failed") {
		t.Errorf("github: the verdict is not last:\n%s", out)
	}

	// The gate decides, not the grouping.
	for _, c := range []struct {
		flags    []string
		code     int
		failing  string // the failing case's type, "" for none
		ghErrors int
	}{
		{[]string{"--fail-on", "none"}, ExitOK, "", 0},
		{[]string{"--fail-on", "FitUnknown", "--ignore", "WillNotRun"}, ExitFindings, "FitUnknown", 1},
	} {
		out, _, code := runCmd(t, "", append(append(args, c.flags...), "-o", "junit")...)
		var doc whatIfJUnitDoc
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, s := range doc.Suites {
			for _, tc := range s.Cases {
				if tc.Failure != nil {
					types = append(types, tc.Failure.Type)
				}
			}
		}
		if code != c.code || strings.Join(types, ",") != c.failing || doc.Failures != len(types) {
			t.Errorf("%v: junit exit %d (want %d), failing %v (want %q), failures=%d", c.flags, code, c.code, types, c.failing, doc.Failures)
		}
		gh, _, ghCode := runCmd(t, "", append(append(args, c.flags...), "-o", "github")...)
		if n := strings.Count(gh, "::error "); ghCode != c.code || n != c.ghErrors {
			t.Errorf("%v: github exit %d (want %d), %d ::error (want %d):\n%s", c.flags, ghCode, c.code, n, c.ghErrors, gh)
		}
	}
}
