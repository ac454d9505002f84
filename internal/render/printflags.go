package render

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
)

// PrintFlags are kubectl's flags for machine output (-o json|yaml|jsonpath
// ...|go-template ..., --template, --allow-missing-template-keys,
// --show-managed-fields), built on cli-runtime's printers package alone:
// genericclioptions.PrintFlags gives the same but links kustomize.
// ToPrinter accepts what genericclioptions.PrintFlags (without the name
// printer) accepts and fails with the same errors.
type PrintFlags struct {
	// OutputFormat is the -o value.
	OutputFormat *string
	// TemplateArgument is --template.
	TemplateArgument *string
	// AllowMissingKeys is --allow-missing-template-keys.
	AllowMissingKeys *bool
	// ShowManagedFields is --show-managed-fields.
	ShowManagedFields *bool
	// outputSpecified says whether -o was given: --template alone means
	// -o go-template, as in kubectl.
	outputSpecified func() bool
}

// NewPrintFlags returns the flags with kubectl's defaults.
func NewPrintFlags() *PrintFlags {
	output, template, allowMissing, showManaged := "", "", true, false
	return &PrintFlags{OutputFormat: &output, TemplateArgument: &template, AllowMissingKeys: &allowMissing, ShowManagedFields: &showManaged}
}

// AddFlags adds the flags to cmd, with kubectl's names and help.
func (f *PrintFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(f.ShowManagedFields, "show-managed-fields", *f.ShowManagedFields, "If true, keep the managedFields when printing objects in JSON or YAML format.")
	fs.StringVar(f.TemplateArgument, "template", *f.TemplateArgument, "Template string or path to template file to use when -o=go-template, -o=go-template-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview].")
	_ = cmd.MarkFlagFilename("template")
	fs.BoolVar(f.AllowMissingKeys, "allow-missing-template-keys", *f.AllowMissingKeys, "If true, ignore any errors in templates when a field or map key is missing in the template. Only applies to golang and jsonpath output formats.")
	fs.StringVarP(f.OutputFormat, "output", "o", *f.OutputFormat, "Output format. One of: ("+strings.Join(printFlagsFormats, ", ")+").")
	f.outputSpecified = func() bool { return cmd.Flag("output").Changed }
}

// printFlagsFormats are the formats PrintFlags prints, in the order
// genericclioptions lists them.
var printFlagsFormats = []string{"json", "yaml", "kyaml", "go-template", "go-template-file", "template", "templatefile", "jsonpath", "jsonpath-as-json", "jsonpath-file"}

// Template formats: the ones that read the template from a file.
var (
	jsonPathFormats = map[string]bool{"jsonpath": true, "jsonpath-file": true, "jsonpath-as-json": true}
	goTemplateFiles = map[string]bool{"template": true, "go-template": true, "go-template-file": true, "templatefile": true}
)

// errNoCompatiblePrinter is a format no printer here takes.
var errNoCompatiblePrinter = errors.New("no compatible printer")

// ToPrinter returns the printer of the -o value.
func (f *PrintFlags) ToPrinter() (printers.ResourcePrinter, error) {
	output := deref(f.OutputFormat)
	if deref(f.TemplateArgument) != "" && (f.outputSpecified == nil || !f.outputSpecified()) {
		output = "go-template"
	}
	var p printers.ResourcePrinter
	switch strings.ToLower(output) {
	case "json":
		p = escape.JSONPrinter{Delegate: &printers.JSONPrinter{}}
	case "yaml":
		p = escape.YAMLPrinter{Delegate: &printers.YAMLPrinter{}}
	case "kyaml":
		p = escape.YAMLPrinter{Delegate: &printers.KYAMLPrinter{}}
	}
	if p != nil {
		if f.ShowManagedFields == nil || !*f.ShowManagedFields {
			p = &printers.OmitManagedFieldsPrinter{Delegate: p}
		}
		return p, nil
	}
	if p, err := f.templatePrinter(output, jsonPathFormats); !errors.Is(err, errNoCompatiblePrinter) {
		return p, err
	}
	if p, err := f.templatePrinter(output, goTemplateFiles); !errors.Is(err, errNoCompatiblePrinter) {
		return p, err
	}
	allowed := append([]string(nil), printFlagsFormats...)
	sort.Strings(allowed)
	return nil, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: %s", deref(f.OutputFormat), strings.Join(allowed, ","))
}

// templatePrinter is a jsonpath or go-template printer (formats says
// which), its template from --template or after "=" in the -o value.
func (f *PrintFlags) templatePrinter(output string, formats map[string]bool) (printers.ResourcePrinter, error) {
	value := deref(f.TemplateArgument)
	if value == "" && output == "" {
		return nil, errNoCompatiblePrinter
	}
	if value == "" {
		if name, arg, ok := strings.Cut(output, "="); ok && formats[name] {
			output, value = name, arg
		}
	}
	if !formats[output] {
		return nil, errNoCompatiblePrinter
	}
	if value == "" {
		return nil, errors.New("template format specified but no template given")
	}
	if output == "jsonpath-file" || output == "templatefile" || output == "go-template-file" {
		data, err := os.ReadFile(value)
		if err != nil {
			return nil, fmt.Errorf("error reading --template %s, %v", value, err)
		}
		value = string(data)
	}
	allowMissing := f.AllowMissingKeys == nil || *f.AllowMissingKeys
	if formats["jsonpath"] {
		p, err := printers.NewJSONPathPrinter(value)
		if err != nil {
			return nil, fmt.Errorf("error parsing jsonpath %s, %v", value, err)
		}
		p.AllowMissingKeys(allowMissing)
		p.EnableJSONOutput(output == "jsonpath-as-json")
		return p, nil
	}
	p, err := printers.NewGoTemplatePrinter([]byte(value))
	if err != nil {
		return nil, fmt.Errorf("error parsing template %s, %v", value, err)
	}
	p.AllowMissingKeys(allowMissing)
	return p, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
