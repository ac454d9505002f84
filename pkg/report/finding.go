package report

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Reason is the machine reason behind a finding: what the finding's cause
// is rendered from, and what code decides on (never the message text).
// Values are part of the API: new ones may be added; a consumer must treat
// an unknown one as "other".
type Reason string

const (
	// MissingPod
	ReasonNoPod        Reason = "NoPod"        // no daemon Pod on a targeted node
	ReasonFailedCreate Reason = "FailedCreate" // the controller's last create failed (Params.Event)
	ReasonPodReleased  Reason = "PodReleased"  // a relabelled Pod left the DaemonSet
	ReasonNodeTooNew   Reason = "NodeTooNew"   // the node joined moments ago
	// PendingPod
	ReasonNoTargetNode   Reason = "NoTargetNode"   // a Pod the controller cannot attribute to a node
	ReasonNotStarted     Reason = "NotStarted"     // bound, not started (Params.State)
	ReasonHostPortTaken  Reason = "HostPortTaken"  // the scheduler found the host port taken
	ReasonInsufficient   Reason = "Insufficient"   // the scheduler found too little of Params.Resource
	ReasonDaemonsDontFit Reason = "DaemonsDontFit" // the node's daemons together ask more than its allocatable
	ReasonUnschedulable  Reason = "Unschedulable"  // another scheduler reason (Params.State)
	ReasonNotScheduled   Reason = "NotScheduled"   // not scheduled, no reason known
	// UnhealthyPod: Params.State is the container or Pod reason
	// (CrashLoopBackOff, ImagePullBackOff, OOMKilled, Failed ...).
	ReasonPodNotReady Reason = "PodNotReady"
	// DuplicatePods
	ReasonSeveralPods Reason = "SeveralPods"
	// MisscheduledPod, NoTargets, UncoveredNode: Params.Rule says which
	// scheduling rule (Taint, NodeSelector, NodeAffinity, NodeName).
	ReasonNotTargeted         Reason = "NotTargeted"
	ReasonTargetsNoNode       Reason = "TargetsNoNode"
	ReasonRequiredNotTargeted Reason = "RequiredNotTargeted"
	// OrphanedPod
	ReasonNodeGone Reason = "NodeGone"
	// OutdatedPod
	ReasonOldRevision Reason = "OldRevision"
	// StaleStatus
	ReasonStatusStale Reason = "StatusStale"
	// RolloutStuck
	ReasonNoProgress      Reason = "NoProgress"
	ReasonBudgetExhausted Reason = "BudgetExhausted"
	// HostPortConflict
	ReasonHostPortClaimed Reason = "HostPortClaimed"
	// NodeTooSmall uses ReasonDaemonsDontFit.
	// LowPriorityAgent
	ReasonNoPriorityClass     Reason = "NoPriorityClass"
	ReasonBelowWorkloads      Reason = "BelowWorkloads"
	ReasonBelowGlobalDefault  Reason = "BelowGlobalDefault"
	ReasonNoMemoryRequest     Reason = "NoMemoryRequest"
	ReasonNodeConditionPrefix        = "Node" // a node condition explains it: Node + NodeCause
)

// Readiness gates (GateDeadlock, NodeHeldByGate, GateWithoutLifter):
// Params.Detail is the gate's taint (key[=value]:Effect), Params.Other its
// owner (providers.GateOwner), Params.State, for a held node, the state of
// the DaemonSet's Pod there (NoPod, or the Pod's state).
const (
	ReasonGateNotTolerated Reason = "GateNotTolerated" // the gate waits for the DaemonSet, which does not tolerate its taint
	ReasonGateWaiting      Reason = "GateWaiting"      // held for less than GateGrace
	ReasonGateOverdue      Reason = "GateOverdue"      // held for GateGrace or longer
	ReasonGateNoLifter     Reason = "GateNoLifter"     // no DaemonSet names the taint, no controller removes it
	ReasonGateNoRule       Reason = "GateNoRule"       // a readiness.k8s.io/ taint no NodeReadinessRule manages
)

// Fragile coverage and node plugins (internal/audit/pods/fragile.go,
// internal/audit/storage).
const (
	// MisscheduledPod: a daemon Pod left running on a node that gained a
	// NoSchedule taint the DaemonSet does not tolerate (Params.Rule Taint,
	// Params.Detail the taint, Params.State TaintAddedUnderPod when the
	// taint's timeAdded is after the Pod's creation): the node is served
	// now, and no replacement would be scheduled there.
	ReasonFragileCoverage Reason = "FragileCoverage"
	// DriverWithoutPlugin: Params.Other is the driver; Params.Rule why the
	// DaemonSet does not target the node (Taint, NodeSelector ...).
	ReasonCSIRegistered  Reason = "CSIRegistered"  // CSINode lists the driver on the node
	ReasonSlicePublished Reason = "SlicePublished" // a ResourceSlice of the driver names the node (Params.Resource: the slices)
	// PluginNotRegistered: a running, Ready plugin Pod whose driver
	// (Params.Other) the node's CSINode does not list.
	ReasonCSINotRegistered Reason = "CSINotRegistered"
)

// Fragile-coverage states (Params.State of ReasonFragileCoverage).
const (
	// StateTaintAddedUnderPod: the taint's timeAdded is after the Pod's
	// creation, so the node changed under the running Pod.
	StateTaintAddedUnderPod = "TaintAddedUnderPod"
	// StateTaintBeforePod: the taint is older than the Pod, so the
	// DaemonSet's tolerations changed since the Pod was made.
	StateTaintBeforePod = "TaintBeforePod"
)

// Node lifecycle (internal/audit/nodestate).
const (
	// RolloutStuck: every Pod that holds the rollout's budget is on a
	// node in a lifecycle operation (Params.Nodes): wait, it frees
	// itself when the nodes leave or come back.
	ReasonBlockedByNodeLifecycle Reason = "BlockedByNodeLifecycle"
	// RolloutStuck: every Pod that holds the budget is on a broken node
	// (NotReady, Unreachable, ...; Params.Nodes): fix or remove the nodes.
	ReasonBlockedByBrokenNodes Reason = "BlockedByBrokenNodes"
	// RecreateLoop: the controller keeps deleting the failed daemon Pods
	// the kubelet of Params.Nodes[0] rejects or terminates, and creating
	// new ones (Params.Events: how many, from when to when).
	ReasonFailedPodsRecreated Reason = "FailedPodsRecreated"
)

// NodeState is a node in a lifecycle operation (or broken), as a finding
// cites it: which node, which cause (a NodeCause), the evidence (a
// condition, taint or annotation, or Pod), and since when where known (a
// condition's lastTransitionTime, a taint's timeAdded).
type NodeState struct {
	Node     string     `json:"node"`
	Cause    string     `json:"cause"`
	Evidence string     `json:"evidence,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
}

// EventSpan sums the events of one reason a finding cites: how many (the
// events' counts added up), and the first and last time seen.
type EventSpan struct {
	Reason string    `json:"reason"`
	Count  int32     `json:"count"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
}

// Drift within a DaemonSet and platforms (internal/audit/drift,
// internal/audit/pods/platform.go).
const (
	// ImageDrift: the Pod's container runs Params.Digest, not the digest
	// most Pods of its revision run on Params.Platform.
	ReasonDigestDiffers Reason = "DigestDiffers"
	// OutdatedPod of an OnDelete DaemonSet: old Pods stay until deleted
	// (Params.Pool is the node's pool).
	ReasonOnDeleteStraggler Reason = "OnDeleteStraggler"
	// VersionSkew: Params.Version against Params.PeerVersion (the API
	// server's or the kubelet's).
	ReasonNewerThanAPIServer Reason = "NewerThanAPIServer"
	ReasonTooOldForAPIServer Reason = "TooOldForAPIServer"
	ReasonKubeletSkew        Reason = "KubeletSkew"
	// UnhealthyPod: the image has no variant for Params.Platform (the
	// pull found none), or its binary is not built for it (exec format
	// error).
	ReasonNoPlatformVariant Reason = "NoPlatformVariant"
	ReasonWrongArchitecture Reason = "WrongArchitecture"
)

// Params are the structured values a finding's cause and message are
// rendered from. Only the fields that apply are set.
type Params struct {
	// State is a Pod or container state or reason (CrashLoopBackOff).
	State string `json:"state,omitempty"`
	// Resource names what is short: cpu, memory, a host port ...
	Resource string `json:"resource,omitempty"`
	// Rule is the scheduling rule that decides: Taint, NodeSelector,
	// NodeAffinity, NodeName; Detail the rule itself (a taint, a label).
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Image is the image involved (pull errors).
	Image string `json:"image,omitempty"`
	// Revision and CurrentRevision are controller-revision hashes.
	Revision        string `json:"revision,omitempty"`
	CurrentRevision string `json:"currentRevision,omitempty"`
	// Port is a host port (protocol/port or ip:port).
	Port string `json:"port,omitempty"`
	// Other names the other party: a DaemonSet holding a port, a policy
	// rule, the containers without a request.
	Other string `json:"other,omitempty"`
	// Event is the reason and message of the event the cause cites.
	Event string `json:"event,omitempty"`
	// Nodes are the nodes a finding waits for or blames, with their
	// lifecycle state (node lifecycle: RolloutStuck, RecreateLoop).
	Nodes []NodeState `json:"nodes,omitempty"`
	// Events sums the events a finding is made of (RecreateLoop).
	Events *EventSpan `json:"events,omitempty"`
	// Drift within a DaemonSet and platforms.
	// Pool is the node's pool (OnDelete stragglers).
	Pool string `json:"pool,omitempty"`
	// Platform is a node's os/arch ("linux/arm64").
	Platform string `json:"platform,omitempty"`
	// Digest is the image digest a container runs (its imageID's digest).
	Digest string `json:"digest,omitempty"`
	// Version is a node agent's version (from its image tag), PeerVersion
	// the version it is judged against (the API server's, the kubelet's).
	Version     string `json:"version,omitempty"`
	PeerVersion string `json:"peerVersion,omitempty"`
}

// Key is the Params in one comparable string.
func (p Params) Key() string {
	k := strings.Join([]string{p.State, p.Resource, p.Rule, p.Detail, p.Image, p.Revision, p.CurrentRevision, p.Port, p.Other, p.Event}, "\x00")
	// The nodes and events only where set: keys of other findings stay
	// as they were.
	for _, n := range p.Nodes {
		k += "\x00" + n.Node + "\x01" + n.Cause + "\x01" + n.Evidence
		if n.Since != nil {
			k += "\x01" + n.Since.UTC().Format(time.RFC3339)
		}
	}
	if e := p.Events; e != nil {
		k += "\x00" + e.Reason + "\x01" + strconv.Itoa(int(e.Count)) + "\x01" + e.First.UTC().Format(time.RFC3339) + "\x01" + e.Last.UTC().Format(time.RFC3339)
	}
	return k + p.driftKey()
}

// driftKey is the part of Key made of the drift and platform fields: empty
// when none is set, so that the keys (and problem IDs) of findings without
// them stay what they were.
func (p Params) driftKey() string {
	if p.Pool == "" && p.Platform == "" && p.Digest == "" && p.Version == "" && p.PeerVersion == "" {
		return ""
	}
	return "\x00" + strings.Join([]string{p.Pool, p.Platform, p.Digest, p.Version, p.PeerVersion}, "\x00")
}

// State says whether a finding counts.
type State string

const (
	// StateActive findings count, and fail the gate when selected.
	StateActive State = "Active"
	// StateExempted: a daemoncheck.io/exempt annotation sets it aside.
	StateExempted State = "Exempted"
	// StateHeldBack: --grace holds it back (a young node or Pod).
	StateHeldBack State = "HeldBack"
)

// Command is a command a fix suggests, as an argument vector: printers
// render it for their context (a fleet adds --context after "kubectl", a
// terminal quotes it for a POSIX shell), never by editing text.
type Command struct {
	Argv []string `json:"argv"`
	// Writes is true when the command changes the cluster (a patch, a
	// delete), false for reads (describe, logs).
	Writes bool `json:"writes,omitempty"`
}

// Cmd returns a read-only Command.
func Cmd(argv ...string) Command { return Command{Argv: argv} }

// WriteCmd returns a Command that changes the cluster.
func WriteCmd(argv ...string) Command { return Command{Argv: argv, Writes: true} }

// Advice is a fix in data: Text in words, where "{0}", "{1}" ... stand for
// Commands[0], Commands[1] ... Suggestion and Problem.Fix are Advice
// rendered for a plain terminal; a fleet renders it again with each
// cluster's context.
type Advice struct {
	Text     string    `json:"text"`
	Commands []Command `json:"commands,omitempty"`
}

// Advise builds Advice from text with "{i}" markers and their commands.
func Advise(text string, cmds ...Command) *Advice {
	return &Advice{Text: text, Commands: cmds}
}

// RenderOptions say how commands are written.
type RenderOptions struct {
	// KubeContext, when set, is added to every kubectl command
	// (--context NAME): in a fleet, a command run as written must act on
	// the cluster the finding is about.
	KubeContext string
}

// Render writes the advice as one line of text.
func (a *Advice) Render(o RenderOptions) string {
	if a == nil {
		return ""
	}
	if len(a.Commands) == 0 {
		return a.Text
	}
	var b strings.Builder
	rest := a.Text
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		n, err := strconv.Atoi(rest[i+1 : i+max(j, 1)])
		if j < 0 || err != nil || n < 0 || n >= len(a.Commands) {
			b.WriteString(rest[:i+1])
			rest = rest[i+1:]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(a.Commands[n].Render(o))
		rest = rest[i+j+1:]
	}
	return b.String()
}

// Render writes the command as one POSIX shell line, each argument quoted
// where a shell would read it otherwise.
func (c Command) Render(o RenderOptions) string {
	argv := c.Argv
	if o.KubeContext != "" && len(argv) > 0 && argv[0] == "kubectl" {
		argv = append([]string{"kubectl", "--context", o.KubeContext}, argv[1:]...)
	}
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = text.ShellQuote(a)
	}
	return strings.Join(words, " ")
}

// FindingID is the stable identity of a finding: the same DaemonSet (by UID,
// else namespace/name), node, Pod, type and reason give the same ID in every
// run, whatever else changes (ages, messages, quantities, the report's
// order). Problems, watch diffs and fleet rows refer to findings by it.
func FindingID(dsKey string, f *Finding) string {
	h := sha256.New()
	for _, s := range []string{dsKey, f.Node, f.Pod, string(f.Type), string(f.Reason)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Fingerprint is what a finding says, without its words or ages: two
// findings with the same ID and fingerprint say the same thing (the watch
// prints no change between them).
func (f *Finding) Fingerprint() string {
	return strings.Join([]string{f.ID, string(f.Severity), string(f.Reason), f.Params.Key(), string(f.StateOf()), boolWord(f.Failing), f.NodeCause}, "\x00")
}

func boolWord(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// StateOf returns the finding's state from its stamps.
func (f *Finding) StateOf() State {
	switch {
	case f.Exempted != "":
		return StateExempted
	case f.HeldBack != "":
		return StateHeldBack
	}
	return StateActive
}

// ProblemID is the stable identity of a problem: its type, the DaemonSet it
// belongs to ("" for a problem across DaemonSets), and the reason and
// parameters (or, for a node condition, the cause) of its group.
func ProblemID(daemonSet, typ string, reason Reason, key string) string {
	h := sha256.New()
	for _, s := range []string{daemonSet, typ, string(reason), key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
