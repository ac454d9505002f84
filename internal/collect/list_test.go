package collect

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func init() { retryBackoff = func(int) time.Duration { return time.Millisecond } }

var podsGR = schema.GroupResource{Resource: "pods"}

// pager serves items in pages of 2 at a resourceVersion; fail decides per
// call whether to fail instead.
type pager struct {
	items []string
	calls []metav1.ListOptions
	fail  func(call int, o metav1.ListOptions) error
}

func (p *pager) page(_ context.Context, o metav1.ListOptions) ([]string, metav1.ListMeta, error) {
	items, cont, err := p.page1(o)
	return items, metav1.ListMeta{Continue: cont}, err
}

func (p *pager) page1(o metav1.ListOptions) ([]string, string, error) {
	p.calls = append(p.calls, o)
	if p.fail != nil {
		if err := p.fail(len(p.calls), o); err != nil {
			return nil, "", err
		}
	}
	start := 0
	if o.Continue != "" {
		start = int(o.Continue[0] - '0')
	}
	if o.Limit == 0 {
		return p.items, "", nil
	}
	end := min(start+int(o.Limit), len(p.items))
	cont := ""
	if end < len(p.items) {
		cont = string(rune('0' + end))
	}
	return p.items[start:end], cont, nil
}

func TestListAllPages(t *testing.T) {
	p := &pager{items: []string{"a", "b", "c", "d", "e"}}
	got, err := listAll(context.Background(), 2, metav1.ListOptions{}, p.page)
	if err != nil || strings.Join(got, "") != "abcde" || len(p.calls) != 3 {
		t.Fatalf("got %v %v after %d calls", got, err, len(p.calls))
	}
}

func TestListAllRestartsOnExpiredToken(t *testing.T) {
	p := &pager{items: []string{"a", "b", "c", "d", "e"}}
	p.fail = func(call int, o metav1.ListOptions) error {
		if call == 2 { // the second page of the first attempt
			return apierrors.NewResourceExpired("continue token expired")
		}
		return nil
	}
	got, err := listAll(context.Background(), 2, metav1.ListOptions{}, p.page)
	if err != nil || strings.Join(got, "") != "abcde" {
		t.Fatalf("got %v %v", got, err)
	}
	// The first page is not kept: the list started over from scratch.
	if p.calls[2].Continue != "" {
		t.Errorf("third call should restart without a continue token: %+v", p.calls[2])
	}

	// Always expiring: after maxRestarts it lists unpaginated, consistently.
	p = &pager{items: []string{"a", "b", "c"}}
	p.fail = func(_ int, o metav1.ListOptions) error {
		if o.Continue != "" {
			return apierrors.NewResourceExpired("expired")
		}
		return nil
	}
	got, err = listAll(context.Background(), 2, metav1.ListOptions{}, p.page)
	if err != nil || strings.Join(got, "") != "abc" || p.calls[len(p.calls)-1].Limit != 0 {
		t.Fatalf("fallback: got %v %v, calls %+v", got, err, p.calls)
	}
}

func TestListAllRetriesStrugglingServer(t *testing.T) {
	p := &pager{items: []string{"a", "b", "c"}}
	p.fail = func(call int, _ metav1.ListOptions) error {
		switch call {
		case 1:
			return apierrors.NewTooManyRequests("slow down", 0)
		case 2:
			return apierrors.NewServiceUnavailable("etcd leader change")
		case 4:
			return apierrors.NewInternalError(errors.New("boom"))
		}
		return nil
	}
	got, err := listAll(context.Background(), 2, metav1.ListOptions{}, p.page)
	if err != nil || strings.Join(got, "") != "abc" {
		t.Fatalf("got %v %v", got, err)
	}

	// Bounded: a server that never recovers ends the list with its error.
	p = &pager{fail: func(int, metav1.ListOptions) error { return apierrors.NewServiceUnavailable("down") }}
	_, err = listAll(context.Background(), 2, metav1.ListOptions{}, p.page)
	if err == nil || !strings.Contains(err.Error(), "after 4 retries") || len(p.calls) != maxRetries+1 {
		t.Fatalf("err %v after %d calls", err, len(p.calls))
	}

	// Not retried: errors that cannot get better by asking again.
	p = &pager{fail: func(int, metav1.ListOptions) error { return apierrors.NewForbidden(podsGR, "", errors.New("no")) }}
	if _, err = listAll(context.Background(), 2, metav1.ListOptions{}, p.page); !apierrors.IsForbidden(err) || len(p.calls) != 1 {
		t.Fatalf("forbidden: %v after %d calls", err, len(p.calls))
	}
}
