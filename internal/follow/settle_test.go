package follow_test

import (
	"testing"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/daemoncheck/daemoncheck/internal/follow"
)

// recordingClock is a fake clock that says which timers the code under test
// made, so the test steps time only once the code waits.
type recordingClock struct {
	*testingclock.FakeClock
	made chan time.Duration
}

func (c *recordingClock) NewTimer(d time.Duration) clock.Timer {
	t := c.FakeClock.NewTimer(d)
	c.made <- d
	return t
}

func TestSettle(t *testing.T) {
	const quiet, max = 50 * time.Millisecond, 250 * time.Millisecond
	start := func(t *testing.T) (*recordingClock, chan struct{}, chan struct{}) {
		clk := &recordingClock{FakeClock: testingclock.NewFakeClock(time.Unix(0, 0)), made: make(chan time.Duration)}
		changed, done := make(chan struct{}), make(chan struct{})
		go func() {
			follow.Settle(t.Context(), clk, changed, quiet, max)
			close(done)
		}()
		expectTimer(t, clk, max)
		expectTimer(t, clk, quiet)
		return clk, changed, done
	}
	ended := func(t *testing.T, done chan struct{}, want bool) {
		t.Helper()
		if !want {
			select {
			case <-done:
				t.Fatal("settled too early")
			default:
			}
			return
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("did not settle")
		}
	}

	t.Run("a single change settles after the quiet period", func(t *testing.T) {
		clk, _, done := start(t)
		clk.Step(quiet - time.Millisecond)
		ended(t, done, false)
		clk.Step(time.Millisecond)
		ended(t, done, true)
	})
	t.Run("each change restarts the quiet period", func(t *testing.T) {
		clk, changed, done := start(t)
		clk.Step(30 * time.Millisecond)
		changed <- struct{}{}
		expectTimer(t, clk, quiet)
		clk.Step(quiet - time.Millisecond)
		ended(t, done, false)
		clk.Step(time.Millisecond)
		ended(t, done, true)
	})
	t.Run("a burst settles at the limit", func(t *testing.T) {
		clk, changed, done := start(t)
		for range 6 { // a change every 40 ms: never quiet for 50
			clk.Step(40 * time.Millisecond)
			changed <- struct{}{}
			expectTimer(t, clk, quiet)
		}
		clk.Step(9 * time.Millisecond) // 249 ms
		ended(t, done, false)
		clk.Step(time.Millisecond)
		ended(t, done, true)
	})
}

// A change after a quiet moment is analysed at once (no timer, no wait);
// one right after the last analysis settles first.
func TestCoalesce(t *testing.T) {
	const quiet, max = 50 * time.Millisecond, 250 * time.Millisecond
	clk := &recordingClock{FakeClock: testingclock.NewFakeClock(time.Unix(0, 0)), made: make(chan time.Duration, 2)}
	follow.Coalesce(t.Context(), clk, make(chan struct{}), quiet, quiet, max)
	if len(clk.made) != 0 {
		t.Fatal("a change after a quiet moment waited")
	}
	done := make(chan struct{})
	go func() {
		follow.Coalesce(t.Context(), clk, make(chan struct{}), quiet-time.Millisecond, quiet, max)
		close(done)
	}()
	expectTimer(t, clk, max)
	expectTimer(t, clk, quiet)
	clk.Step(quiet)
	<-done
}

func expectTimer(t *testing.T, clk *recordingClock, want time.Duration) {
	t.Helper()
	select {
	case d := <-clk.made:
		if d != want {
			t.Fatalf("timer of %s, want %s", d, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no timer of %s made", want)
	}
}
