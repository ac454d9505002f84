package textdiff

import "testing"

func TestUnified(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{name: "equal texts have no diff", want: "a\nb\n", got: "a\nb\n", diff: ""},
		{
			name: "changed line in the middle shows three lines of context",
			want: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", got: "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			diff: "--- want\n+++ got\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		},
		{
			name: "added and removed lines far apart make two hunks",
			want: "a\n1\n2\n3\n4\n5\n6\n7\n8\nz\n", got: "1\n2\n3\n4\n5\n6\n7\n8\nz\nadded\n",
			diff: "--- want\n+++ got\n@@ -1,4 +1,3 @@\n-a\n 1\n 2\n 3\n@@ -8,3 +7,4 @@\n 7\n 8\n z\n+added\n",
		},
		{
			name: "insertion into an empty text",
			want: "", got: "x\n",
			diff: "--- want\n+++ got\n@@ -0,0 +1 @@\n+x\n",
		},
		{
			name: "missing final newline is a change",
			want: "a\nb\n", got: "a\nb",
			diff: "--- want\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Unified("want", "got", tt.want, tt.got); d != tt.diff {
				t.Errorf("Unified:\n%s\nwant:\n%s", d, tt.diff)
			}
		})
	}
}
