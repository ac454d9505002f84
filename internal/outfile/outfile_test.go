package outfile

import "testing"

// FORMAT=PATH splits at the first "=", a template format's at the last:
// its template holds "=" of its own.
func TestSplit(t *testing.T) {
	tests := []struct{ spec, format, path, err string }{
		{"junit=report.xml", "junit", "report.xml", ""},
		{"json=dir/a=b.json", "json", "dir/a=b.json", ""},
		{"jsonpath={.kind}=kind.txt", "jsonpath={.kind}", "kind.txt", ""},
		{"go-template={{.kind}}=out.txt", "go-template={{.kind}}", "out.txt", ""},
		{"junit", "", "", "write FORMAT=PATH, e.g. junit=report.xml"},
		{"=report.xml", "", "", "write FORMAT=PATH, e.g. junit=report.xml"},
		{"jsonpath={.kind}", "", "", "a template format is written jsonpath=TEMPLATE=PATH"},
		{"jsonpath={.kind}=", "", "", "a template format is written jsonpath=TEMPLATE=PATH"},
	}
	for _, tt := range tests {
		format, path, err := Split(tt.spec)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || format != tt.format || path != tt.path {
			t.Errorf("%q: %q %q %v, want %q %q", tt.spec, format, path, err, tt.format, tt.path)
		}
	}
}
