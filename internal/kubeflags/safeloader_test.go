package kubeflags

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

const fakeKey = "-----BEGIN EC PRIVATE KEY-----\nKEYMATERIAL-not-a-real-key\n-----END EC PRIVATE KEY-----\n"

// credentialForms are the credentials of duplicateUsers in every form
// client-go prints them.
var credentialForms = []string{
	"TOKEN-ONE-5f0c", "TOKEN-TWO-77aa", "PASSWORD-b0b",
	base64.StdEncoding.EncodeToString([]byte(fakeKey)), "KEYMATERIAL",
	strings.Trim(fmt.Sprintf("%d", []byte(fakeKey)[:12]), "[]"),
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func duplicateUsers(t *testing.T) string {
	return writeFile(t, fmt.Sprintf(`apiVersion: v1
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
  user:
    token: TOKEN-ONE-5f0c
    client-key-data: %s
- name: u
  user:
    token: TOKEN-TWO-77aa
    username: bob
    password: PASSWORD-b0b
`, base64.StdEncoding.EncodeToString([]byte(fakeKey))))
}

// Two users of the same name: client-go's error prints every user's token,
// key and password; ours names the file and the name, and nothing else.
func TestDuplicateNameErrorHoldsNoCredentials(t *testing.T) {
	path := duplicateUsers(t)
	// What client-go itself says (the test must see the leak to prove
	// anything).
	raw := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
	if _, err := raw.ClientConfig(); err == nil || !strings.Contains(err.Error(), "TOKEN-ONE-5f0c") {
		t.Fatalf("client-go's error no longer prints the tokens (%v): this test proves nothing", err)
	}

	f := New(false)
	f.KubeConfig = path
	l := f.ToRawKubeConfigLoader()
	_, errClient := l.ClientConfig()
	_, errRaw := l.RawConfig()
	_, _, errNS := l.Namespace()
	for name, err := range map[string]error{"ClientConfig": errClient, "RawConfig": errRaw, "Namespace": errNS} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		msg := err.Error()
		want := "kubeconfig " + path + `: users[0] and users[1] are both named "u"`
		if !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line starting %q", name, msg, want)
		}
		for _, c := range credentialForms {
			if strings.Contains(msg, c) {
				t.Errorf("%s: the error holds %q: %s", name, c, msg)
			}
		}
	}
}

// A proxy URL whose password does not parse: client-go's error repeats the
// URL; ours names the cluster with the URL redacted.
func TestUnparseableProxyURLErrorHoldsNoPassword(t *testing.T) {
	path := writeFile(t, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", proxy-url: "http://ci:p%ss@proxy:3128"}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user: {token: t}
`)
	f := New(false)
	f.KubeConfig = path
	_, err := f.ToRESTConfig()
	if err == nil || strings.Contains(err.Error(), "p%ss") || !strings.Contains(err.Error(), `cluster "c" (http://ci:xxxxx@proxy:3128)`) {
		t.Fatalf("err %v: want the cluster named and the proxy URL redacted", err)
	}
}

// Any other error is scrubbed of every credential the files hold.
func TestScrubRemovesEveryForm(t *testing.T) {
	kc, ok := readKubeconfig(duplicateUsers(t))
	if !ok {
		t.Fatal("the kubeconfig did not read")
	}
	// The key as bytes (%v of a struct), as text and as written; tokens
	// and password as written and quoted.
	text := fmt.Sprintf("error: %v %s %s TOKEN-ONE-5f0c %q PASSWORD-b0b", []byte(fakeKey), fakeKey, base64.StdEncoding.EncodeToString([]byte(fakeKey)), "TOKEN-TWO-77aa")
	got := scrub(text, kc.secrets())
	for _, c := range credentialForms {
		if strings.Contains(got, c) {
			t.Errorf("scrubbed text holds %q: %s", c, got)
		}
	}
	if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "<redacted>") {
		t.Errorf("scrubbed text %q", got)
	}
}
