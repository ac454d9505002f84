package collect

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// refuseCrossHostRedirect allows redirects within the server (same scheme
// and host) and refuses others: the auth round trippers inside the
// transport add the bearer token to every request, redirected or not.
func refuseCrossHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return fmt.Errorf("refusing a redirect from %s://%s to %s://%s: credentials would go to another server", first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	return nil
}

// ResponseTooLargeError says a response exceeded its cap.
type ResponseTooLargeError struct {
	URL   string
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("response to %s is larger than %d MiB; refusing to read more (a proxy or a hostile server?)", e.URL, e.Limit>>20)
}

type boundedTransport struct{ next http.RoundTripper }

// WrappedRoundTripper lets client-go's helpers (utilnet.RoundTripperWrapper)
// see the transport underneath, as its own wrappers do.
func (t *boundedTransport) WrappedRoundTripper() http.RoundTripper { return t.next }

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	ctx := req.Context()
	limit := MaxPageBytes
	if ctx.Value(wholeListKey{}) != nil || ctx.Value(watchKey{}) != nil {
		limit = MaxListBytes
	}
	u := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, &ResponseTooLargeError{URL: u, Limit: limit}
	}
	resp.Body = &cappedBody{rc: resp.Body, left: limit, err: &ResponseTooLargeError{URL: u, Limit: limit}}
	if ctx.Value(watchKey{}) != nil && resp.StatusCode == http.StatusOK {
		resp.Body = capEvents(resp.Body, resp.Header.Get("Content-Type"), MaxEventBytes, u)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		// client-go reads whole seconds only (anything else means no wait).
		if s, err := strconv.Atoi(ra); err == nil && time.Duration(s)*time.Second > RetryAfterCap {
			resp.Header.Set("Retry-After", strconv.Itoa(int(RetryAfterCap/time.Second)))
		}
	}
	return resp, nil
}

// wholeListKey marks, in a request's context, a list without a page limit,
// whose answer may be the whole collection (see MaxListBytes).
type wholeListKey struct{}

// watchKey marks, in a request's context, a watch: one long response of
// events (see MaxListBytes and MaxEventBytes).
type watchKey struct{}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte past the cap proves the body is larger.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, b.err
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
