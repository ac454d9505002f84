package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Exit codes, documented in the README and in --help.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitUsage    = 2
	ExitInput    = 3
)

// ExitError carries the exit code an error maps to.
type ExitError struct {
	Code int
	Err  error
	// Silent errors set the exit code without printing (findings are in
	// the report already).
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

var (
	// ErrFindings means the report has findings: exit 1, nothing more to say.
	ErrFindings = &ExitError{Code: ExitFindings, Silent: true, Err: errors.New("findings reported")}
	// ErrPartial means some objects could not be read and nothing was found
	// in the rest: the warnings on stderr said what; exit 3 so a gate does
	// not pass on a report that could not see everything.
	ErrPartial = &ExitError{Code: ExitInput, Silent: true, Err: errors.New("partial report")}
)

func usageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func inputErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitInput, Err: fmt.Errorf(format, args...)}
}

// Execute runs the command and returns the process exit code, printing a
// one-line error to stderr when there is one. main is the only caller of
// os.Exit.
func Execute(cmd *cobra.Command, stderr io.Writer) int {
	err := cmd.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		// Errors cobra raises itself (unknown command, bad args) are usage.
		ee = &ExitError{Code: ExitUsage, Err: err}
	}
	if !ee.Silent {
		// An error may quote the server (a 404 page, a webhook's
		// message): escaped as every terminal write of cluster text is.
		fmt.Fprintf(stderr, "error: %s\n", text.Terminal(ee.Error()))
		if ee.Code == ExitUsage {
			fmt.Fprintf(stderr, "See '%s --help' for usage.\n", "kubectl daemoncheck")
		}
	}
	return ee.Code
}
