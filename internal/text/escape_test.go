package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"plain text: 50% done":        "plain text: 50% done",
		"\x1b[2J\x1b[Hcleared":        `\x1b[2J\x1b[Hcleared`,
		"a\nb\r\tc\x00\x7f\u0085":     `a\nb\r\tc\x00\x7f\x85`,
		"evil\u202egnp.exe":           `evil\u202egnp.exe`,
		"\u2066x\u2069 \u200bz\ufeff": `\u2066x\u2069 \u200bz\ufeff`,
		"soft\u00adhyphen":            `soft\u00adhyphen`,
		"line\u2028sep":               `line\u2028sep`,
		"non\ufffe\uffffchar":         `non\ufffe\uffffchar`,
		"bad \xff\xfe bytes":          `bad \xff\xfe bytes`,
		"x ##[stop-commands]tok":      `x ##\[stop-commands]tok`,
		"::error::forged":             `\::error::forged`,
		"  \u00a0::error::forged":     "  \u00a0\\::error::forged",
		"fe80::1 and arn:aws:eks":     "fe80::1 and arn:aws:eks",
		"a\n::error::forged":          `a\n::error::forged`,
		"naïve 日本 emoji 🚀":            "naïve 日本 emoji 🚀",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinesKeepsNewlinesAndGuardsEachLine(t *testing.T) {
	got := Lines("first\n::error::forged\n  ::warning::x\r\nlast ##[group]")
	want := "first\n\\::error::forged\n  \\::warning::x\\r\nlast ##\\[group]"
	if got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

func TestTruncateCutsOnRuneBoundaries(t *testing.T) {
	s := strings.Repeat("é", 10) // 2 bytes each
	for n := 0; n <= len(s)+1; n++ {
		got := Truncate(s, n)
		if !utf8.ValidString(got) || len(got) > n || len(got) < n-1 || !strings.HasPrefix(s, got) {
			t.Errorf("Truncate(%d) = %q", n, got)
		}
	}
	if got := Truncate("🚀x", 3); got != "" {
		t.Errorf("Truncate of a 4-byte rune to 3 = %q", got)
	}
}
