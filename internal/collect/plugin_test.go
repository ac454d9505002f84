package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
)

func execConfig(command string) *clientcmdapi.ExecConfig {
	return &clientcmdapi.ExecConfig{Command: command, APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
}

// liveWithin runs Live and fails the test if it does not return within
// limit (without the deadline on the plugin, it never would).
func liveWithin(t *testing.T, ctx context.Context, cs Client, host string, limit time.Duration) (time.Duration, error) {
	t.Helper()
	type result struct {
		took time.Duration
		err  error
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		_, err := Live(ctx, cs, host, Options{ChunkSize: 500})
		done <- result{time.Since(start), err}
	}()
	select {
	case r := <-done:
		return r.took, r.err
	case <-time.After(limit):
		t.Fatalf("the read hung past %s on a credential plugin that does not return", limit)
	}
	return 0, nil
}

// A credential plugin that never returns ends the read at the run's
// deadline, with an error that names it, and the server is never asked.
func TestCredentialPluginGivesUpAtRunDeadline(t *testing.T) {
	h := newHostile(t, nil)
	plugin := collecttest.HangingPlugin(t)
	cs, err := NewClient(&rest.Config{Host: h.srv.URL, ExecProvider: execConfig(plugin)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	took, err := liveWithin(t, ctx, cs, h.srv.URL, 20*time.Second)
	var pe *CredentialPluginError
	if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a CredentialPluginError at the deadline", err)
	}
	if msg := err.Error(); !strings.Contains(msg, plugin) || !strings.Contains(msg, "gave no credentials in time") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming the plugin", msg)
	}
	if took > 5*time.Second {
		t.Errorf("took %s with a 1s deadline", took)
	}
	if n := h.total.Load(); n != 0 {
		t.Errorf("the server got %d requests without credentials", n)
	}
}

// --request-timeout bounds the plugin too: it reaches the round trip as
// its context's deadline.
func TestCredentialPluginGivesUpAtRequestTimeout(t *testing.T) {
	h := newHostile(t, nil)
	cs, err := NewClient(&rest.Config{Host: h.srv.URL, ExecProvider: execConfig(collecttest.HangingPlugin(t)), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	took, err := liveWithin(t, context.Background(), cs, h.srv.URL, 20*time.Second)
	// net/http rewords errors at its Client.Timeout (the type is lost).
	if err == nil || !strings.Contains(err.Error(), "gave no credentials in time") || !errors.Is(err, context.DeadlineExceeded) || took > 5*time.Second {
		t.Fatalf("err %v after %s, want the plugin's error after about 1s", err, took)
	}
}

// A plugin that answers works as before: its token reaches the server.
func TestCredentialPluginTokenIsSent(t *testing.T) {
	h := newHostile(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "get-token")
	script := `#!/bin/sh
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"plugin-token"}}'
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cs, err := NewClient(&rest.Config{Host: h.srv.URL, ExecProvider: execConfig(path), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := liveWithin(t, ctx, cs, h.srv.URL, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.auths {
		if a != "Bearer plugin-token" {
			t.Fatalf("the server saw Authorization %q, want the plugin's token", a)
		}
	}
	if len(h.auths) == 0 {
		t.Fatal("no request reached the server")
	}
}
