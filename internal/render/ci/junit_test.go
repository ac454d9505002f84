package ci

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// xsdElement is one element of the JUnit schema Jenkins' junit plugin reads
// (junit-10.xsd, from Ant's JUnit report format; GitLab parses the same
// shape). The rules below are transcribed from that XSD by hand, so the test
// needs no network and no XML schema engine: which attributes an element may
// carry and must carry, which children it may have and how many of each.
type xsdElement struct {
	attrs    map[string]string // name -> type: "string", "int", "decimal", "dateTime"
	required []string
	children map[string]int // child -> maxOccurs (-1 unbounded)
	text     bool           // character content allowed
}

var junitXSD = map[string]xsdElement{
	"testsuites": {
		attrs:    map[string]string{"name": "string", "time": "decimal", "tests": "int", "failures": "int", "disabled": "int", "errors": "int"},
		children: map[string]int{"testsuite": -1},
	},
	"testsuite": {
		attrs: map[string]string{"name": "string", "tests": "int", "failures": "int", "errors": "int", "time": "decimal", "disabled": "int",
			"skipped": "int", "timestamp": "dateTime", "hostname": "string", "id": "string", "package": "string"},
		required: []string{"name", "tests"},
		children: map[string]int{"properties": 1, "testcase": -1, "system-out": 1, "system-err": 1},
	},
	"properties": {children: map[string]int{"property": -1}},
	"property": {
		attrs:    map[string]string{"name": "string", "value": "string"},
		required: []string{"name", "value"},
	},
	"testcase": {
		attrs:    map[string]string{"name": "string", "assertions": "string", "time": "decimal", "classname": "string", "status": "string"},
		required: []string{"name"},
		// Jenkins' XSD allows error and failure unbounded but its parser
		// keeps one; daemoncheck promises at most one of each.
		children: map[string]int{"skipped": 1, "error": 1, "failure": 1, "system-out": -1, "system-err": -1},
	},
	"skipped":    {attrs: map[string]string{"message": "string"}, text: true},
	"error":      {attrs: map[string]string{"message": "string", "type": "string"}, text: true},
	"failure":    {attrs: map[string]string{"message": "string", "type": "string"}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

// The readers' stricter forms (Ant's XSD, GitLab's parser) also want these.
var junitAlsoRequired = map[string][]string{
	"testsuite": {"failures", "errors", "time"},
	"testcase":  {"classname", "time"},
	"failure":   {"message", "type"},
	"error":     {"message", "type"},
}

var (
	xsdInt      = regexp.MustCompile(`^-?[0-9]+$`)
	xsdDecimal  = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	xsdDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$`)
)

type xmlNode struct {
	name     string
	attrs    map[string]string
	children []*xmlNode
	text     string
}

func parseXML(t *testing.T, doc []byte) *xmlNode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatal("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		}
	}
	if root == nil {
		t.Fatal("no root element")
	}
	return root
}

// validateJUnit returns every way doc breaks the schema rules.
func validateJUnit(t *testing.T, doc []byte) []string {
	root := parseXML(t, doc)
	var errs []string
	if root.name != "testsuites" {
		errs = append(errs, "root is <"+root.name+">, want <testsuites>")
	}
	var walk func(n *xmlNode, path string)
	walk = func(n *xmlNode, path string) {
		path += "/" + n.name
		if v, ok := n.attrs["name"]; ok {
			path += "[" + v + "]"
		}
		el, ok := junitXSD[n.name]
		if !ok {
			errs = append(errs, path+": element not in the schema")
			return
		}
		for a, v := range n.attrs {
			typ, ok := el.attrs[a]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: attribute %q not in the schema", path, a))
				continue
			}
			if re := map[string]*regexp.Regexp{"int": xsdInt, "decimal": xsdDecimal, "dateTime": xsdDateTime}[typ]; re != nil && !re.MatchString(v) {
				errs = append(errs, fmt.Sprintf("%s: %s=%q is not an xs:%s", path, a, v, typ))
			}
		}
		for _, a := range append(append([]string{}, el.required...), junitAlsoRequired[n.name]...) {
			if _, ok := n.attrs[a]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required attribute %q missing", path, a))
			}
		}
		if !el.text && strings.TrimSpace(n.text) != "" {
			errs = append(errs, path+": text content not allowed")
		}
		count := map[string]int{}
		for _, c := range n.children {
			count[c.name]++
			max, ok := el.children[c.name]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: child <%s> not allowed", path, c.name))
				continue
			}
			if max >= 0 && count[c.name] > max {
				errs = append(errs, fmt.Sprintf("%s: more than %d <%s>", path, max, c.name))
			}
			walk(c, path)
		}
		// The counts must add up, as the dashboards show them.
		if n.name == "testsuite" {
			want := map[string]int{"tests": len(n.children) - count["properties"] - count["system-out"] - count["system-err"]}
			for _, c := range n.children {
				for _, k := range []string{"failure", "error", "skipped"} {
					for _, cc := range c.children {
						if cc.name == k {
							want[map[string]string{"failure": "failures", "error": "errors", "skipped": "skipped"}[k]]++
						}
					}
				}
			}
			for k, w := range want {
				if got, _ := strconv.Atoi(n.attrs[k]); n.attrs[k] != "" && got != w {
					errs = append(errs, fmt.Sprintf("%s: %s=%d but %d counted", path, k, got, w))
				}
			}
		}
	}
	walk(root, "")
	return errs
}

func demoReport(t *testing.T, gate report.Gate) *report.Report {
	t.Helper()
	snap, err := decode.Files([]string{"../../../test/fixtures/demo-cluster.yaml"}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := policy.ParseRequire("security/falco")
	if err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse(time.RFC3339, "2026-11-23T12:00:00Z")
	return audit.Analyze(snap, audit.Options{Now: now, Policy: &policy.Policy{Rules: []policy.Rule{r}}, Gate: gate})
}

func TestJUnitSchema(t *testing.T) {
	demo := demoReport(t, report.Gate{})
	// A node with two failing findings, and a partial read: the cases the
	// demo may not have.
	two := &report.Report{GeneratedAt: demo.GeneratedAt, Partial: true,
		Unread: []report.Unread{{Kind: "Pod", Reason: "forbidden", Rule: "apiGroups: [\"\"], resources: [pods], verbs: [list]"}},
		DaemonSets: []report.DaemonSetReport{{Namespace: "ns", Name: "agent", Findings: []report.Finding{
			{Type: report.UnhealthyPod, Node: "n1", Message: "Pod a is not Ready", Suggestion: "check its logs", Failing: true},
			{Type: report.DuplicatePods, Node: "n1", Message: "two Pods <on> n1 & more", Failing: true},
			{Type: report.OutdatedPod, Node: "n1", Message: "old", Exempted: "daemoncheck.io/exempt"},
		}}}}
	for name, r := range map[string]*report.Report{"demo": demo, "two findings on one node, partial": two} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := JUnit(&buf, r, render.Options{}); err != nil {
				t.Fatal(err)
			}
			for _, e := range validateJUnit(t, buf.Bytes()) {
				t.Error(e)
			}
			if t.Failed() {
				t.Logf("document:\n%s", buf.String())
			}
		})
	}
	var buf bytes.Buffer
	if err := JUnit(&buf, two, render.Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`type="UnhealthyPod,DuplicatePods"`, `message="2 findings: UnhealthyPod, DuplicatePods"`, "Suggestion: check its logs", `<error type="Unread"`, `errors="1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, out)
		}
	}
}

// The checker itself catches what it is for.
func TestJUnitSchemaChecker(t *testing.T) {
	bad := `<testsuites><testsuite name="x" tests="1" failures="2" errors="0" time="0"><testcase name="c" classname="x" time="0"><failure message="a" type="A"/><failure message="b" type="B"/></testcase><bogus/></testsuite></testsuites>`
	errs := strings.Join(validateJUnit(t, []byte(bad)), "\n")
	for _, want := range []string{"more than 1 <failure>", "child <bogus> not allowed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("checker missed %q; said:\n%s", want, errs)
		}
	}
	if errs := validateJUnit(t, []byte(`<testsuites><testsuite name="x" tests="1"><testcase name="c"/></testsuite></testsuites>`)); len(errs) == 0 {
		t.Error("checker accepted a testsuite without time/errors")
	}
}
