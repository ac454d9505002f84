package serverurl

import "testing"

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://admin:s3cret@127.0.0.1:6443", "https://admin:xxxxx@127.0.0.1:6443"},
		// url.Parse rejects these; the password must go all the same.
		{"https://user:p%ss@example.com", "https://user:xxxxx@example.com"},
		{"https://user:p ss@example.com:6443/k8s/clusters/c-1", "https://user:xxxxx@example.com:6443/k8s/clusters/c-1"},
		{"https://user:p/s@ss@example.com", "https://user:xxxxx@example.com"},
		// host:port without a scheme, as client-go accepts it.
		{"user:s3cret@10.0.0.1:6443", "user:xxxxx@10.0.0.1:6443"},
		// Nothing to hide.
		{"https://example.com:6443", "https://example.com:6443"},
		{"https://user@example.com", "https://user@example.com"},
		{"https://example.com/proxy/a@b", "https://example.com/proxy/a@b"},
		{"", ""},
	} {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitAndUnescape(t *testing.T) {
	p, ok := Split("https://ci:p%40ss@example.com:6443/x")
	if !ok || p.Prefix+p.Rest != "https://example.com:6443/x" || p.User != "ci" || Unescape(p.Password) != "p@ss" {
		t.Errorf("Split: %+v %v", p, ok)
	}
	if p, _ := Split("https://ci:p%ss@example.com"); Unescape(p.Password) != "p%ss" {
		t.Errorf("a password that does not unescape is taken as written: %q", Unescape(p.Password))
	}
}
