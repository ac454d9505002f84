package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// serve's bad flags are usage errors with one line saying what to write,
// checked before anything listens or reads.
func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--interval", "10ms"}, "--interval must be at least 1s"},
		{[]string{"serve", "--listen-address", "8080"}, "--listen-address \"8080\""},
		{[]string{"serve", "--tls-cert-file", "tls.crt"}, "--tls-cert-file and --tls-private-key-file go together"},
		{[]string{"serve", "--max-node-series", "-1"}, "--max-node-series must be 0 or more"},
		{[]string{"serve", "--policy", "testdata/bad-policy.yaml"}, "bad-policy.yaml"},
		{[]string{"serve", "--fail-on", "sometimes"}, "--fail-on"},
		{[]string{"serve", "extra"}, "serve takes no arguments"},
	} {
		_, stderr, code := runCmd(t, "", tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "error:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one error line with %q", tc.args, code, stderr, tc.want)
		}
	}
}

// serve's page is the HTML report, reloading at the analysis interval,
// with what the cluster said escaped.
func TestServePageIsTheHTMLReportAndRefreshes(t *testing.T) {
	var b strings.Builder
	rep := reportWithSource("<script>x</script>")
	o := &ServeOptions{interval: 30 * time.Second}
	if err := o.page(&b, rep); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>x") {
		t.Errorf("unescaped source:\n%s", page)
	}
	if !strings.Contains(page, `http-equiv="refresh" content="30"`) {
		t.Errorf("the page does not reload at the interval:\n%.400s", page)
	}
}

func reportWithSource(src string) *report.Report {
	r := report.New()
	r.Source = src
	return r
}
