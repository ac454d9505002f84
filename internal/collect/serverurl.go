package collect

import (
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/serverurl"
)

// moveUserinfo takes the userinfo out of cfg.Host, so that no request URL
// client-go builds, logs (-v 6 and above) or quotes in an error holds a
// password (serverurl.Redact is for what daemoncheck prints itself). It
// becomes basic auth when the configuration has no other credentials;
// otherwise it is dropped, as net/http would have ignored it (it adds a
// URL's userinfo only to a request without an Authorization header).
func moveUserinfo(cfg *rest.Config) {
	p, ok := serverurl.Split(cfg.Host)
	if !ok {
		return
	}
	cfg.Host = p.Prefix + p.Rest
	if cfg.Username == "" && cfg.Password == "" && cfg.BearerToken == "" && cfg.BearerTokenFile == "" &&
		cfg.ExecProvider == nil && cfg.AuthProvider == nil {
		cfg.Username, cfg.Password = serverurl.Unescape(p.User), serverurl.Unescape(p.Password)
	}
}
