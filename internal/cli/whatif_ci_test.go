package cli

import (
	"encoding/xml"
	"regexp"
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

// Every word the what-if's human view prints as a finding type (a
// finding's heading, a RUNS or FIT cell that fails, the verdict's counts)
// is a type --ignore and --fail-on accept, and the old names are refused.
func TestWhatIfPrintedTypesAreAcceptedByIgnoreAndFailOn(t *testing.T) {
	runs := [][]string{
		{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node"},
		{"whatif", wiDir + "nodepool-edge.yaml", "-f", wiCluster, "-o", "wide"},
		{"whatif", wiDir + "falco-change.yaml", wiDir + "otel-node-exporter.yaml", "-f", wiCluster, "--require", "security/falco"},
	}
	heading := regexp.MustCompile(`^\s+(?:FAIL|error|warning|info) (\S+):`)
	camel := regexp.MustCompile(`^[A-Z][a-z]+[A-Z][A-Za-z]*$`)
	verdict := regexp.MustCompile(`\(((?:[A-Za-z]+ \d+(?:, )?)+)\)$`)
	printed := map[string][]string{}
	for _, args := range runs {
		out, _, _ := runCmd(t, "", args...)
		runsAt, fitAt := -1, -1
		for _, l := range strings.Split(out, "\n") {
			if m := heading.FindStringSubmatch(l); m != nil {
				printed[m[1]] = args
			}
			// The RUNS and FIT cells of the DaemonSet tables: a
			// CamelCase word there is a type.
			switch {
			case strings.Contains(l, " RUNS ") && strings.Contains(l, " FIT "):
				runsAt, fitAt = strings.Index(l, "RUNS"), strings.Index(l, "FIT")
				continue
			case strings.TrimSpace(l) == "":
				runsAt, fitAt = -1, -1
			}
			for _, at := range []int{runsAt, fitAt} {
				if at >= 0 && at < len(l) {
					if f := strings.Fields(l[at:]); len(f) > 0 && camel.MatchString(f[0]) {
						printed[f[0]] = args
					}
				}
			}
			if strings.HasPrefix(l, "whatif ") {
				if m := verdict.FindStringSubmatch(l); m != nil {
					for _, part := range strings.Split(m[1], ", ") {
						printed[strings.Fields(part)[0]] = args
					}
				}
			}
		}
	}
	for _, want := range []string{"WillNotRun", "WillNotFit", "HostPortConflict", "FitUnknown"} {
		if printed[want] == nil {
			t.Errorf("%s is printed by none of the runs: %v", want, printed)
		}
	}
	for word, args := range printed {
		for _, flag := range []string{"--ignore", "--fail-on"} {
			if _, errOut, code := runCmd(t, "", append(append([]string{}, args...), flag, word)...); code == ExitUsage {
				t.Errorf("%s %s: refused: %s", flag, word, errOut)
			}
		}
	}
	for _, old := range []string{"HostPortClash", "NotCovered"} {
		if _, errOut, code := runCmd(t, "", append(append([]string{}, runs[0]...), "--ignore", old)...); code != ExitUsage || !strings.Contains(errOut, "HostPortConflict") {
			t.Errorf("--ignore %s: exit %d, stderr %q; want a usage error listing the types", old, code, errOut)
		}
	}
}
