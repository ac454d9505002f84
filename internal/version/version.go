// Package version holds the build identity of daemoncheck. The values are
// injected at link time (goreleaser and the Makefile pass -ldflags -X), so a
// plain `go build` reports "dev".
package version

var (
	// Version is the release tag, e.g. v0.1.0.
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
	// Date is the build date in RFC 3339.
	Date = "unknown"
)
