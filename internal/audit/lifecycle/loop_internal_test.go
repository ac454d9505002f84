package lifecycle

import "testing"

func TestFailedDaemonPodEventNamesItsNode(t *testing.T) {
	for msg, want := range map[string]string{
		"Found failed daemon pod ns/agent-x on node n1, will try to kill it":                                          "n1",
		"(combined from similar events): Found failed daemon pod ns/agent-y on node ip-10-0-0-1, will try to kill it": "ip-10-0-0-1",
		"Found failed daemon pod ns/agent-x on node , will try to kill it":                                            "",
		"Deleted pod: agent-x": "",
	} {
		if got := failedDaemonPodNode(msg); got != want {
			t.Errorf("%q: node %q, want %q", msg, got, want)
		}
	}
}
