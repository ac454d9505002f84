// Command kubectl-daemoncheck is the kubectl plugin `kubectl daemoncheck`.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/daemoncheck/daemoncheck/internal/cli"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cli.Execute(cli.NewCmdDaemonCheck(streams), os.Stderr))
}
