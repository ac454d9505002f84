// Package ci prints reports for CI systems and monitoring, one file per
// format: JUnit XML, Markdown (pull-request comments, job summaries),
// GitHub Actions workflow commands and the Prometheus text exposition,
// each for whichever of the audit, several clusters, the capacity view and
// the what-if it supports. Each file's init adds its format's printers to
// render's registry; text from the cluster goes through the sanitiser of
// each format's context (internal/render/escape).
package ci
