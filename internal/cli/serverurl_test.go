package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Passwords url.Parse rejects (a raw "%", a space): every line printed,
// including client-go's request log at -v 6 and above, shows the server
// without them.
func TestServerPasswordNeverPrinted(t *testing.T) {
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, password := range []string{"p%ss", "p ss", "s3cret"} {
		t.Run(password, func(t *testing.T) {
			_, errOut, code := runCmd(t, "", "--server", "http://ci:"+password+"@"+host, "-v", "9")
			if code != ExitInput {
				t.Errorf("exit %d, want 3; stderr:\n%s", code, errOut)
			}
			if strings.Contains(errOut, password) {
				t.Errorf("stderr holds the password %q:\n%s", password, errOut)
			}
			if !strings.Contains(errOut, "error: ") || !strings.Contains(errOut, "http://ci:xxxxx@"+host) {
				t.Errorf("the error does not name the server as http://ci:xxxxx@%s:\n%s", host, errOut)
			}
			if !strings.Contains(errOut, `url="http://`+host+"/apis/apps/v1/daemonsets") {
				t.Errorf("no request logged at -v 9 (the test would prove nothing):\n%s", errOut)
			}
		})
	}
	if len(auths) == 0 || !strings.HasPrefix(auths[0], "Basic ") {
		t.Errorf("the server saw Authorization %q, want basic auth from the URL", auths)
	}
}

// A fleet stores each server in its JSON and JUnit reports: redacted, with
// passwords url.Parse rejects too.
func TestFleetStoresServersRedacted(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://ci:p%ss@127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {}
contexts:
- name: one
  context: {cluster: c, user: u}
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "junit"} {
		out, errOut, _ := runFleetCmd(t, nil, "--kubeconfig", kc, "--contexts", "one", "--timeout", "5s", "-o", format)
		if strings.Contains(out+errOut, "p%ss") {
			t.Errorf("-o %s holds the password:\n%s\n%s", format, out, errOut)
		}
		if !strings.Contains(out, "https://ci:xxxxx@127.0.0.1:1") {
			t.Errorf("-o %s does not name the server redacted:\n%s", format, out)
		}
		if format == "json" {
			var fr report.FleetReport
			if err := json.Unmarshal([]byte(out), &fr); err != nil || len(fr.Clusters) != 1 || fr.Clusters[0].Server != "https://ci:xxxxx@127.0.0.1:1" {
				t.Errorf("fleet JSON %v: %s", err, out)
			}
		}
	}
}
