// Command etcd is a minimal etcd server for the daemoncheck e2e rig. It only
// hands its arguments to etcd's own entry point, so the rig can build etcd
// from the Go module proxy instead of downloading a release binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
