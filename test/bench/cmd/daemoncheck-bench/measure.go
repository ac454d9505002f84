package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// step is one process of a measured command.
type step struct {
	argv    []string
	okCodes []int // accepted exit codes (default 0)
}

// command is one measured operation: one or more processes run one after
// another; wall time adds up, peak RSS is the largest of them.
type command struct {
	key, label string
	steps      func(kubeconfig string) []step
}

// sample is one timed run.
type sample struct {
	wall     time.Duration
	maxRSS   int64 // bytes
	received int64 // bytes from the API server (proxy runs only)
	stdout   int64 // bytes written to stdout (proxy runs only)
}

// rusageBin is the wrapper that measures each child (see cmd/rusage).
var rusageBin string

// run executes the command's processes with stdout discarded (or counted),
// and measures wall time and each child's peak RSS (wait4's rusage, taken by
// the rusage wrapper).
func run(c command, kubeconfig string, count bool) (sample, error) {
	var s sample
	for _, st := range c.steps(kubeconfig) {
		res, err := os.CreateTemp("", "daemoncheck-bench-rusage-")
		if err != nil {
			return s, err
		}
		res.Close()
		defer os.Remove(res.Name())
		cmd := exec.Command(rusageBin, append([]string{"-o", res.Name()}, st.argv...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var cw *countWriter
		if count {
			cw = &countWriter{}
			cmd.Stdout = cw
		} else {
			devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				return s, err
			}
			cmd.Stdout = devnull
			defer devnull.Close()
		}
		if err := cmd.Run(); err != nil {
			return s, fmt.Errorf("%s: %w: %s", strings.Join(st.argv, " "), err, lastLines(stderr.String(), 5))
		}
		data, err := os.ReadFile(res.Name())
		if err != nil {
			return s, err
		}
		var rssKiB, wallNS int64
		var code int
		if _, err := fmt.Sscan(string(data), &rssKiB, &wallNS, &code); err != nil {
			return s, fmt.Errorf("rusage output %q: %w", data, err)
		}
		s.wall += time.Duration(wallNS)
		ok := len(st.okCodes) == 0 && code == 0
		for _, c := range st.okCodes {
			ok = ok || c == code
		}
		if !ok {
			return s, fmt.Errorf("%s: exit %d: %s", strings.Join(st.argv, " "), code, lastLines(stderr.String(), 5))
		}
		if rssKiB*1024 > s.maxRSS {
			s.maxRSS = rssKiB * 1024
		}
		if cw != nil {
			s.stdout += cw.n
		}
	}
	return s, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// proxy is a loopback TCP proxy in front of the API server that counts the
// bytes the client receives (TLS records included: what crosses the wire).
type proxy struct {
	ln       net.Listener
	target   string
	received atomic.Int64
	sent     atomic.Int64
	wg       sync.WaitGroup
}

func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	return p, nil
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer s.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(&atomicCounter{w: s, n: &p.sent}, c)
				_ = s.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(&atomicCounter{w: c, n: &p.received}, s)
			_ = c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

// atomicCounter counts as it writes, so the count is current as soon as the
// client process has exited.
type atomicCounter struct {
	w io.Writer
	n *atomic.Int64
}

func (a *atomicCounter) Write(p []byte) (int, error) {
	n, err := a.w.Write(p)
	a.n.Add(int64(n))
	return n, err
}

func (p *proxy) Close() { p.ln.Close() }

// stats summarises the samples of one command.
type stats struct {
	n                 int
	median, min, max  time.Duration
	rssMedian, rssMax int64
	received, stdout  int64
}

func summarize(ss []sample, bytesRun sample) stats {
	st := stats{n: len(ss), received: bytesRun.received, stdout: bytesRun.stdout}
	if len(ss) == 0 {
		return st
	}
	walls := make([]time.Duration, len(ss))
	rss := make([]int64, len(ss))
	for i, s := range ss {
		walls[i], rss[i] = s.wall, s.maxRSS
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	st.median, st.min, st.max = medianDur(walls), walls[0], walls[len(walls)-1]
	st.rssMedian, st.rssMax = medianInt(rss), rss[len(rss)-1]
	return st
}

func medianDur(v []time.Duration) time.Duration {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func medianInt(v []int64) int64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func mb(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) }
func secs(d time.Duration) string {
	return fmt.Sprintf("%.2f", d.Seconds())
}
