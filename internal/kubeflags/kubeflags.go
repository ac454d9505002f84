// Package kubeflags binds kubectl's connection flags (--kubeconfig,
// --context, -n, --as, --request-timeout ...) with client-go's clientcmd and
// turns them into a kubeconfig loader and REST configuration.
//
// It replaces cli-runtime's genericclioptions.ConfigFlags, which offers the
// same flags but also a discovery cache and REST mapper that daemoncheck
// does not use, and which links kustomize through cli-runtime's resource
// builder: about half of the binary.
package kubeflags

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// ConfigFlags are kubectl's connection flags, as genericclioptions.ConfigFlags
// offers them: the same names, shorthands, defaults and meaning.
type ConfigFlags struct {
	// KubeConfig is --kubeconfig: the file to use instead of the loading
	// rules ($KUBECONFIG, then ~/.kube/config).
	KubeConfig string
	// Overrides hold every other flag; Overrides.Context.Namespace is -n and
	// Overrides.CurrentContext is --context.
	Overrides clientcmd.ConfigOverrides
	// UserExtra is --as-user-extra: KEY=VALUE, repeatable (clientcmd has no
	// flag for it).
	UserExtra []string
	// CacheDir is kubectl's --cache-dir: accepted so a kubectl habit parses,
	// unused (nothing here caches discovery).
	CacheDir string

	// persistent keeps one loader (the root command's flags); a copy for
	// one context (ForContext) loads afresh.
	persistent bool
	mu         sync.Mutex
	loader     clientcmd.ClientConfig
}

// New returns the flags with kubectl's defaults. A persistent ConfigFlags
// reads the kubeconfig once and answers every later call from that.
func New(persistent bool) *ConfigFlags {
	return &ConfigFlags{CacheDir: defaultCacheDir(), persistent: persistent}
}

// flagNames are clientcmd's recommended flags, changed where kubectl (and
// genericclioptions) differ: -s for --server, kubectl's help texts, no
// --username/--password (kubectl dropped them), and -n bound apart since
// clientcmd's -n strips a "ns/" prefix that kubectl keeps.
func flagNames() clientcmd.ConfigOverrideFlags {
	n := clientcmd.RecommendedConfigOverrideFlags("")
	n.AuthOverrideFlags.Username.LongName = ""
	n.AuthOverrideFlags.Password.LongName = ""
	n.AuthOverrideFlags.Impersonate.Description = "Username to impersonate for the operation. User could be a regular user or a service account in a namespace."
	n.AuthOverrideFlags.ImpersonateUID.Description = "UID to impersonate for the operation."
	n.ClusterOverrideFlags.APIServer.ShortName = "s"
	n.ClusterOverrideFlags.TLSServerName.Description = "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used"
	n.ClusterOverrideFlags.ProxyURL.Description = "Proxy URL to use for requests to the API server"
	n.ContextOverrideFlags.Namespace.LongName = ""
	return n
}

// AddFlags adds the connection flags to fs.
func (f *ConfigFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.KubeConfig, "kubeconfig", f.KubeConfig, "Path to the kubeconfig file to use for CLI requests.")
	fs.StringVar(&f.CacheDir, "cache-dir", f.CacheDir, "Default cache directory")
	clientcmd.BindOverrideFlags(&f.Overrides, fs, flagNames())
	fs.StringVarP(&f.Overrides.Context.Namespace, clientcmd.FlagNamespace, "n", f.Overrides.Context.Namespace, "If present, the namespace scope for this CLI request")
	fs.StringArrayVar(&f.UserExtra, "as-user-extra", f.UserExtra, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
}

// Namespace is the -n value ("" when not given).
func (f *ConfigFlags) Namespace() string { return f.Overrides.Context.Namespace }

// ForContext copies the flags for one kubeconfig context: every flag but
// --context, and no loaded configuration, so nothing read for one cluster
// serves another.
func (f *ConfigFlags) ForContext(name string) *ConfigFlags {
	c := &ConfigFlags{KubeConfig: f.KubeConfig, Overrides: f.Overrides, UserExtra: f.UserExtra, CacheDir: f.CacheDir}
	c.Overrides.CurrentContext = name
	return c
}

// ToRawKubeConfigLoader returns the deferred-loading kubeconfig with the
// flags applied: the raw config, the namespace, the REST configuration. Its
// errors hold no credentials (safeLoader).
func (f *ConfigFlags) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	if !f.persistent {
		return f.newLoader()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loader == nil {
		f.loader = f.newLoader()
	}
	return f.loader
}

// ToRESTConfig is the REST configuration the flags select.
func (f *ConfigFlags) ToRESTConfig() (*rest.Config, error) {
	return f.ToRawKubeConfigLoader().ClientConfig()
}

func (f *ConfigFlags) newLoader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	// As kubectl: without any kubeconfig, the in-cluster or localhost:8080
	// default rather than an error.
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	rules.ExplicitPath = f.KubeConfig
	o := f.Overrides
	o.ClusterDefaults = clientcmd.ClusterDefaults
	o.AuthInfo.ImpersonateUserExtra = userExtra(f.UserExtra)
	return &safeLoader{inner: clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &o)}
}

// userExtra parses --as-user-extra KEY=VALUE values; one without "=" is
// ignored, as kubectl does.
func userExtra(values []string) map[string][]string {
	if len(values) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, v := range values {
		if k, val, ok := strings.Cut(v, "="); ok {
			out[k] = append(out[k], val)
		}
	}
	return out
}

// defaultCacheDir is kubectl's: $KUBECACHEDIR, else ~/.kube/cache.
func defaultCacheDir() string {
	if d := os.Getenv("KUBECACHEDIR"); d != "" {
		return d
	}
	return filepath.Join(homedir.HomeDir(), ".kube", "cache")
}
