package cli

import (
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// addColorFlag adds --color, as ls, grep and git spell it.
func addColorFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "color", "auto", "Colour: auto (a terminal without NO_COLOR), always, never.")
}

// useColor resolves --color: auto colours a terminal unless the NO_COLOR
// environment variable is set to anything (https://no-color.org).
func useColor(flag string, terminal bool) (bool, error) {
	switch flag {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return terminal && os.Getenv("NO_COLOR") == "", nil
	}
	return false, usageErrorf("--color %q: must be auto, always or never", flag)
}

// terminalWidth is the width of the terminal w writes to (0 if unknown).
func terminalWidth(w any) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}
