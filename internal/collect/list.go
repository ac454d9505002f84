package collect

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// pageFunc lists one page and returns its items and list metadata
// (continue token, remainingItemCount).
type pageFunc[T any] func(ctx context.Context, opts metav1.ListOptions) ([]T, metav1.ListMeta, error)

// maxRestarts bounds how often a paginated list starts over after its
// continue token expired (410 Gone) under churn.
const maxRestarts = 3

// maxRetries bounds retries of one page on a struggling server (429, 5xx,
// a dropped connection). This is the only retry loop of a read: the list
// calls disable client-go's own (it would retry up to 10 times per call on
// Retry-After, multiplying with these).
const maxRetries = 4

// retryBackoff is the wait before retry n (0-based): 0.5s, 1s, 2s, 4s.
var retryBackoff = func(n int) time.Duration { return 500 * time.Millisecond << n }

// maxPagesUnknown bounds the pages of a list whose first page did not say
// how many items remain (the server omits remainingItemCount for lists with
// a label or field selector): 10,000 pages of 500 are 5 million objects,
// far beyond any cluster, yet finite against a server that never ends.
var maxPagesUnknown = 10000

// retriable reports whether a failed page may succeed if asked again: the
// server is overloaded (429) or failing (5xx), or the connection dropped.
// Everything else, including every other 4xx (400, 414 ...) whatever body
// it carries, would fail the same way again. A request that timed out is not
// retried either: the run would wait the timeout once per attempt.
func retriable(err error) bool {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := st.Status().Code
		return code == http.StatusTooManyRequests || code == http.StatusInternalServerError ||
			code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
	}
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &tooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}

// retryDelay is the wait before retry n: our backoff, or the server's
// Retry-After if longer, but never more than RetryAfterCap.
func retryDelay(n int, err error) time.Duration {
	d := retryBackoff(n)
	if s, ok := apierrors.SuggestsClientDelay(err); ok {
		d = max(d, min(time.Duration(s)*time.Second, RetryAfterCap))
	}
	return d
}

// listAll reads every page of a list. If the continue token expires midway,
// the pages read so far belong to an older resourceVersion than the rest
// would: rather than mix them, it discards them and starts the list over
// (a bounded number of times, then as one unpaginated list), so every list
// is a consistent snapshot at one resourceVersion. A page that fails with a
// retriable error is asked again, with backoff, a bounded number of times.
func listAll[T any](ctx context.Context, chunk int64, opts metav1.ListOptions, page pageFunc[T]) ([]T, error) {
	pages, err := listPages(ctx, chunk, opts, page)
	if err != nil {
		return nil, err
	}
	return concat(pages), nil
}

// listPages is listAll without the final copy: it returns the pages as read
// (each page as the page function returned it), so a caller merging several
// lists copies every item once, into a slice of the exact size, instead of
// growing slices by doubling (which, for 1 KB Pod structs, briefly holds up
// to twice the result in spare capacity).
//
// A server (or proxy) that hands out a continue token it handed out before,
// or more pages than the first page's remainingItemCount implies, would
// otherwise keep the loop going forever: both end the list with an error.
func listPages[T any](ctx context.Context, chunk int64, opts metav1.ListOptions, page pageFunc[T]) ([][]T, error) {
	for attempt := 0; ; attempt++ {
		o := opts
		if attempt < maxRestarts {
			o.Limit = chunk
		} else {
			o.Limit = 0
		}
		var pages [][]T
		expired := false
		seen := map[[32]byte]int{}
		limit, why := maxPagesUnknown, "the server announced no item count"
		for n := 1; ; n++ {
			items, meta, err := pageWithRetry(ctx, o, page)
			if err != nil {
				if apierrors.IsResourceExpired(err) && o.Continue != "" && attempt < maxRestarts {
					expired = true
					break
				}
				return nil, err
			}
			if len(items) > 0 {
				pages = append(pages, items)
			}
			cont := meta.Continue
			if cont == "" {
				return pages, nil
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if n == 1 && meta.RemainingItemCount != nil && o.Limit > 0 {
				// Twice the pages announced, plus a few: items deleted
				// meanwhile only shorten the list (it is read at the first
				// page's resourceVersion); servers may return short pages.
				want := 1 + (max(*meta.RemainingItemCount, 0)+o.Limit-1)/o.Limit
				limit = int(min(2*want+3, int64(maxPagesUnknown)))
				why = fmt.Sprintf("the first page announced %d more items", *meta.RemainingItemCount)
			}
			if n >= limit {
				return nil, fmt.Errorf("the list did not end after %d pages (%s); stopping, the server keeps handing out continue tokens", n, why)
			}
			h := sha256.Sum256([]byte(cont))
			if prev, again := seen[h]; again {
				return nil, fmt.Errorf("the server returned the continue token of page %d again after page %d; stopping instead of paging forever", prev, n)
			}
			seen[h] = n
			o.Continue = cont
		}
		if !expired {
			return nil, fmt.Errorf("internal: paging ended without result")
		}
	}
}

// concat copies pages into one slice of the exact size.
func concat[T any](pages [][]T) []T {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	if n == 0 {
		return nil
	}
	all := make([]T, 0, n)
	for _, p := range pages {
		all = append(all, p...)
	}
	return all
}

// KeyLess orders objects by "namespace/name" without building the strings:
// the order of Live's lists, which a watch's snapshots keep too.
func KeyLess(ns1, n1, ns2, n2 string) bool {
	k1 := [3]string{ns1, "/", n1}
	k2 := [3]string{ns2, "/", n2}
	i1, i2, o1, o2 := 0, 0, 0, 0
	for {
		for i1 < 3 && o1 == len(k1[i1]) {
			i1, o1 = i1+1, 0
		}
		for i2 < 3 && o2 == len(k2[i2]) {
			i2, o2 = i2+1, 0
		}
		if i1 == 3 || i2 == 3 {
			return i1 == 3 && i2 < 3
		}
		c1, c2 := k1[i1][o1], k2[i2][o2]
		if c1 != c2 {
			return c1 < c2
		}
		o1, o2 = o1+1, o2+1
	}
}

func pageWithRetry[T any](ctx context.Context, o metav1.ListOptions, page pageFunc[T]) ([]T, metav1.ListMeta, error) {
	for n := 0; ; n++ {
		items, meta, err := page(ctx, o)
		if err == nil || !retriable(err) || n >= maxRetries {
			if err != nil && n > 0 {
				err = fmt.Errorf("%w (after %d retries)", err, n)
			}
			return items, meta, err
		}
		t := time.NewTimer(retryDelay(n, err))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, metav1.ListMeta{}, err
		case <-t.C:
		}
	}
}

// TrimRevision drops what the analysis never reads of a ControllerRevision:
// only its revision number and hash label are used, never the template it
// stores (Data), which is most of its size. Every reader (live lists, the
// watch, offline files) trims the same way.
func TrimRevision(cr *appsv1.ControllerRevision) {
	cr.Data.Raw, cr.Data.Object, cr.ManagedFields = nil, nil, nil
}

// keptNodeAnnotations are the annotations of others the analysis reads
// on a node: Cluster API's mark of a Machine to delete
// (internal/audit/lifecycle.go).
var keptNodeAnnotations = map[string]bool{
	"cluster.x-k8s.io/delete-machine": true,
}

// TrimNode drops what the analysis never reads (images, addresses, managed
// fields, annotations) right after decode: on large clusters the image lists
// alone are most of a Node's size.
func TrimNode(n *corev1.Node) {
	n.ManagedFields = nil
	// Only daemoncheck's own annotations (exemptions) and the node
	// lifecycle ones (keptNodeAnnotations) are read, and the CSI drivers
	// the kubelet registered (model.CSINodeIDAnnotation).
	var keep map[string]string
	for k, v := range n.Annotations {
		if strings.HasPrefix(k, "daemoncheck.io/") || keptNodeAnnotations[k] || k == model.CSINodeIDAnnotation {
			if keep == nil {
				keep = map[string]string{}
			}
			keep[k] = v
		}
	}
	n.Annotations = keep
	n.Status.Images = nil
	n.Status.VolumesAttached = nil
	n.Status.VolumesInUse = nil
	n.Status.Addresses = nil
	n.Status.Config = nil
}
