// Package text holds the small string helpers several packages share.
package text

import "strings"

// OneLine folds a multi-line message (a server error, an event, a
// container's message) into one line, so that it fits a table cell or a
// one-line error.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
