package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// MaxProposalBytes bounds one what-if input (a manifest of a pull request):
// far above any real one.
var MaxProposalBytes int64 = 16 << 20

// proposalKinds says what a what-if reads, for messages.
func proposalKinds() string {
	return providers.PoolKinds() + " and DaemonSet (apps/v1)"
}

// ReadProposal reads what-if inputs: files, directories (their *.json,
// *.yaml and *.yml files) or "-" for stdin, each JSON or YAML, one object,
// a List or several documents. Node, NodePool, MachineDeployment,
// MachineSet and MachinePool objects become pool templates, DaemonSets
// changes; a bootstrap or infrastructure template a MachineDeployment
// references is read when it is in the input too; other kinds are ignored
// with a warning.
func ReadProposal(paths []string, stdin io.Reader) (*model.Proposal, error) {
	var objs []providers.Object
	prop := &model.Proposal{}
	for _, p := range paths {
		if p == "-" {
			prop.Inputs = append(prop.Inputs, "<stdin>")
			data, err := io.ReadAll(io.LimitReader(stdin, MaxProposalBytes+1))
			if err != nil {
				return nil, &InputError{File: "<stdin>", Err: err}
			}
			if int64(len(data)) > MaxProposalBytes {
				return nil, &InputError{File: "<stdin>", Err: fmt.Errorf("larger than %d bytes", MaxProposalBytes)}
			}
			more, err := decodeProposal("<stdin>", data)
			if err != nil {
				return nil, err
			}
			objs = append(objs, more...)
			continue
		}
		files, skipped, err := expand(p)
		if err != nil {
			return nil, err
		}
		prop.Warnings = append(prop.Warnings, skipped...)
		for _, f := range files {
			prop.Inputs = append(prop.Inputs, f)
			data, err := ReadFileBounded(f, MaxProposalBytes)
			if err != nil {
				return nil, &InputError{File: f, Err: unwrapPathError(err)}
			}
			more, err := decodeProposal(f, data)
			if err != nil {
				return nil, err
			}
			objs = append(objs, more...)
		}
	}
	if err := translate(objs, prop); err != nil {
		return nil, err
	}
	if len(prop.Pools) == 0 && len(prop.DaemonSets) == 0 {
		return nil, &InputError{File: strings.Join(prop.Inputs, ", "), Err: fmt.Errorf("nothing to evaluate: no %s", proposalKinds())}
	}
	return prop, nil
}

// decodeProposal splits a file into objects (documents, List items). Every
// document is read, or the error names the one that could not be: JSON or
// YAML is told by the first character after any blank and comment lines
// (a JSON stream saved with a "# note" on top is JSON, and each of its
// values a document), and a YAML document that holds more than one JSON
// value is refused rather than cut to its first (the YAML library keeps
// the first value and drops the rest without a word).
func decodeProposal(file string, data []byte) ([]providers.Object, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &InputError{File: file, Err: errors.New("binary data (a NUL byte), not JSON or YAML")}
	}
	var out []providers.Object
	add := func(doc int, raw []byte) error {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return nil // an empty document ("---" at the end)
		}
		if err := splitObject(file, doc, raw, 1, &out); err != nil {
			return &InputError{File: file, Doc: doc, Err: err}
		}
		return nil
	}
	if body := skipBlankAndComments(data); len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(body))
		for doc := 1; ; doc++ {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid JSON: %s", text.OneLine(err.Error()))}
			}
			if err := add(doc, raw); err != nil {
				return nil, err
			}
		}
	} else {
		yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for doc := 1; ; doc++ {
			chunk, err := yr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid YAML: %s", text.OneLine(err.Error()))}
			}
			if blankOrCommentOnly(chunk) {
				continue
			}
			if err := oneValue(chunk); err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: err}
			}
			j, err := yaml.YAMLToJSON(chunk)
			if err != nil {
				return nil, &InputError{File: file, Doc: doc, Err: fmt.Errorf("not valid JSON or YAML: %s", text.OneLine(err.Error()))}
			}
			if err := add(doc, j); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, &InputError{File: file, Err: errors.New("empty input")}
	}
	return out, nil
}

// skipBlankAndComments drops the blank and comment lines before the first
// content.
func skipBlankAndComments(data []byte) []byte {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line = data[:i+1]
		}
		if !blankOrComment(line) {
			return bytes.TrimLeft(data, " \t\r")
		}
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}

func splitObject(file string, doc int, raw json.RawMessage, depth int, out *[]providers.Object) error {
	if raw[0] != '{' {
		return errors.New("expected a Kubernetes object (a JSON/YAML mapping)")
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("not a Kubernetes object: %s", text.OneLine(err.Error()))
	}
	if head.Kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(head.Kind, "List") {
		if depth > maxListDepth {
			return fmt.Errorf("Lists nested more than %d deep", maxListDepth) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
		}
		for i, item := range head.Items {
			item = bytes.TrimSpace(item)
			if len(item) == 0 {
				continue
			}
			if err := splitObject(file, doc, item, depth+1, out); err != nil {
				return fmt.Errorf("%s item %d: %w", head.Kind, i+1, err)
			}
		}
		return nil
	}
	*out = append(*out, providers.Object{File: file, Doc: doc, APIVersion: head.APIVersion, Kind: head.Kind,
		Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, Raw: raw})
	return nil
}

// translate turns the objects into pool templates (each through the
// provider that reads its kind, internal/providers) and DaemonSet changes.
func translate(objs []providers.Object, prop *model.Proposal) error {
	in := providers.NewInput(objs)
	ignored := map[string]int{}
	for i := range objs {
		o := &objs[i]
		fail := func(err error) error {
			if oe, ok := errors.AsType[*providers.ObjectError](err); ok {
				return &InputError{File: oe.Object.File, Doc: oe.Object.Doc, Err: oe.Err}
			}
			return &InputError{File: o.File, Doc: o.Doc, Err: err}
		}
		if o.Kind == "DaemonSet" {
			ds, err := daemonSetChange(o)
			if err != nil {
				return fail(err)
			}
			prop.DaemonSets = append(prop.DaemonSets, *ds)
			prop.Sources = append(prop.Sources, o.File)
			continue
		}
		t, ok, err := providers.ReadPool(o, in)
		switch {
		case err != nil:
			return fail(err)
		case ok:
			prop.Pools = append(prop.Pools, t)
		default:
			ignored[o.Kind]++
		}
	}
	for i := range objs {
		if in.Used(&objs[i]) {
			ignored[objs[i].Kind]--
		}
	}
	var kinds []string
	total := 0
	for k, n := range ignored {
		if n > 0 {
			kinds = append(kinds, k)
			total += n
		}
	}
	if total > 0 {
		sort.Strings(kinds)
		prop.Warnings = append(prop.Warnings, fmt.Sprintf("ignored %d objects of kinds whatif does not read (%s); it reads %s", total, strings.Join(kinds, ", "), proposalKinds()))
	}
	return nil
}

// daemonSetChange is a DaemonSet as a change would make it.
func daemonSetChange(o *providers.Object) (*appsv1.DaemonSet, error) {
	if o.APIVersion != "apps/v1" {
		return nil, fmt.Errorf("DaemonSet %s has apiVersion %s; whatif reads apps/v1", o.Name, o.APIVersion)
	}
	var ds appsv1.DaemonSet
	if err := json.Unmarshal(o.Raw, &ds); err != nil {
		return nil, fmt.Errorf("invalid DaemonSet: %s", text.OneLine(err.Error()))
	}
	if ds.Name == "" {
		return nil, errors.New("DaemonSet has no metadata.name")
	}
	if err := capacity.CheckPodSpec(&ds.Spec.Template.Spec, "spec.template.spec"); err != nil {
		return nil, fmt.Errorf("DaemonSet %s: %w", ds.Name, err)
	}
	ds.Status = appsv1.DaemonSetStatus{}
	return &ds, nil
}
