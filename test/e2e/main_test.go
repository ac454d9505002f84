//go:build e2e

// Package e2e is the differential suite: scenarios are created on a real
// control plane (test/rig), the DaemonSet controller is left to settle, and
// daemoncheck's recomputation must agree with what the controller did.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// cluster is the rig shared by every test in the package. The pod garbage
// collector is left out so that Pods of deleted nodes stay (OrphanedPod);
// nothing else in the suite needs it.
var cluster *rig.Rig

// controllers are the rig's defaults without the pod garbage collector, so
// that Pods of deleted nodes stay (OrphanedPod).
var controllers = func() []string {
	var out []string
	for _, c := range rig.DefaultControllers {
		if c != "pod-garbage-collector-controller" {
			out = append(out, c)
		}
	}
	return out
}()

func TestMain(m *testing.M) {
	flag.Parse()
	// Scenarios mostly wait for controllers: run many at once unless the
	// caller chose -parallel.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "16")
	}
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	r, err := rig.Start(nil, rig.Options{
		Controllers: controllers,
		// NotReady nodes get their not-ready:NoExecute taint at once instead
		// of one node per 10 s (the default eviction rate).
		ExtraControllerManagerArgs: []string{"--node-eviction-rate=1000", "--secondary-node-eviction-rate=1000"},
		Logf:                       func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = r
	code := m.Run()
	if code != 0 {
		r.DumpLogs(func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }, 25)
	}
	r.Stop()
	cleanupPlugin()
	os.Exit(code)
}
