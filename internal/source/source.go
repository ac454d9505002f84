// Package source reads a run's input once per call: the -f files (package
// decode) or the live cluster (package collect, with its progress on a
// terminal and the amount check the offline reader makes), and words what
// was not there so that the user knows what to do: a NAME in another
// namespace or resembling a subcommand, a -n namespace that exists without
// DaemonSets or does not exist at all.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Reader is a run's source, resolved from its flags.
type Reader struct {
	// Options say what to read; Files, when set, is the offline input
	// (Stdin for -).
	Options collect.Options
	Files   []string
	Stdin   io.Reader
	// Client and Host are the live source.
	Client collect.Client
	Host   string
	// Timeout is the run's --timeout (it words the error of a read cut by
	// it).
	Timeout time.Duration
	// Progress, when set (a terminal), shows a live read's progress.
	Progress io.Writer
	// Suggest are the subcommands a DaemonSet NAME resembles (node ->
	// nodes), offered when no DaemonSet has that name.
	Suggest []string
}

// EmptyNamespace says why -n NAMESPACE found no DaemonSet: the namespace is
// there and empty of them, or it is not there at all (a typo). Live, a get
// on the namespace decides, briefly (it only words an error); offline,
// whether the input holds any object of that namespace.
func (r Reader) EmptyNamespace(ns string, inInput bool) string {
	if len(r.Files) > 0 {
		if inInput {
			return fmt.Sprintf("no daemonsets in namespace %s: the input has objects of that namespace, but no DaemonSet", ns)
		}
		return fmt.Sprintf("no daemonsets in namespace %s: the input has no object of that namespace (a typo?)", ns)
	}
	if r.Client == nil {
		return fmt.Sprintf("no daemonsets in namespace %s", ns)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hintTimeout)
	defer cancel()
	_, err := r.Client.GetNamespace(ctx, ns)
	switch {
	case err == nil:
		return fmt.Sprintf("no daemonsets in namespace %s: the namespace exists but has no DaemonSet", ns)
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("no daemonsets in namespace %s: the namespace does not exist (kubectl get namespaces)", ns)
	}
	return fmt.Sprintf("no daemonsets in namespace %s (whether the namespace exists could not be checked: %s)", ns, text.OneLine(err.Error()))
}

// HasNamespace says whether the snapshot holds an object of namespace ns.
// After selection it keeps the namespace's ControllerRevisions and Events
// (and the Pods of DaemonSets kept), so this is what the input offered.
func HasNamespace(snap *model.Snapshot, ns string) bool {
	for i := range snap.DaemonSets {
		if snap.DaemonSets[i].Namespace == ns {
			return true
		}
	}
	for i := range snap.DaemonPods {
		if snap.DaemonPods[i].Namespace == ns {
			return true
		}
	}
	for i := range snap.ControllerRevisions {
		if snap.ControllerRevisions[i].Namespace == ns {
			return true
		}
	}
	for i := range snap.Events {
		if snap.Events[i].Namespace == ns {
			return true
		}
	}
	return false
}

// Read reads the input; a live read records where its lists stood in
// cur (when set), for a watch to carry on from.
func (r Reader) Read(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error) {
	if len(r.Files) > 0 {
		snap, err := decode.Files(r.Files, r.Stdin, r.Options)
		var nf *collect.NotFoundError
		if errors.As(err, &nf) {
			return nil, r.notFound(ctx, nf)
		}
		if err != nil {
			return nil, err
		}
		return snap, nil
	}
	opts := r.Options
	opts.Cursor = cur
	if r.Progress != nil {
		opts.Progress = func(format string, args ...any) {
			fmt.Fprintf(r.Progress, "\r\033[K"+format, args...)
		}
		defer fmt.Fprint(r.Progress, "\r\033[K")
	}
	snap, err := collect.Live(ctx, r.Client, r.Host, opts)
	var nf *collect.NotFoundError
	var amb *collect.AmbiguousError
	switch {
	case err == nil:
		// The offline reader checks each object's amounts as it reads it.
		if err := capacity.CheckSnapshot(snap); err != nil {
			return nil, fmt.Errorf("the cluster at %s: %v", r.Host, err)
		}
		return snap, nil
	case errors.As(err, &nf):
		return nil, r.notFound(ctx, nf)
	case errors.As(err, &amb):
		return nil, err
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("gave up reading from the cluster at %s after --timeout %s: %s", r.Host, r.Timeout, text.OneLine(err.Error()))
	}
	return nil, fmt.Errorf("cannot read from the cluster at %s: %s", r.Host, text.OneLine(err.Error()))
}

// notFound says what to do about a NAME that is not there: live, a NAME is
// looked for in one namespace (the context's, as kubectl does), so say which
// namespaces have it; and a NAME that looks like a subcommand (node) was
// most likely meant as one.
func (r Reader) notFound(ctx context.Context, nf *collect.NotFoundError) error {
	msg := nf.Error()
	if nf.Source == "" && nf.Namespace != "" && r.Client != nil {
		if nss := r.namespacesOf(ctx, nf.Name); len(nss) > 0 {
			msg += fmt.Sprintf("; it exists in %s: add -n %s", strings.Join(nss, ", "), nss[0])
		}
	}
	if len(r.Suggest) > 0 {
		msg += fmt.Sprintf("; did you mean the %q command (kubectl daemoncheck %s)?", r.Suggest[0], r.Suggest[0])
	}
	return errors.New(msg)
}

// hintTimeout bounds the reads that only word an error (a hint, never a
// verdict): as brief as shell completion's.
const hintTimeout = 5 * time.Second

// maxElsewhere bounds the hint's list: a name in more namespaces than this
// is a pattern (one agent per tenant), and the first few say enough.
const maxElsewhere = 5

// namespacesOf lists the namespaces that have a DaemonSet called name, by
// field selector, with a small limit and a short deadline: it only adds a
// hint to an error, so any failure (e.g. no cluster-wide list permission)
// means no hint.
func (r Reader) namespacesOf(ctx context.Context, name string) []string {
	ctx, cancel := context.WithTimeout(ctx, hintTimeout)
	defer cancel()
	l, err := r.Client.ListDaemonSets(ctx, "", metav1.ListOptions{FieldSelector: "metadata.name=" + name, Limit: maxElsewhere})
	if err != nil {
		return nil
	}
	var nss []string
	for _, ds := range l.Items {
		// Checked again: not every server (or fake) applies the selector.
		if ds.Name == name {
			nss = append(nss, ds.Namespace)
		}
	}
	sort.Strings(nss)
	return nss
}
