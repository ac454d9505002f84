package collect

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// A credential plugin (kubeconfig users[].user.exec) runs inside client-go's
// transport, when a request needs credentials, without a context: client-go
// waits for it however long it takes, holding a lock every other request of
// the client waits on. An SSO plugin waiting for a browser login would hang
// the run forever, past --timeout and --request-timeout, and keep a fleet
// run (--contexts) from printing the other clusters' reports.
//
// pluginDeadline bounds each round trip by its request's context, which
// carries both deadlines (the run's, and --request-timeout through client-go
// and net/http). A marker placed under the plugin's round tripper
// (markCredentialsObtained, through rest.Config.Wrap) tells whether a request
// got past the plugin: only a request still waiting for it is abandoned at
// the deadline; one that got past is left to the transport below, which
// honours its context and keeps its own errors. The plugin's process is not
// killed (client-go offers no way to); it is no longer waited for, and ends
// with it or on its own.
type pluginDeadline struct {
	next    http.RoundTripper
	command string
}

// CredentialPluginError says the credential plugin gave no credentials
// before the request's deadline.
type CredentialPluginError struct {
	Command string
	Err     error
}

func (e *CredentialPluginError) Error() string {
	return fmt.Sprintf("credential plugin %s (kubeconfig users[].user.exec) gave no credentials in time (%v): if it waits for a login, log in first or raise --request-timeout/--timeout", e.Command, e.Err)
}

func (e *CredentialPluginError) Unwrap() error { return e.Err }

func (t *pluginDeadline) WrappedRoundTripper() http.RoundTripper { return t.next }

func (t *pluginDeadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if ctx.Done() == nil {
		// No deadline: the plugin may take as long as it takes.
		return t.next.RoundTrip(req)
	}
	past := new(atomic.Bool)
	req = req.WithContext(context.WithValue(ctx, credentialsKey{}, past))
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := t.next.RoundTrip(req)
		done <- result{resp, err}
	}()
	select {
	case r := <-done:
		return r.resp, r.err
	case <-ctx.Done():
	}
	if past.Load() {
		r := <-done
		return r.resp, r.err
	}
	go func() {
		// Whenever the plugin returns, nobody reads the answer.
		if r := <-done; r.resp != nil {
			r.resp.Body.Close()
		}
	}()
	return nil, &CredentialPluginError{Command: t.command, Err: ctx.Err()}
}

// credentialsKey holds, in a request's context, whether the request got
// past the credential plugin.
type credentialsKey struct{}

func markCredentialsObtained(next http.RoundTripper) http.RoundTripper {
	return &credentialsMarker{next: next}
}

type credentialsMarker struct{ next http.RoundTripper }

func (m *credentialsMarker) WrappedRoundTripper() http.RoundTripper { return m.next }

func (m *credentialsMarker) RoundTrip(req *http.Request) (*http.Response, error) {
	if past, ok := req.Context().Value(credentialsKey{}).(*atomic.Bool); ok {
		past.Store(true)
	}
	return m.next.RoundTrip(req)
}
