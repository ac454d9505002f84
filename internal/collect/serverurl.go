package collect

import (
	"net/url"
	"strings"

	"k8s.io/client-go/rest"
)

// A server URL may carry credentials (https://user:password@host). They
// must never be printed or stored: RedactURL is what every message, report
// source and fleet row shows of a server, and NewClient moves them out of
// the URL (moveUserinfo) before client-go builds, logs (-v 6) or quotes a
// request URL. Both work on URLs url.Parse rejects too (a raw "%" or a
// space in the password), which error messages would otherwise repeat.

// RedactURL returns server with the password of its userinfo replaced by
// "xxxxx", as url.URL.Redacted does; anything else is unchanged.
func RedactURL(server string) string {
	u, ok := userinfoOf(server)
	if !ok || !u.hasPassword {
		return server
	}
	return u.prefix + u.rawUser + ":xxxxx@" + u.rest
}

// moveUserinfo takes the userinfo out of cfg.Host. It becomes basic auth
// when the configuration has no other credentials; otherwise it is dropped,
// as net/http would have ignored it (it adds a URL's userinfo only to a
// request without an Authorization header).
func moveUserinfo(cfg *rest.Config) {
	u, ok := userinfoOf(cfg.Host)
	if !ok {
		return
	}
	cfg.Host = u.prefix + u.rest
	if cfg.Username == "" && cfg.Password == "" && cfg.BearerToken == "" && cfg.BearerTokenFile == "" &&
		cfg.ExecProvider == nil && cfg.AuthProvider == nil {
		cfg.Username, cfg.Password = unescape(u.rawUser), unescape(u.rawPassword)
	}
}

// userinfo is a server URL taken apart around its userinfo: prefix (the
// scheme and "://", if any), the raw user and password as written, and rest
// (host, port, path).
type userinfo struct {
	prefix, rawUser, rawPassword, rest string
	hasPassword                        bool
}

// userinfoOf finds the userinfo of server; false when it has none. A URL
// url.Parse accepts is taken apart as url.Parse does.
func userinfoOf(server string) (userinfo, bool) {
	var u userinfo
	// Without a scheme, client-go reads the server as host:port over http.
	body, scheme := server, "http://"
	if i := strings.Index(server, "://"); i >= 0 {
		u.prefix, body, scheme = server[:i+3], server[i+3:], ""
	}
	// A URL url.Parse rejects may hold anything in a raw password, but the
	// host cannot hold an "@": its userinfo ends at the last one.
	at := strings.LastIndex(body, "@")
	if p, err := url.Parse(scheme + server); err == nil && p.Host != "" {
		if p.User == nil {
			return u, false
		}
		// As url.Parse: the authority ends at the path, query or fragment,
		// and the userinfo at its last "@".
		authority := body
		if i := strings.IndexAny(body, "/?#"); i >= 0 {
			authority = body[:i]
		}
		at = strings.LastIndex(authority, "@")
	}
	if at < 0 {
		return u, false
	}
	u.rest = body[at+1:]
	u.rawUser, u.rawPassword, u.hasPassword = strings.Cut(body[:at], ":")
	return u, true
}

// unescape decodes a user or password as written in a URL; one that does
// not decode (a raw "%") is taken as written.
func unescape(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
