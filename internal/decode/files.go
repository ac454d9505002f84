package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/apiconv"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// MaxInputBytes bounds one input file (or stdin): a dump of a very large
// cluster is a few GiB; beyond this the input is most likely not a dump.
var MaxInputBytes int64 = 4 << 30

// MaxObjectBytes bounds one object (a List item, a YAML document that is not
// a List, one line of YAML): the API server refuses objects over 1.5 MiB, so
// 64 MiB is far above anything real. The reader holds at most one such unit
// (plus the compact records) at a time, whatever the file size.
var MaxObjectBytes int64 = 64 << 20

// maxListDepth bounds Lists inside Lists: kubectl never nests them; a
// hand-made List of Lists is accepted one level deep. Deeper nesting only
// multiplies the work of a "List bomb".
const maxListDepth = 2

// InputError is a problem with offline input; it names the file.
type InputError struct {
	File string
	Doc  int // 1-based document number within the file, 0 if not known
	Err  error
}

func (e *InputError) Error() string {
	if e.Doc > 0 {
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// Files reads a snapshot from files, directories, tar archives (plain or
// gzipped) of directories, or "-" for stdin. Each file may hold JSON or
// YAML, one object, a List (as `kubectl get -o json|yaml` prints), several
// YAML documents, or a JSON stream (with the log sections of `kubectl
// cluster-info dump` between its values). A directory or archive laid out
// by a tool (kubectl cluster-info dump, oc adm must-gather, a troubleshoot.sh
// support bundle: see layout.go) is read as that tool wrote it; otherwise
// its *.json, *.yaml and *.yml regular files are read, recursively, in name
// order. It keeps what opts selects, as Live does (ChunkSize, Parallel and
// PodEvents mean nothing offline).
//
// Memory is bounded by what is kept, not by the file: Lists are read item by
// item (JSON by streaming tokens, YAML by splitting the items: sequence and
// converting one item at a time), and every item is reduced to the record
// the analysis reads as soon as it is decoded. An object that appears more
// than once (the same dump given twice, a directory with all.yaml and
// pods.yaml) is kept once, by UID.
func Files(paths []string, stdin io.Reader, opts collect.Options) (*model.Snapshot, error) {
	r := newFileReader()
	r.workloads = opts.Workloads
	for _, p := range paths {
		if p == "-" {
			if err := r.readStdin(stdin); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.readPath(p); err != nil {
			return nil, err
		}
	}
	snap := r.snap
	snap.Source = r.sourceSummary()
	r.warn(snap)
	if len(snap.DaemonSets)+len(snap.Nodes)+len(snap.DaemonPods)+len(snap.ControllerRevisions) == 0 {
		return nil, &InputError{File: r.inputNames(), Err: errors.New("no DaemonSet, Node, Pod or ControllerRevision objects found; export them with: kubectl get ds,nodes,pods,controllerrevisions -A -o yaml")}
	}
	r.markUnread(snap, opts)
	r.kruiseRecords(snap)
	// Before selection: the dump was taken when its newest object was seen,
	// whatever the run looks at.
	snap.NewestTime = newestTime(snap)
	if err := selectRead(snap, opts); err != nil {
		return nil, err
	}
	return snap, nil
}

// warn adds the warnings of the read to snap: objects ignored, kept once,
// converted or with timestamps dropped.
func (r *fileReader) warn(snap *model.Snapshot) {
	if len(r.ignored) > 0 {
		kinds := make([]string, 0, len(r.ignored))
		total := 0
		for k, n := range r.ignored {
			kinds = append(kinds, k)
			total += n
		}
		sort.Strings(kinds)
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("ignored %d objects of kinds daemoncheck does not use (%s)", total, strings.Join(kinds, ", ")))
	}
	if r.conflicts > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%d objects appear more than once with different resourceVersions (e.g. %s); kept the newest copy of each", r.conflicts, r.firstConflict))
	}
	if len(r.converted) > 0 {
		vs := make([]string, 0, len(r.converted))
		for v, n := range r.converted {
			vs = append(vs, fmt.Sprintf("%d %s", n, v))
		}
		sort.Strings(vs)
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("read DaemonSets of older apiVersions as apps/v1 (%s): re-export with a current kubectl for exact results", strings.Join(vs, ", ")))
	}
	if r.badTimes > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("dropped %d timestamps outside the years 0-9999 (e.g. in %s)", r.badTimes, r.firstBadTime))
	}
}

// markUnread marks the kinds the input does not hold as not read, and adds
// the --workloads load of the Pods read (then drops it).
//
// A kind counts as read when the input holds objects of it, or a typed
// List of it with no items (kubectl get pods -o json in a namespace with
// no Pods prints an empty PodList): "read, none" is not "not read". A
// dump without any DaemonSet or DaemonSetList (kubectl get nodes,pods)
// says nothing about the DaemonSets, so it must not pass as "none".
func (r *fileReader) markUnread(snap *model.Snapshot, opts collect.Options) {
	if !r.seen[model.DaemonSets] {
		snap.MarkMissing(model.DaemonSets, "the input has no DaemonSet objects (add: kubectl get ds -A -o yaml)", "")
	}
	if !r.seen[model.Nodes] {
		snap.MarkMissing(model.Nodes, "the input has no Node objects (add: kubectl get nodes -o yaml)", "")
	}
	if !r.seen[model.Pods] && len(snap.DaemonSets) > 0 && !opts.NoPods {
		snap.MarkMissing(model.Pods, "the input has no Pod objects (add: kubectl get pods -A -o yaml)", "")
	}
	if !r.seen[model.ControllerRevisions] && len(snap.DaemonSets) > 0 && !opts.NoPods {
		snap.Warnings = append(snap.Warnings, "the input has no ControllerRevision objects: Pod revisions are compared by template generation only (add: kubectl get controllerrevisions -A -o yaml)")
	}
	snap.PriorityClassesRead = r.seen[model.PriorityClasses]
	r.readinessRules(snap)
	r.markPlugins(snap)
	if opts.Workloads {
		if r.seen[model.Pods] {
			w := model.NewWorkloads()
			for _, l := range r.loads {
				w.AddLoad(l)
			}
			snap.Workloads = w
		} else {
			snap.MarkMissing(model.AllPods, "the input has no Pod objects (add every Pod: kubectl get pods -A -o yaml)", "")
		}
	}
	r.loads = nil
}

// selectRead keeps the DaemonSets opts selects, and their Pods, as Live
// does.
func selectRead(snap *model.Snapshot, opts collect.Options) error {
	dss, err := collect.SelectDaemonSets(snap.DaemonSets, opts, "the input")
	if err != nil {
		return err
	}
	snap.DaemonSets = dss
	keepKruise(snap)
	own := collect.Owners(dss)
	pods := snap.DaemonPods[:0]
	for i := range snap.DaemonPods {
		if collect.KeepPod(&snap.DaemonPods[i], own) {
			pods = append(pods, snap.DaemonPods[i])
		}
	}
	snap.DaemonPods = pods
	return nil
}

// newestTime is the newest timestamp of the objects read (out-of-range ones
// were dropped already). Node heartbeats move every few seconds, so on a
// real dump this is within seconds of the export.
func newestTime(snap *model.Snapshot) time.Time {
	skewed := skewedNodes(snap)
	var max time.Time
	see := func(ts ...time.Time) {
		for _, t := range ts {
			if y := t.UTC().Year(); y > 9999 {
				continue // the reports' encoders cannot write it
			}
			if t.After(max) {
				max = t
			}
		}
	}
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		see(n.CreationTimestamp.Time)
		if skewed[n.Name] {
			continue // its kubelet's clock: not the cluster's
		}
		for _, c := range n.Status.Conditions {
			see(c.LastHeartbeatTime.Time, c.LastTransitionTime.Time)
		}
	}
	for i := range snap.DaemonSets {
		ds := &snap.DaemonSets[i]
		see(ds.CreationTimestamp.Time)
		for _, c := range ds.Status.Conditions {
			see(c.LastTransitionTime.Time)
		}
	}
	for i := range snap.DaemonPods {
		see(snap.DaemonPods[i].Created, snap.DaemonPods[i].ReadySince)
	}
	for i := range snap.ControllerRevisions {
		see(snap.ControllerRevisions[i].CreationTimestamp.Time)
	}
	for i := range snap.Events {
		e := &snap.Events[i]
		see(e.CreationTimestamp.Time, e.FirstTimestamp.Time, e.LastTimestamp.Time, e.EventTime.Time)
		if e.Series != nil {
			see(e.Series.LastObservedTime.Time)
		}
	}
	return max.UTC()
}

// maxClockSkew is how far a node's heartbeats may be from the other
// nodes' before its clock is called wrong: kubelets post status every 10s
// to 5m (nodeStatusReportFrequency), so a dump's heartbeats span minutes.
const maxClockSkew = 10 * time.Minute

// skewedNodes finds the nodes whose kubelet clock runs ahead of the others
// (their newest heartbeat is more than maxClockSkew after the median
// node's): their heartbeats would set the analysis clock in the future and
// make every other node look silent. It warns about every node whose clock
// runs ahead, and says that the analysis clock does not follow it.
func skewedNodes(snap *model.Snapshot) map[string]bool {
	type beat struct {
		node string
		at   time.Time
	}
	var beats []beat
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		var last time.Time
		for _, c := range n.Status.Conditions {
			if c.LastHeartbeatTime.After(last) {
				last = c.LastHeartbeatTime.Time
			}
		}
		if !last.IsZero() {
			beats = append(beats, beat{n.Name, last})
		}
	}
	if len(beats) < 2 {
		return nil
	}
	sort.Slice(beats, func(i, j int) bool { return beats[i].at.Before(beats[j].at) })
	median := beats[(len(beats)-1)/2].at
	ahead := map[string]bool{}
	for _, b := range beats {
		// A node behind the others is most often one that stopped
		// reporting: the audit says so (NodeUnreachable), not a warning.
		if d := b.at.Sub(median); d > maxClockSkew {
			ahead[b.node] = true
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("node %s's clock looks %s ahead of the other nodes' (its last heartbeat is dated %s, the median node's %s): its timestamps do not set the analysis clock",
				b.node, d.Round(time.Second), b.at.UTC().Format(time.RFC3339), median.UTC().Format(time.RFC3339)))
		}
	}
	return ahead
}

// expand lists the files a path names. A path given directly must be a
// regular file or a directory: a device (/dev/zero) never ends, and opening
// a FIFO blocks until someone writes to it; a pipe is read with "-f -".
// Inside a directory, anything but a regular file (after following
// symlinks: a *.yaml link to /dev/urandom) is skipped with a warning.
func expand(p string) (files, skipped []string, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, nil, &InputError{File: p, Err: unwrapPathError(err)}
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return nil, nil, &InputError{File: p, Err: fmt.Errorf("not a regular file (%s); to read a pipe or device, redirect it to stdin and give -f -", fileType(st.Mode()))}
		}
		return []string{p}, nil, nil
	}
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return &InputError{File: path, Err: unwrapPathError(err)}
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".yaml", ".yml":
			if d.IsDir() {
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
				return nil
			}
			st, err := os.Stat(path) // follows a symlink
			switch {
			case err != nil:
				skipped = append(skipped, fmt.Sprintf("skipped %s: %v", path, unwrapPathError(err)))
			case st.Mode().IsRegular():
				files = append(files, path)
			case !st.IsDir():
				skipped = append(skipped, fmt.Sprintf("skipped %s: not a regular file (%s)", path, fileType(st.Mode())))
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, &InputError{File: p, Err: errors.New("directory holds no .json, .yaml or .yml files")}
	}
	sort.Strings(files)
	return files, skipped, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO or pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// ReadFileBounded reads a small user-supplied file (a policy, a template, a
// kubeconfig) that must be a regular file of at most max bytes: it never
// opens a FIFO (which would block until a writer comes) or a device (which
// never ends), and never reads more than max+1 bytes.
func ReadFileBounded(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fileType(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type fileReader struct {
	snap *model.Snapshot
	// readiness are the NodeReadinessRules read (readiness.go).
	readiness []collect.NodeReadinessRule
	ignored   map[string]int
	// seen records the kinds the input holds, as objects or typed Lists.
	seen map[model.Kind]bool
	// index de-duplicates objects: kind + UID (or namespace/name without
	// one) -> position in the snapshot's slice and resourceVersion.
	index         map[objKey]kept
	conflicts     int
	firstConflict string
	converted     map[string]int
	badTimes      int
	firstBadTime  string
	// workloads: also keep what each Pod adds to its node (loads, one
	// per Pod identity, the newest copy; loadAt indexes them).
	workloads bool
	loads     []model.PodLoad
	loadAt    map[string]kept
	// hint is the kind the file being read holds by its place in a
	// layout (a support bundle's pods/NS.json), for files that omit it.
	hint string
	// sources records what was read where, for the report's source.
	sources []sourcePart
	// kruise holds the Kruise records of the Advanced DaemonSets read,
	// by identity and resourceVersion (kruise.go).
	kruise map[kruiseID]model.KruiseDaemonSet
}

type objKey struct {
	kind model.Kind
	id   string
}

type kept struct {
	at int
	rv string
}

func newFileReader() *fileReader {
	return &fileReader{snap: &model.Snapshot{}, ignored: map[string]int{}, seen: map[model.Kind]bool{}, index: map[objKey]kept{}, converted: map[string]int{}, loadAt: map[string]kept{}}
}

// kindOf maps the object kinds the analysis reads to snapshot kinds.
var kindOf = map[string]model.Kind{
	"DaemonSet": model.DaemonSets, "Node": model.Nodes, "Pod": model.Pods,
	"ControllerRevision": model.ControllerRevisions, "Event": model.Events,
	"PriorityClass": model.PriorityClasses,
	// Readiness gates (readiness.go).
	"NodeReadinessRule": model.NodeReadinessRules,
	// Node-plugin registrations (plugins.go).
	"CSINode": model.CSINodes, "CSIDriver": model.CSIDrivers, "ResourceSlice": model.ResourceSlices,
}

func (r *fileReader) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return &InputError{File: name, Err: unwrapPathError(err)}
	}
	defer f.Close()
	return r.readStream(name, f)
}

// typeMeta is enough of an object to route it.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// tooLarge is the error of the bounded reader.
var errTooLarge = errors.New("too large")

// boundedReader fails once more than MaxInputBytes were read.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("larger than %d bytes: %w", MaxInputBytes, errTooLarge)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (r *fileReader) readStream(name string, in io.Reader) error {
	br := bufio.NewReaderSize(&boundedReader{r: in, left: MaxInputBytes}, 64*1024)
	// JSON or YAML, by the first byte that is not white space (as
	// kubectl's decoders sniff), after any comment lines: a JSON stream
	// with a "# kubectl get ..." line on top read as YAML kept only its
	// first document.
	comments := 0
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			if comments > 0 {
				return nil // only comments: an empty document
			}
			return &InputError{File: name, Err: errors.New("empty input")}
		}
		if err != nil {
			return &InputError{File: name, Err: err}
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '#':
			if err := skipLine(br); err != nil {
				return &InputError{File: name, Err: err}
			}
			comments++
			continue
		case '{', '[':
			return r.readJSON(name, br)
		}
		return r.readYAML(name, br)
	}
}

// skipLine consumes the rest of a comment line without keeping it; it is
// bounded as a YAML line is.
func skipLine(br *bufio.Reader) error {
	var n int64
	for {
		chunk, err := br.ReadSlice('\n')
		if bytes.IndexByte(chunk, 0) >= 0 {
			return errors.New("binary data (a NUL byte), not JSON or YAML")
		}
		if n += int64(len(chunk)); n > MaxObjectBytes {
			return fmt.Errorf("a line longer than %d bytes; not a Kubernetes dump", MaxObjectBytes)
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return nil
		}
		return err
	}
}

// The stdout form of `kubectl cluster-info dump` (its default, pasted into
// tickets) is JSON Lists with each namespace's container logs between them:
//
//	==== START logs for container C of pod NS/P ====
//	...log lines, any text...
//	==== END logs for container C of pod NS/P ====
//
// and older kubectl versions end it with a line "Cluster info dumped to
// standard output".
const (
	logStart    = "==== START logs for container "
	logEnd      = "==== END logs for container "
	dumpTrailer = "Cluster info dumped to standard output"
)

// peekValue is the next byte that is not white space, consuming the white
// space before it.
func peekValue(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		}
		return b[0], nil
	}
}

// valueReader passes exactly one JSON object or array through from br,
// then reports the end: a json.Decoder reads ahead, and what follows the
// value (a log section) must stay in br. It tracks strings and nesting,
// nothing else; the decoder judges the JSON.
type valueReader struct {
	br                       *bufio.Reader
	depth                    int
	inString, escape, closed bool
}

func (v *valueReader) Read(p []byte) (int, error) {
	if v.closed {
		return 0, io.EOF
	}
	if v.br.Buffered() == 0 {
		if _, err := v.br.Peek(1); err != nil {
			return 0, err
		}
	}
	n := min(v.br.Buffered(), len(p))
	buf, _ := v.br.Peek(n)
	for i, c := range buf {
		switch {
		case v.inString:
			switch {
			case v.escape:
				v.escape = false
			case c == '\\':
				v.escape = true
			case c == '"':
				v.inString = false
			}
		case c == '"':
			v.inString = true
		case c == '{' || c == '[':
			v.depth++
		case c == '}' || c == ']':
			v.depth--
			if v.depth <= 0 {
				v.closed = true
				n = i + 1
			}
		}
		if v.closed {
			break
		}
	}
	copy(p, buf[:n])
	_, _ = v.br.Discard(n)
	return n, nil
}

// skipLogSections consumes log sections (and the old trailer line) up to
// the next JSON value or the end of the input.
func skipLogSections(br *bufio.Reader) error {
	lr := lineReader{br: br, anyBytes: true}
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '{', '[':
			return nil
		}
		line, err := lr.next()
		if err != nil && err != io.EOF {
			return err
		}
		l := strings.TrimRight(string(line), "\r\n")
		switch {
		case l == dumpTrailer:
			continue
		case strings.HasPrefix(l, logStart):
			container := strings.TrimSuffix(strings.TrimPrefix(l, logStart), " ====")
			for {
				if err == io.EOF {
					return fmt.Errorf("the logs for container %s have no END line: the dump is truncated", container)
				}
				line, err = lr.next()
				if err != nil && err != io.EOF {
					return err
				}
				if bytes.HasPrefix(line, []byte(logEnd)) {
					break
				}
			}
		default:
			if len(l) > 60 {
				l = text.Truncate(l, 60) + "..."
			}
			return fmt.Errorf("not valid JSON or YAML: %q between JSON values (only kubectl cluster-info dump log sections may be)", l)
		}
	}
}

// readJSON reads a stream of JSON values, each an object or a List (or,
// in a layout that says which kind a file holds, an array of objects),
// with the log sections of a cluster-info dump between them.
func (r *fileReader) readJSON(name string, br *bufio.Reader) error {
	for doc := 1; ; {
		c, err := peekValue(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &InputError{File: name, Doc: doc, Err: jsonErr(err)}
		}
		if c != '{' && c != '[' {
			if err := skipLogSections(br); err != nil {
				return &InputError{File: name, Doc: doc, Err: err}
			}
			continue
		}
		dec := json.NewDecoder(&valueReader{br: br})
		tok, err := dec.Token()
		if err != nil {
			return &InputError{File: name, Doc: doc, Err: jsonErr(err)}
		}
		if d, ok := tok.(json.Delim); ok && d == '[' && r.hint != "" {
			if err := r.jsonArray(dec); err != nil {
				return &InputError{File: name, Doc: doc, Err: err}
			}
		} else {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return &InputError{File: name, Doc: doc, Err: errors.New("expected a Kubernetes object (a JSON/YAML mapping)")}
			}
			if err := r.jsonObject(dec); err != nil {
				return &InputError{File: name, Doc: doc, Err: err}
			}
		}
		doc++
	}
}

// jsonArray reads a bare array of objects of the hinted kind (troubleshoot
// wrote cluster-resources/pods/NS.json so before it wrote Lists). Such an
// array is a list of that kind: empty, it still means "read, none", as an
// empty typed List does.
func (r *fileReader) jsonArray(dec *json.Decoder) error {
	if k, ok := kindOf[r.hint]; ok {
		r.seen[k] = true
	}
	for n := 1; dec.More(); n++ {
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return jsonErr(err)
		}
		if int64(len(item)) > MaxObjectBytes {
			return fmt.Errorf("item %d is larger than %d bytes", n, MaxObjectBytes)
		}
		if err := r.object(item, r.hint+"List", "", 2); err != nil {
			return fmt.Errorf("item %d: %w", n, err)
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return jsonErr(err)
	}
	return nil
}

func jsonErr(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("not valid JSON or YAML: unexpected end of input")
	}
	return fmt.Errorf("not valid JSON or YAML: %s", text.OneLine(err.Error()))
}

// jsonObject reads one top-level object whose '{' was read: every field but
// "items" is kept raw; the items of a List are decoded and routed one at a
// time, so a 1 GB List never sits in memory as one value. kubectl sorts the
// keys (apiVersion, items, kind): items come before the List's kind, so an
// item without its own kind waits until the List's kind is known.
func (r *fileReader) jsonObject(dec *json.Decoder) error {
	fields := map[string]json.RawMessage{}
	var l listRead
	var size int64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		key, _ := tok.(string)
		if key == "Items" && l.tm.Kind == "" {
			return errOldKubectl
		}
		if key == "items" {
			if err := r.jsonItems(dec, &l); err != nil {
				return err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonErr(err)
		}
		if size += int64(len(raw)); size > MaxObjectBytes {
			return fmt.Errorf("an object larger than %d bytes (without its items)", MaxObjectBytes)
		}
		fields[key] = raw
		switch key {
		case "kind":
			_ = json.Unmarshal(raw, &l.tm.Kind)
		case "apiVersion":
			_ = json.Unmarshal(raw, &l.tm.APIVersion)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return jsonErr(err)
	}
	if !l.hasItems && !strings.HasSuffix(l.tm.Kind, "List") {
		if l.tm.Kind == "" && internalObject(fields) {
			return errOldKubectl
		}
		raw, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		return r.object(raw, "", "", 1)
	}
	if err := r.listKind(l.tm.Kind, l.tm.APIVersion); err != nil {
		return err
	}
	for i, item := range l.waiting {
		if err := r.object(item, l.tm.Kind, l.tm.APIVersion, 2); err != nil {
			return fmt.Errorf("%s item %d: %w", listName(l.tm.Kind), i+1, err)
		}
	}
	return nil
}

// listRead is what jsonObject has read of a top-level object's List so far.
type listRead struct {
	tm       typeMeta // the List's kind and apiVersion, once read
	hasItems bool
	n        int // items read
	// waiting are the items without a kind of their own, read before
	// the List's kind.
	waiting []json.RawMessage
}

// jsonItems reads the value of "items", whose key was read, routing each
// item as it is decoded (or keeping it in l.waiting).
func (r *fileReader) jsonItems(dec *json.Decoder, l *listRead) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	if tok == nil {
		return nil // "items": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("items is not a list")
	}
	l.hasItems = true
	for dec.More() {
		l.n++
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return jsonErr(err)
		}
		if int64(len(item)) > MaxObjectBytes {
			return fmt.Errorf("item %d is larger than %d bytes", l.n, MaxObjectBytes)
		}
		if l.tm.Kind == "" && !hasKind(item) {
			l.waiting = append(l.waiting, item)
			continue
		}
		if err := r.object(item, l.tm.Kind, l.tm.APIVersion, 2); err != nil {
			return fmt.Errorf("%s item %d: %w", listName(l.tm.Kind), l.n, err)
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return jsonErr(err)
	}
	return nil
}

func listName(kind string) string {
	if kind == "" {
		return "List"
	}
	return kind
}

// errOldKubectl is the one line for a dump of internal objects: kubectl
// cluster-info dump wrote its Lists so until about 2019 ("Items", fields of
// metadata at the top, no kind), which no current reader can map reliably.
var errOldKubectl = errors.New(`written by an old kubectl in its internal object format ("Items", no "kind"), which cannot be read; re-export with a current kubectl: kubectl get ds,nodes,pods,controllerrevisions,events -A -o yaml`)

// internalObject tells whether the fields of an object without a kind are
// those of a kubectl-internal object (metadata's fields at the top).
func internalObject(fields map[string]json.RawMessage) bool {
	_, meta := fields["metadata"]
	_, name := fields["name"]
	_, link := fields["selfLink"]
	_, uid := fields["uid"]
	return !meta && name && (link || uid)
}

// apiGroupOf is the API group of an apiVersion ("" for the core group), with
// extensions read as apps for DaemonSets (the same object, served under
// both groups until 1.16).
func apiGroupOf(kind, apiVersion string) (group, version string) {
	group, version = "", apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	if kind == "DaemonSet" && group == "extensions" {
		group = "apps"
	}
	return group, version
}

// wantGroup is the API group of each kind daemoncheck reads: a kind of the
// same name in another group (config.openshift.io/v1 Node, which every
// must-gather has) is another kind.
var wantGroup = map[string]string{"DaemonSet": "apps", "ControllerRevision": "apps", "Node": "", "Pod": "", "Event": "", "PriorityClass": "scheduling.k8s.io",
	"NodeReadinessRule": collect.ReadinessGroupVersion.Group,
	"CSINode":           "storage.k8s.io", "CSIDriver": "storage.k8s.io", "ResourceSlice": "resource.k8s.io"}

// readKind is the kind daemoncheck reads that kind/apiVersion names, if
// any; an empty apiVersion (items of a List without their own) matches.
func readKind(kind, apiVersion string) (model.Kind, bool) {
	g, ok := wantGroup[kind]
	if !ok {
		return "", false
	}
	if group, _ := apiGroupOf(kind, apiVersion); apiVersion != "" && group != g {
		return "", false
	}
	return kindOf[kind], true
}

// listKind checks the kind of an object that had items and records a typed
// List as "read" even when empty.
func (r *fileReader) listKind(kind, apiVersion string) error {
	if !strings.HasSuffix(kind, "List") {
		if kind == "" {
			return errors.New("object has items but no kind")
		}
		return fmt.Errorf("object of kind %s has items but is not a List", kind)
	}
	if k, ok := readKind(strings.TrimSuffix(kind, "List"), apiVersion); ok {
		r.seen[k] = true
	}
	return nil
}

// hasKind tells whether a raw JSON object names its kind.
func hasKind(raw json.RawMessage) bool {
	var tm typeMeta
	return json.Unmarshal(raw, &tm) == nil && tm.Kind != ""
}

// object routes one decoded object; listKind and listAPIVersion are those
// of the enclosing list, whose items may omit their own kind (e.g. a
// PodList) and apiVersion. depth is 1 for a top-level object, 2 for a
// List's item, and so on.
func (r *fileReader) object(raw json.RawMessage, listKind, listAPIVersion string, depth int) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("expected a Kubernetes object (a JSON/YAML mapping)")
	}
	var tm typeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
		return fmt.Errorf("not a Kubernetes object: %s", text.OneLine(err.Error()))
	}
	kind := tm.Kind
	if kind == "" && listKind != "" && listKind != "List" {
		kind = strings.TrimSuffix(listKind, "List")
		if tm.APIVersion == "" {
			tm.APIVersion = listAPIVersion
		}
	}
	if kind == "" {
		return errors.New("object has no kind")
	}
	if strings.HasSuffix(kind, "List") {
		return r.nestedList(raw, kind, tm.APIVersion, depth)
	}
	group, version := apiGroupOf(kind, tm.APIVersion)
	if isKruiseDaemonSet(kind, tm.APIVersion) {
		return r.kruiseDaemonSet(raw, tm.APIVersion)
	}
	if _, ok := readKind(kind, tm.APIVersion); !ok {
		if _, known := wantGroup[kind]; known {
			kind += "." + group // Node.config.openshift.io, not "Node"
		}
		r.ignored[kind]++
		return nil
	}
	if ok, err := r.pluginObject(raw, kind, tm.APIVersion); ok {
		return err
	}
	if tm.APIVersion != "" && tm.APIVersion != "v1" && tm.APIVersion != "apps/v1" && tm.APIVersion != "scheduling.k8s.io/v1" && tm.APIVersion != collect.ReadinessGroupVersion.String() {
		if err := r.olderVersion(kind, tm.APIVersion, version); err != nil {
			return err
		}
	}
	r.seen[kindOf[kind]] = true
	switch kind {
	case "DaemonSet":
		return r.daemonSet(raw, tm.APIVersion)
	case "Node":
		return r.node(raw)
	case "Pod":
		return r.pod(raw)
	case "PriorityClass":
		return r.priorityClass(raw)
	case "ControllerRevision":
		return r.revision(raw)
	case "Event":
		return r.event(raw)
	case "NodeReadinessRule":
		return r.readinessRule(raw)
	}
	return nil
}

// nestedList routes the items of a List inside a List (kind, at depth).
func (r *fileReader) nestedList(raw json.RawMessage, kind, apiVersion string, depth int) error {
	if depth > maxListDepth {
		return fmt.Errorf("Lists nested more than %d deep", maxListDepth) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return fmt.Errorf("invalid %s: %s", kind, text.OneLine(err.Error()))
	}
	if err := r.listKind(kind, apiVersion); err != nil {
		return err
	}
	for i, item := range l.Items {
		if err := r.object(item, kind, apiVersion, depth+1); err != nil {
			return fmt.Errorf("%s item %d: %w", kind, i+1, err)
		}
	}
	return nil
}

// daemonSet keeps the record of a DaemonSet.
func (r *fileReader) daemonSet(raw json.RawMessage, apiVersion string) error {
	const kind = "DaemonSet"
	var o appsv1.DaemonSet
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if apiVersion == "extensions/v1beta1" || apiVersion == "apps/v1beta2" {
		// apps/v1 has no spec.templateGeneration: keep it where the
		// API server serving apps/v1 puts it, or every Pod of an old
		// cluster's dump would look outdated.
		if err := apiconv.KeepTemplateGeneration(&o, raw); err != nil {
			return err
		}
	}
	if err := needIdentity(kind, o.Namespace, o.Name, string(o.UID), true); err != nil {
		return err
	}
	if o.Spec.Selector == nil {
		// extensions/v1beta1 defaulted a missing selector from the
		// template's labels on the server; a dump always has it.
		return fmt.Errorf("DaemonSet %s/%s (%s) has no spec.selector; export it with kubectl get ds -o yaml", o.Namespace, o.Name, apiVersion)
	}
	if err := capacity.CheckPodSpec(&o.Spec.Template.Spec, "spec.template.spec"); err != nil {
		return fmt.Errorf("DaemonSet %s/%s: %w", o.Namespace, o.Name, err)
	}
	r.saneTime(&o.CreationTimestamp, kind, o.Namespace, o.Name)
	o.ManagedFields = nil
	add(r, model.DaemonSets, o.UID, o.Namespace, o.Name, o.ResourceVersion, &r.snap.DaemonSets, o)
	return nil
}

// node keeps the record of a Node.
func (r *fileReader) node(raw json.RawMessage) error {
	const kind = "Node"
	var o corev1.Node
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if err := needIdentity(kind, "-", o.Name, "-", false); err != nil {
		return err
	}
	if err := capacity.CheckNode(&o); err != nil {
		return fmt.Errorf("Node %s: %w", o.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	collect.TrimNode(&o)
	r.saneTime(&o.CreationTimestamp, kind, "", o.Name)
	add(r, model.Nodes, o.UID, "", o.Name, o.ResourceVersion, &r.snap.Nodes, o)
	return nil
}

// pod keeps the record of a Pod.
func (r *fileReader) pod(raw json.RawMessage) error {
	const kind = "Pod"
	var o corev1.Pod
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if err := needIdentity(kind, o.Namespace, o.Name, "-", false); err != nil {
		return err
	}
	dp := collect.Compact(&o)
	r.saneTimes(kind, o.Namespace, o.Name, &dp.Created, &dp.ReadySince)
	add(r, model.Pods, o.UID, o.Namespace, o.Name, o.ResourceVersion, &r.snap.DaemonPods, dp)
	if r.workloads {
		// Only --workloads adds a Pod's requests to its node's load.
		if err := capacity.CheckPodSpec(&o.Spec, "spec"); err != nil {
			return fmt.Errorf("Pod %s/%s: %w", o.Namespace, o.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
		}
		r.addLoad(&o)
	}
	return nil
}

// priorityClass keeps the record of a PriorityClass.
func (r *fileReader) priorityClass(raw json.RawMessage) error {
	const kind = "PriorityClass"
	var o schedulingv1.PriorityClass
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	if err := needIdentity(kind, "-", o.Name, "-", false); err != nil {
		return err
	}
	o.ManagedFields = nil
	add(r, model.PriorityClasses, o.UID, "", o.Name, o.ResourceVersion, &r.snap.PriorityClasses, o)
	return nil
}

// revision keeps the record of a ControllerRevision.
func (r *fileReader) revision(raw json.RawMessage) error {
	const kind = "ControllerRevision"
	var o appsv1.ControllerRevision
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	collect.TrimRevision(&o)
	add(r, model.ControllerRevisions, o.UID, o.Namespace, o.Name, o.ResourceVersion, &r.snap.ControllerRevisions, o)
	return nil
}

// event keeps the record of a Event.
func (r *fileReader) event(raw json.RawMessage) error {
	const kind = "Event"
	var o corev1.Event
	if err := decodeInto(raw, &o, kind); err != nil {
		return err
	}
	o.ManagedFields = nil
	r.saneTime(&o.CreationTimestamp, kind, o.Namespace, o.Name)
	r.saneTime(&o.FirstTimestamp, kind, o.Namespace, o.Name)
	r.saneTime(&o.LastTimestamp, kind, o.Namespace, o.Name)
	if !r.saneTimes(kind, o.Namespace, o.Name, &o.EventTime.Time) {
		o.EventTime = metav1.MicroTime{}
	}
	if o.Series != nil && !r.saneTimes(kind, o.Namespace, o.Name, &o.Series.LastObservedTime.Time) {
		o.Series.LastObservedTime = metav1.MicroTime{}
	}
	add(r, model.Events, o.UID, o.Namespace, o.Name, o.ResourceVersion, &r.snap.Events, o)
	return nil
}

// addLoad keeps what a Pod adds to its node's load, once per Pod identity
// (the newest copy, as add does for the Pod itself).
func (r *fileReader) addLoad(p *corev1.Pod) {
	id := p.Namespace + "/uid:" + string(p.UID)
	if p.UID == "" {
		id = p.Namespace + "/name:" + p.Name
	}
	l := collect.LoadOf(p)
	prev, dup := r.loadAt[id]
	switch {
	case !dup:
		r.loadAt[id] = kept{at: len(r.loads), rv: p.ResourceVersion}
		r.loads = append(r.loads, l)
	case prev.rv != p.ResourceVersion && newerRV(p.ResourceVersion, prev.rv):
		r.loads[prev.at] = l
		r.loadAt[id] = kept{at: prev.at, rv: p.ResourceVersion}
	}
}

// olderVersion accepts the older apiVersions whose objects decode as apps/v1
// unchanged in every field the analysis reads, and refuses the rest with one
// line. DaemonSet: extensions/v1beta1 and apps/v1beta2 (the same schema
// plus templateGeneration, which apps/v1 dropped; servers of those days
// filled in selector and updateStrategy, so a dump has them). apps/v1beta1
// never served DaemonSets. ControllerRevision: apps/v1beta1 and v1beta2 are
// identical to apps/v1.
func (r *fileReader) olderVersion(kind, apiVersion, version string) error {
	switch {
	case kind == "DaemonSet" && (apiVersion == "extensions/v1beta1" || apiVersion == "apps/v1beta2"):
		r.converted[apiVersion]++
		return nil
	case kind == "ControllerRevision" && (apiVersion == "apps/v1beta1" || apiVersion == "apps/v1beta2"):
		return nil
	case kind == "DaemonSet" && apiVersion == "apps/v1beta1":
		return errors.New("DaemonSet has apiVersion apps/v1beta1, which never existed; want apps/v1")
	}
	want := "v1"
	switch kind {
	case "DaemonSet", "ControllerRevision":
		want = "apps/v1"
	case "PriorityClass":
		want = "scheduling.k8s.io/v1"
	}
	return fmt.Errorf("%s has unsupported apiVersion %s (want %s)", kind, apiVersion, want)
}

// add appends o to *list unless an object with the same identity is there:
// then the copy with the newer resourceVersion wins, and a conflict (two
// different versions) is counted for one warning.
func add[T any](r *fileReader, kind model.Kind, uid types.UID, ns, name, rv string, list *[]T, o T) {
	// A UID names one object, within its namespace (ownership matches the
	// namespace too, see ownerKey): two objects of different namespaces
	// that share a UID (an edited dump) are both kept.
	id := ns + "/uid:" + string(uid)
	if uid == "" {
		id = ns + "/name:" + name
	}
	key := objKey{kind, id}
	prev, dup := r.index[key]
	if !dup {
		r.index[key] = kept{at: len(*list), rv: rv}
		*list = append(*list, o)
		return
	}
	if prev.rv == rv {
		return // the same object twice
	}
	r.conflicts++
	if r.firstConflict == "" {
		r.firstConflict = strings.TrimSuffix(string(kind), "s") + " " + strings.TrimPrefix(ns+"/"+name, "/")
	}
	if newerRV(rv, prev.rv) {
		(*list)[prev.at] = o
		r.index[key] = kept{at: prev.at, rv: rv}
	}
}

// newerRV compares resourceVersions. They are opaque to clients, but every
// real server uses etcd revisions (decimal integers); anything else keeps
// the copy read first.
func newerRV(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}

// saneTime drops a timestamp outside the years 0-9999: the reports' JSON
// and YAML encoders cannot write it, and no real object has one.
func (r *fileReader) saneTime(t *metav1.Time, kind, ns, name string) {
	if !r.saneTimes(kind, ns, name, &t.Time) {
		*t = metav1.Time{}
	}
}

func (r *fileReader) saneTimes(kind, ns, name string, ts ...*time.Time) bool {
	ok := true
	for _, t := range ts {
		if y := t.UTC().Year(); !t.IsZero() && (y < 0 || y > 9999) {
			*t = time.Time{}
			ok = false
			r.badTimes++
			if r.firstBadTime == "" {
				r.firstBadTime = kind + " " + strings.TrimPrefix(ns+"/"+name, "/")
			}
		}
	}
	return ok
}

func decodeInto(raw json.RawMessage, into any, kind string) error {
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("invalid %s: %s", kind, text.OneLine(err.Error()))
	}
	return nil
}

// needIdentity rejects objects that cannot be matched up: daemon Pods are
// tied to their DaemonSet by the owner's UID, so a DaemonSet without one
// (hand-written YAML) would silently own nothing.
func needIdentity(kind, ns, name, uid string, needUID bool) error {
	switch {
	case name == "":
		return fmt.Errorf("%s has no metadata.name", kind)
	case ns == "":
		return fmt.Errorf("%s %s has no metadata.namespace", kind, name)
	case needUID && uid == "":
		return fmt.Errorf("%s %s/%s has no metadata.uid, so its Pods cannot be matched to it by owner; export objects with kubectl get -o yaml", kind, ns, name)
	}
	return nil
}
