// Command rusage runs a command and writes its wall time, peak RSS and exit
// code to a file: "maxrss_kib wall_ns exit_code".
//
// The benchmark harness cannot read a child's peak RSS itself: Go starts
// children with clone(CLONE_VM|CLONE_VFORK), so until exec the child shares
// the harness's address space, and Linux carries that address space's RSS
// high-water mark into the child's ru_maxrss at exec. The harness holds the
// whole fixture in memory, so every child would report at least the
// harness's size. This wrapper is small; the RSS it passes on is a few MB,
// well under anything measured.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 4 || os.Args[1] != "-o" {
		fmt.Fprintln(os.Stderr, "usage: rusage -o FILE COMMAND [ARG...]")
		os.Exit(2)
	}
	out := os.Args[2]
	cmd := exec.Command(os.Args[3], os.Args[4:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(127)
	}
	var maxrss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxrss = int64(ru.Maxrss)
	}
	if err := os.WriteFile(out, []byte(fmt.Sprintf("%d %d %d\n", maxrss, wall.Nanoseconds(), code)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(127)
	}
}
