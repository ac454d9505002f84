// Command kubectl-daemoncheck is the kubectl plugin `kubectl daemoncheck`.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/daemoncheck/daemoncheck/pkg/cmd"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cmd.Execute(cmd.NewCmdDaemonCheck(streams), os.Stderr))
}
