package render

import (
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// SGR sequences for the few things the human views colour: severity and
// the verdict. Colour only adds to what the words already say (a person
// without colour, or a pipe, reads "error" and "FAIL" the same).
const (
	sgrReset  = "\x1b[0m"
	sgrRed    = "\x1b[1;31m"
	sgrYellow = "\x1b[33m"
	sgrCyan   = "\x1b[36m"
	sgrGreen  = "\x1b[32m"
)

// Paint wraps s in colour when on.
func Paint(on bool, sgr, s string) string {
	if !on || s == "" {
		return s
	}
	return sgr + s + sgrReset
}

// severityColour is the colour of a severity word.
func severityColour(s report.Severity) string {
	switch s {
	case report.SeverityError:
		return sgrRed
	case report.SeverityWarning:
		return sgrYellow
	}
	return sgrCyan
}

// paintVerdict colours the verdict's first word: FAIL red, INCOMPLETE
// yellow, PASS green.
func paintVerdict(on bool, line string) string {
	word, rest, _ := strings.Cut(line, ":")
	switch word {
	case "FAIL":
		return Paint(on, sgrRed, word) + ":" + rest
	case "INCOMPLETE":
		return Paint(on, sgrYellow, word) + ":" + rest
	case "PASS":
		return Paint(on, sgrGreen, word) + ":" + rest
	}
	return line
}

// FitColour colours a verdict of whether the daemons fit (the capacity
// view): red when they do not.
func FitColour(bad bool) string {
	if bad {
		return sgrRed
	}
	return sgrGreen
}
