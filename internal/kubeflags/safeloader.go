package kubeflags

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/serverurl"
)

// safeLoader is clientcmd's kubeconfig loader whose errors hold no
// credentials. Some of client-go's errors print whole kubeconfig entries:
// two users of the same name make it print every user's token, client key
// and password (kubectl prints them too). A kubeconfig with a repeated
// name gets a one-line message of our own naming the file and the name;
// any other error is scrubbed of the credentials the kubeconfig files
// hold.
type safeLoader struct {
	inner clientcmd.ClientConfig
}

func (l *safeLoader) RawConfig() (clientcmdapi.Config, error) {
	c, err := l.inner.RawConfig()
	return c, l.clean(err)
}

func (l *safeLoader) ClientConfig() (*rest.Config, error) {
	c, err := l.inner.ClientConfig()
	return c, l.clean(err)
}

func (l *safeLoader) Namespace() (string, bool, error) {
	ns, overridden, err := l.inner.Namespace()
	return ns, overridden, l.clean(err)
}

func (l *safeLoader) ConfigAccess() clientcmd.ConfigAccess { return l.inner.ConfigAccess() }

// clean returns err without credentials. The original error is not kept
// (not even for errors.Unwrap): its text is what must not be printed.
func (l *safeLoader) clean(err error) error {
	if err == nil {
		return nil
	}
	var secrets []string
	for _, file := range l.inner.ConfigAccess().GetLoadingPrecedence() {
		kc, ok := readKubeconfig(file)
		if !ok {
			continue
		}
		if problem := kc.problem(err.Error()); problem != "" {
			return fmt.Errorf("kubeconfig %s: %s", file, problem)
		}
		secrets = append(secrets, kc.secrets()...)
	}
	return errors.New(scrub(err.Error(), secrets))
}

// maxKubeconfigBytes bounds what clean reads of a kubeconfig file (the
// command refuses larger ones before loading them).
const maxKubeconfigBytes = 16 << 20

// kubeconfigFile is the parts of a kubeconfig that name entries or hold
// credentials, read loosely (any shape) so that it reads whatever clientcmd
// could not.
type kubeconfigFile struct {
	Clusters []struct {
		Name    string         `json:"name"`
		Cluster map[string]any `json:"cluster"`
	} `json:"clusters"`
	Contexts []struct {
		Name string `json:"name"`
	} `json:"contexts"`
	Users []struct {
		Name string         `json:"name"`
		User map[string]any `json:"user"`
	} `json:"users"`
}

func readKubeconfig(file string) (*kubeconfigFile, bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKubeconfigBytes+1))
	if err != nil || len(data) > maxKubeconfigBytes {
		return nil, false
	}
	var kc kubeconfigFile
	if yaml.Unmarshal(data, &kc) != nil {
		return nil, false
	}
	return &kc, true
}

// problem names what client-go would have printed credentials for: a name
// used twice in a list (its error prints the whole list), or a proxy URL
// that does not parse (its error repeats it, password and all). "" if
// none applies.
func (kc *kubeconfigFile) problem(errText string) string {
	lists := []struct {
		what  string
		names []string
	}{{"clusters", nil}, {"contexts", nil}, {"users", nil}}
	for _, c := range kc.Clusters {
		lists[0].names = append(lists[0].names, c.Name)
	}
	for _, c := range kc.Contexts {
		lists[1].names = append(lists[1].names, c.Name)
	}
	for _, u := range kc.Users {
		lists[2].names = append(lists[2].names, u.Name)
	}
	for _, l := range lists {
		seen := map[string]int{}
		for i, n := range l.names {
			if first, dup := seen[n]; dup {
				return fmt.Sprintf("%s[%d] and %s[%d] are both named %q; names must be unique in a file", l.what, first, l.what, i, n)
			}
			seen[n] = i
		}
	}
	for _, c := range kc.Clusters {
		proxy, _ := c.Cluster["proxy-url"].(string)
		if p, ok := serverurl.Split(proxy); ok && p.HasPassword && strings.Contains(errText, proxy) {
			return fmt.Sprintf("the proxy-url of cluster %q (%s) is not a valid URL; percent-encode its password", c.Name, serverurl.Redact(proxy))
		}
	}
	return ""
}

// secrets lists the credentials of the file, each in the forms client-go
// prints it: as written, and the decoded bytes of *-data fields as text and
// as a Go byte list ([83 69 ...]).
func (kc *kubeconfigFile) secrets() []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	for _, c := range kc.Clusters {
		for _, key := range []string{"server", "proxy-url"} {
			s, _ := c.Cluster[key].(string)
			if p, ok := serverurl.Split(s); ok && p.HasPassword {
				add(p.Password)
				add(serverurl.Unescape(p.Password))
			}
		}
	}
	for _, u := range kc.Users {
		add(u.User["token"])
		add(u.User["password"])
		for _, key := range []string{"client-key-data", "client-certificate-data"} {
			s, _ := u.User[key].(string)
			add(s)
			if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
				add(string(b))
				add(strings.Trim(fmt.Sprintf("%d", b), "[]")) // a []byte field printed with %v
			}
		}
		if ap, ok := u.User["auth-provider"].(map[string]any); ok {
			if cfg, ok := ap["config"].(map[string]any); ok {
				for _, v := range cfg {
					add(v)
				}
			}
		}
		if ex, ok := u.User["exec"].(map[string]any); ok {
			if env, ok := ex["env"].([]any); ok {
				for _, e := range env {
					if m, ok := e.(map[string]any); ok {
						add(m["value"])
					}
				}
			}
		}
	}
	return out
}

// scrub replaces every secret in text, longest first (a secret may hold
// another).
func scrub(text string, secrets []string) string {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, s := range secrets {
		text = strings.ReplaceAll(text, s, "<redacted>")
	}
	return text
}
