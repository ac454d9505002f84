package collect

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pageFunc lists one page and returns its items and continue token.
type pageFunc[T any] func(ctx context.Context, opts metav1.ListOptions) ([]T, string, error)

// maxRestarts bounds how often a paginated list starts over after its
// continue token expired (410 Gone) under churn.
const maxRestarts = 3

// maxRetries bounds retries of one page on a struggling server (429 without
// Retry-After handling, 5xx, timeouts); client-go itself already honours
// Retry-After on 429 and 5xx responses that carry it.
const maxRetries = 4

// retryBackoff is the wait before retry n (0-based): 0.5s, 1s, 2s, 4s.
var retryBackoff = func(n int) time.Duration { return 500 * time.Millisecond << n }

// retriable reports whether a failed page may succeed if asked again.
func retriable(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
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
		for {
			items, cont, err := pageWithRetry(ctx, o, page)
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
			if cont == "" {
				return pages, nil
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
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

// keyLess orders objects by "namespace/name" without building the strings.
func keyLess(ns1, n1, ns2, n2 string) bool {
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

func pageWithRetry[T any](ctx context.Context, o metav1.ListOptions, page pageFunc[T]) ([]T, string, error) {
	for n := 0; ; n++ {
		items, cont, err := page(ctx, o)
		if err == nil || !retriable(err) || n >= maxRetries {
			if err != nil && n > 0 {
				err = fmt.Errorf("%w (after %d retries)", err, n)
			}
			return items, cont, err
		}
		select {
		case <-ctx.Done():
			return nil, "", err
		case <-time.After(retryBackoff(n)):
		}
	}
}

// TrimNode drops what the analysis never reads (images, addresses, managed
// fields, annotations) right after decode: on large clusters the image lists
// alone are most of a Node's size.
func TrimNode(n *corev1.Node) {
	n.ManagedFields = nil
	// Only daemoncheck's own annotations (exemptions) are read.
	var keep map[string]string
	for k, v := range n.Annotations {
		if strings.HasPrefix(k, "daemoncheck.io/") {
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
