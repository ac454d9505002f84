package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/policy"
)

// configMapDir lays out a directory as the kubelet mounts a ConfigMap:
// policy.yaml -> ..data/policy.yaml, ..data -> ..v1 (a directory); an
// update writes a new directory and swaps the ..data link.
func configMapDir(t *testing.T, content string) (dir string, swap func(version, content string)) {
	t.Helper()
	dir = t.TempDir()
	swap = func(version, content string) {
		v := filepath.Join(dir, "..v"+version)
		if err := os.Mkdir(v, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(v, "policy.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink("..v"+version, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	swap("1", content)
	if err := os.Symlink(filepath.Join("..data", "policy.yaml"), filepath.Join(dir, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	return dir, swap
}

func TestFileWatchSeesConfigMapSwaps(t *testing.T) {
	dir, swap := configMapDir(t, "a")
	w := newFileWatch([]string{filepath.Join(dir, "policy.yaml")})
	if w.changed() {
		t.Error("changed before any change")
	}
	swap("2", "b")
	if !w.changed() {
		t.Error("a swap to new content is not a change")
	}
	if w.changed() {
		t.Error("changed twice for one swap")
	}
	swap("3", "b")
	if w.changed() {
		t.Error("a swap to the same content is a change")
	}
	if err := os.Remove(filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if !w.changed() {
		t.Error("a file that went away is not a change")
	}
}

// A policy that changes is loaded again; one that does not load keeps the
// rules in force and says so in daemoncheck_config_last_reload_successful.
func TestPolicyReload(t *testing.T) {
	dir, swap := configMapDir(t, "good")
	file := filepath.Join(dir, "policy.yaml")
	loads := 0
	load := func() (*policy.Policy, error) {
		loads++
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(data)) != "good" {
			return nil, os.ErrInvalid
		}
		return &policy.Policy{}, nil
	}
	c := &cluster{}
	c.set(agentCluster("n1", "n2", "n3"), nil)
	srv, err := New(Config{Source: Source{Read: c.read}, Interval: 20 * time.Millisecond, ReloadInterval: 10 * time.Millisecond, LoadPolicy: load, PolicyFiles: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	startFollow(t, srv)
	h := srv.Handler()
	eventually(t, "loaded", func() (bool, string) {
		body := get2(t, h)
		return strings.Contains(body, "daemoncheck_config_last_reload_successful 1") && strings.Contains(body, "daemoncheck_daemonsets 1"), grep(body, "reload")
	})
	swap("2", "bad")
	eventually(t, "a failed reload", func() (bool, string) {
		body := get2(t, h)
		return strings.Contains(body, "daemoncheck_config_last_reload_successful 0"), grep(body, "reload")
	})
	swap("3", "good")
	eventually(t, "reloaded", func() (bool, string) {
		body := get2(t, h)
		return strings.Contains(body, "daemoncheck_config_last_reload_successful 1"), grep(body, "reload")
	})
}
