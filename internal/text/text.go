// Package text holds the small string helpers several packages share.
package text

import (
	"sort"
	"strings"
)

// OneLine folds a multi-line message (a server error, an event, a
// container's message) into one line, so that it fits a table cell or a
// one-line error.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Shorten keeps an error text to one readable line of at most n bytes
// (and "..." when cut): server messages may carry a whole HTML page.
func Shorten(s string, n int) string {
	s = OneLine(s)
	if len(s) <= n {
		return s
	}
	return Truncate(s, n) + "..."
}

// KeyValues writes a label map as a selector does: k=v pairs sorted by key,
// comma-separated.
func KeyValues(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// ShellQuote writes s as one shell word: as is when it has only characters
// no shell treats specially, else in single quotes. Suggested commands name
// kubeconfig contexts this way (EKS names them arn:aws:eks:...:cluster/x),
// so that they run as written.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
