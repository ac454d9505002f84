package report

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite the glossary (docs/findings.md) from the catalog")

// The glossary's findings table (docs/findings.md) is the catalog, row for row: type, severity,
// whether the default gate fails on it, the "when" column (Doc) and why it
// has its severity (Why). The last column, what daemoncheck adds, is the
// README's own. go test ./pkg/report -update rewrites the table.
// glossaryPath is the document that explains every word the UI prints.
const glossaryPath = "../../docs/findings.md"

func TestGlossaryFindingsTableMatchesCatalog(t *testing.T) {
	data, err := os.ReadFile(glossaryPath)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(data), "\n# Findings\n")
	if !ok {
		t.Fatal("the glossary has no # Findings section")
	}
	lines := strings.Split(rest, "\n")
	start, end := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, "| type |") && start < 0 {
			start = i
		}
		if start >= 0 && i > start && !strings.HasPrefix(l, "|") {
			end = i
			break
		}
	}
	if start < 0 || end < 0 {
		t.Fatal("the glossary's Findings section has no table")
	}
	adds := map[FindingType]string{}
	row := regexp.MustCompile("^\\| `(\\w+)` \\|.*\\| ([^|]*) \\|$")
	for _, l := range lines[start+2 : end] {
		if m := row.FindStringSubmatch(l); m != nil {
			adds[FindingType(m[1])] = m[2]
		}
	}
	def := DefaultGate()
	want := []string{"| type | severity | fails by default | when | why this severity | what daemoncheck adds |", "|---|---|---|---|---|---|"}
	for _, ti := range Catalog {
		fails := "no"
		if def.FailOn.Selects(&Finding{Type: ti.Type, Severity: ti.Severity}) {
			fails = "yes"
		}
		want = append(want, fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s |", ti.Type, ti.Severity, fails, ti.Doc, ti.Why, adds[ti.Type]))
	}
	got := lines[start:end]
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	if *updateReadme {
		out := head + "\n# Findings\n" + strings.Join(lines[:start], "\n") + "\n" + strings.Join(want, "\n") + "\n" + strings.Join(lines[end:], "\n")
		if err := os.WriteFile(glossaryPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the glossary's findings table is not the catalog's (go test ./pkg/report -update rewrites it):\n%s", strings.Join(want, "\n"))
}

// Every type says why it has its severity, and the default gate fails on
// exactly the errors: what is broken now.
func TestCatalogSeverities(t *testing.T) {
	def := DefaultGate()
	for _, ti := range Catalog {
		if ti.Why == "" || ti.Severity.Rank() == 0 {
			t.Errorf("%s: severity %q, why %q", ti.Type, ti.Severity, ti.Why)
		}
		if got := def.FailOn.Selects(&Finding{Type: ti.Type, Severity: ti.Severity}); got != (ti.Severity == SeverityError) {
			t.Errorf("%s (%s): fails by default %v", ti.Type, ti.Severity, got)
		}
	}
	lint := &Finding{Type: LowPriorityAgent, Reason: ReasonNoPriorityClass}
	risk := &Finding{Type: LowPriorityAgent, Reason: ReasonBelowWorkloads}
	if SeverityOf(lint) != SeverityInfo || SeverityOf(risk) != SeverityWarning {
		t.Errorf("LowPriorityAgent: no class %s, below workloads %s", SeverityOf(lint), SeverityOf(risk))
	}
}

// The glossary's node problems and severity levels are the code's, row for
// row: every word the default view prints as a PROBLEM or a SEVERITY is
// explained there, and --ignore/--fail-on accept it.
func TestGlossaryNodeProblemsAndSeveritiesMatchTheCode(t *testing.T) {
	data, err := os.ReadFile(glossaryPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	tables := map[string][]string{
		"# Node problems":   {"| problem | node condition | what the node shows |", "|---|---|---|"},
		"# Severity levels": {"| severity | fails by default | meaning |", "|---|---|---|"},
	}
	for _, np := range NodeProblems {
		if _, err := ParseTypes([]string{string(np.Type)}); err != nil {
			t.Errorf("--ignore %s: %v", np.Type, err)
		}
		tables["# Node problems"] = append(tables["# Node problems"], fmt.Sprintf("| `%s` | %s | %s |", np.Type, np.Condition, np.Why))
	}
	def := DefaultGate()
	for _, s := range Severities {
		fails := "no"
		if def.FailOn.Selects(&Finding{Severity: s}) {
			fails = "yes"
		}
		tables["# Severity levels"] = append(tables["# Severity levels"], fmt.Sprintf("| `%s` | %s | %s |", s, fails, SeverityMeaning[s]))
	}
	for heading, want := range tables {
		block := strings.Join(want, "\n")
		_, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
		if !ok || !strings.Contains(rest, block) {
			if *updateReadme {
				doc = replaceTable(doc, heading, block)
				continue
			}
			t.Errorf("%s in %s is not the code's (go test ./pkg/report -update rewrites it):\n%s", heading, glossaryPath, block)
		}
	}
	if *updateReadme {
		if err := os.WriteFile(glossaryPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// replaceTable puts block as the table under heading, adding the section
// at the end when the document has none.
func replaceTable(doc, heading, block string) string {
	head, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		return strings.TrimRight(doc, "\n") + "\n\n" + heading + "\n\n" + block + "\n"
	}
	lines := strings.Split(rest, "\n")
	start, end := -1, len(lines)
	for i, l := range lines {
		if strings.HasPrefix(l, "|") && start < 0 {
			start = i
		}
		if start >= 0 && !strings.HasPrefix(l, "|") {
			end = i
			break
		}
	}
	if start < 0 {
		return head + "\n" + heading + "\n\n" + block + "\n" + rest
	}
	return head + "\n" + heading + "\n" + strings.Join(lines[:start], "\n") + "\n" + block + "\n" + strings.Join(lines[end:], "\n")
}
