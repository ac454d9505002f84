package cli

import (
	"flag"
	"io"
	"strconv"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// configureLogging routes client-go's logging (klog) as kubectl's -v does:
// nothing by default, so that stray "E1123 ..." lines never appear beside the
// one-line error; with -v N, klog's messages up to level N on stderr.
func configureLogging(v int, errOut io.Writer) {
	if v <= 0 {
		klog.SetLogger(logr.Discard())
		return
	}
	klog.ClearLogger()
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("v", strconv.Itoa(v))
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	klog.SetOutput(errOut)
}
