package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
	"github.com/daemoncheck/daemoncheck/internal/serverurl"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/version"
)

// VersionInfo is what `kubectl daemoncheck version -o json|yaml` prints.
type VersionInfo struct {
	Version       string `json:"version"`
	Commit        string `json:"commit"`
	Date          string `json:"date"`
	GoVersion     string `json:"goVersion"`
	Platform      string `json:"platform"`
	ClientGo      string `json:"clientGoVersion"`
	ServerVersion string `json:"serverVersion,omitempty"`
	// ServerError says why the server version is unknown.
	ServerError string `json:"serverError,omitempty"`
}

// NewCmdVersion builds `kubectl daemoncheck version`.
func NewCmdVersion(d *deps) *cobra.Command {
	streams, flags := d.IOStreams, d.ConfigFlags
	var output string
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin, client-go and server versions",
		Example: `  # Plugin, client-go and the cluster's versions
  kubectl daemoncheck version

  # Without contacting the server, as JSON
  kubectl daemoncheck version --client -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return usageErrorf("--output %q is not supported by version; use json or yaml", output)
			}
			v := version.Version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				// go install ...@vX.Y.Z records the module version.
				v = bi.Main.Version
			}
			info := VersionInfo{
				Version:   v,
				Commit:    version.Commit,
				Date:      version.Date,
				GoVersion: runtime.Version(),
				Platform:  runtime.GOOS + "/" + runtime.GOARCH,
				ClientGo:  moduleVersion("k8s.io/client-go"),
			}
			if !clientOnly {
				info.ServerVersion, info.ServerError = serverVersion(flags)
			}
			switch output {
			case "json":
				b, _ := json.MarshalIndent(info, "", "    ")
				fmt.Fprintln(streams.Out, string(b))
			case "yaml":
				b, _ := yaml.Marshal(info)
				fmt.Fprint(streams.Out, string(b))
			default:
				fmt.Fprintf(streams.Out, "daemoncheck %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
				fmt.Fprintf(streams.Out, "Client Version: %s (client-go)\n", info.ClientGo)
				if !clientOnly {
					if info.ServerVersion != "" {
						fmt.Fprintf(streams.Out, "Server Version: %s\n", info.ServerVersion)
					} else {
						fmt.Fprintf(streams.Out, "Server Version: unknown (%s)\n", info.ServerError)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "One of: json, yaml.")
	cmd.Flags().BoolVar(&clientOnly, "client", false, "Do not contact the server.")
	d.addConnectionFlags(cmd)
	return cmd
}

// serverVersion asks the server briefly: version must answer fast even when
// no cluster is reachable.
func serverVersion(flags *kubeflags.ConfigFlags) (string, string) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return "", "no kubeconfig: " + text.OneLine(err.Error())
	}
	cfg.Timeout = 5 * time.Second
	cs, err := collect.NewClient(cfg)
	if err != nil {
		return "", text.OneLine(err.Error())
	}
	// The context bounds a credential plugin too (it has no timeout of its own).
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	v, err := cs.ServerVersion(ctx)
	if err != nil {
		return "", "cannot reach " + serverurl.Redact(cfg.Host) + ": " + text.OneLine(err.Error())
	}
	return v.GitVersion, ""
}

func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}
