package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
)

// The connection flags kubectl users type, as genericclioptions.ConfigFlags
// offered them: name, shorthand, default, whether help lists it. A flag
// dropped or renamed here breaks someone's script, so the set is spelled out.
func TestConnectionFlagSet(t *testing.T) {
	want := []string{
		"as=", "as-group=[]", "as-uid=", "as-user-extra=[]",
		"cache-dir=(hidden)",
		"certificate-authority=", "client-certificate=", "client-key=",
		"cluster=", "context=", "disable-compression=false", "insecure-skip-tls-verify=false",
		"kubeconfig=", "namespace/n=", "proxy-url=", "request-timeout=30s",
		"server/s=", "tls-server-name=", "token=", "user=",
	}
	cmd := NewCmdDaemonCheck(genericiooptions.NewTestIOStreamsDiscard())
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	addConnectionFlags(fs, kubeflags.New(false))
	var got []string
	fs.VisitAll(func(f *pflag.Flag) {
		s := f.Name
		if f.Shorthand != "" {
			s += "/" + f.Shorthand
		}
		s += "=" + f.DefValue
		if f.Hidden {
			s = f.Name + "=(hidden)"
		}
		got = append(got, s)
	})
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("connection flags:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	for _, name := range []string{"username", "password"} {
		if fs.Lookup(name) != nil {
			t.Errorf("--%s: kubectl no longer offers basic auth flags", name)
		}
	}
	// Every command that reads a cluster takes them all.
	for _, path := range [][]string{nil, {"nodes"}, {"capacity"}, {"whatif"}, {"serve"}, {"version"}} {
		c, _, err := cmd.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		fs.VisitAll(func(f *pflag.Flag) {
			if g := c.Flags().Lookup(f.Name); g == nil || g.Shorthand != f.Shorthand || g.DefValue != f.DefValue {
				t.Errorf("%s: --%s missing or not as kubectl has it", c.CommandPath(), f.Name)
			}
		})
	}
	// The usage groups know them all as connection flags.
	for _, w := range want {
		name, _, _ := strings.Cut(strings.Split(w, "=")[0], "/")
		if !connectionFlags[name] {
			t.Errorf("--%s is not listed under the connection flags", name)
		}
	}
}

// The flags reach the kubeconfig loader with kubectl's meaning.
func TestConnectionFlagsApply(t *testing.T) {
	o := NewCheckOptions(genericiooptions.NewTestIOStreamsDiscard())
	cmd := newRootCommand(o)
	args := []string{"--kubeconfig", "/dev/null", "-s", "https://h:6443", "-n", "ns/x", "--as", "u", "--as-group", "g1", "--as-group", "g2",
		"--as-uid", "1", "--as-user-extra", "k=v1", "--as-user-extra", "k=v2", "--as-user-extra", "bad",
		"--token", "t", "--tls-server-name", "tls", "--proxy-url", "http://p:3128", "--disable-compression", "--insecure-skip-tls-verify", "--request-timeout", "7s"}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://h:6443" || cfg.Impersonate.UserName != "u" || strings.Join(cfg.Impersonate.Groups, ",") != "g1,g2" ||
		cfg.Impersonate.UID != "1" || strings.Join(cfg.Impersonate.Extra["k"], ",") != "v1,v2" || len(cfg.Impersonate.Extra) != 1 ||
		cfg.BearerToken != "t" || cfg.ServerName != "tls" || cfg.Proxy == nil || !cfg.DisableCompression ||
		!cfg.Insecure || cfg.Timeout.String() != "7s" {
		t.Errorf("rest.Config does not follow the flags: %+v", cfg)
	}
	// kubectl takes -n literally (clientcmd's own -n would strip "ns/").
	if ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err != nil || ns != "ns/x" {
		t.Errorf("namespace %q, %v", ns, err)
	}
}
