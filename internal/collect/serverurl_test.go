package collect

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// The userinfo of the server URL becomes basic auth: the server gets the
// password, and no URL client-go builds holds it. With other credentials
// it is dropped, as net/http would have ignored it.
func TestServerURLPasswordBecomesBasicAuth(t *testing.T) {
	h := newHostile(t, nil)
	host := strings.TrimPrefix(h.srv.URL, "http://")
	for _, tt := range []struct {
		name, server, token, wantAuth string
	}{
		{"raw percent", "http://ci:p%ss@" + host, "", "Basic Y2k6cCVzcw=="},               // ci:p%ss
		{"escaped", "http://ci:p%40ss@" + host, "", "Basic Y2k6cEBzcw=="},                 // ci:p@ss
		{"space", "http://ci:p ss@" + host, "", "Basic Y2k6cCBzcw=="},                     // ci:p ss
		{"with a token", "http://ci:p%ss@" + host, "secret-token", "Bearer secret-token"}, // userinfo dropped
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := NewClient(&rest.Config{Host: tt.server, BearerToken: tt.token})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			h.mu.Lock()
			h.auths = nil
			h.mu.Unlock()
			_, err = cs.ListNodes(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.auths) != 1 || h.auths[0] != tt.wantAuth {
				t.Errorf("Authorization %q, want %q", h.auths, tt.wantAuth)
			}
		})
	}
	// Errors quote the URL client-go built: without the password.
	cs, err := NewClient(&rest.Config{Host: "http://ci:p%ss@127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.ListNodes(context.Background(), metav1.ListOptions{})
	if err == nil || strings.Contains(err.Error(), "p%ss") || !strings.Contains(err.Error(), "http://127.0.0.1:1/api/v1/nodes") {
		t.Errorf("error %v: want the URL without the password", err)
	}
}
