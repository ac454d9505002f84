package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two users of the same name: client-go's error (and kubectl's) prints
// every user's token, key and password at -v 0. Ours is one line naming
// the file and the name, whatever reads the kubeconfig.
func TestDuplicateKubeconfigUserPrintsNoCredentials(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("-----BEGIN EC PRIVATE KEY-----\nKEYMATERIAL\n-----END EC PRIVATE KEY-----\n"))
	kc := filepath.Join(t.TempDir(), "config")
	content := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user: {token: TOKEN-ONE-5f0c, client-key-data: ` + key + `}
- name: u
  user: {token: TOKEN-TWO-77aa, username: bob, password: PASSWORD-b0b}
`
	if err := os.WriteFile(kc, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--kubeconfig", kc},
		{"--kubeconfig", kc, "--all-contexts"},
		{"nodes", "--kubeconfig", kc},
		{"--kubeconfig", kc, "version"},
	} {
		out, errOut, code := runCmd(t, "", args...)
		all := out + errOut
		for _, secret := range []string{"TOKEN-ONE-5f0c", "TOKEN-TWO-77aa", "PASSWORD-b0b", key, "KEYMATERIAL", "45 45 45 45 45"} {
			if strings.Contains(all, secret) {
				t.Errorf("%v prints %q:\n%s", args, secret, all)
			}
		}
		if !strings.Contains(all, "kubeconfig "+kc+`: users[0] and users[1] are both named "u"`) {
			t.Errorf("%v does not name the file and the duplicate:\n%s", args, all)
		}
		if args[len(args)-1] != "version" && (code != ExitInput || strings.Count(errOut, "\n") != 1) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and one line", args, code, errOut)
		}
	}
}
