package report

import "testing"

// What the default view prints as a node problem (NodeUnreachable) is a
// word --ignore and --fail-on accept, and it selects the findings that
// node condition explains, not others of their type.
func TestNodeProblemsAreAcceptedByIgnoreAndFailOn(t *testing.T) {
	ignore, err := ParseTypes([]string{"NodeUnreachable"})
	if err != nil {
		t.Fatalf("--ignore NodeUnreachable: %v", err)
	}
	onNode := &Finding{Type: UnhealthyPod, NodeCause: "Unreachable"}
	own := &Finding{Type: UnhealthyPod}
	if !Ignored(ignore, onNode) || Ignored(ignore, own) {
		t.Errorf("--ignore NodeUnreachable: ignores the unreachable node's finding %v, the Pod's own %v", Ignored(ignore, onNode), Ignored(ignore, own))
	}
	sel, err := ParseSelector([]string{"NodeNotReady"})
	if err != nil {
		t.Fatalf("--fail-on NodeNotReady: %v", err)
	}
	if !sel.Selects(&Finding{Type: MissingPod, NodeCause: "NotReady"}) || sel.Selects(&Finding{Type: MissingPod}) {
		t.Errorf("--fail-on NodeNotReady selects the wrong findings")
	}
	g := Gate{Ignore: ignore}
	if got := g.Settings().Ignore; len(got) != 1 || got[0] != "NodeUnreachable" {
		t.Errorf("the report records --ignore as %v", got)
	}
}
