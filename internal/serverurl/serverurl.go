// Package serverurl keeps the credentials a server URL may carry
// (https://user:password@host) out of everything daemoncheck prints or
// stores: Redact is what every message, report source and fleet row shows
// of a server. Both functions work on URLs url.Parse rejects too (a raw "%"
// or a space in the password), which error messages would otherwise repeat
// as written.
package serverurl

import (
	"net/url"
	"strings"
)

// Redact returns server with the password of its userinfo replaced by
// "xxxxx", as url.URL.Redacted does; anything else is unchanged.
func Redact(server string) string {
	p, ok := Split(server)
	if !ok || !p.HasPassword {
		return server
	}
	return p.Prefix + p.User + ":xxxxx@" + p.Rest
}

// Parts is a server URL taken apart around its userinfo: Prefix (the
// scheme and "://", if any), User and Password as written (escaped), and
// Rest (host, port, path). Prefix+Rest is the URL without userinfo.
type Parts struct {
	Prefix, User, Password, Rest string
	HasPassword                  bool
}

// Split finds the userinfo of server; false when it has none. A URL
// url.Parse accepts is taken apart as url.Parse does.
func Split(server string) (Parts, bool) {
	var p Parts
	// Without a scheme, client-go reads the server as host:port over http.
	body, scheme := server, "http://"
	if i := strings.Index(server, "://"); i >= 0 {
		p.Prefix, body, scheme = server[:i+3], server[i+3:], ""
	}
	// A URL url.Parse rejects may hold anything in a raw password, but the
	// host cannot hold an "@": its userinfo ends at the last one.
	at := strings.LastIndex(body, "@")
	if u, err := url.Parse(scheme + server); err == nil && u.Host != "" {
		if u.User == nil {
			return p, false
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
		return p, false
	}
	p.Rest = body[at+1:]
	p.User, p.Password, p.HasPassword = strings.Cut(body[:at], ":")
	return p, true
}

// Unescape decodes a user or password as written in a URL; one that does
// not decode (a raw "%") is taken as written.
func Unescape(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
