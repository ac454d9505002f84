package cli

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestServeLowersTheGCTargetUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "") // restored after the test
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	serveGC()
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("without GOGC serve's GC target is %d, want %d", got, serveGCPercent)
	}
	t.Setenv("GOGC", "100")
	serveGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100 serve changed the GC target to %d", got)
	}
}
