package webhook

import (
	"strconv"
	"testing"
)

func TestMarkdown(t *testing.T) {
	tests := []struct{ md, want string }{
		0:  {"**build** passed", "*build* passed"},
		1:  {"__build__ passed", "*build* passed"},
		2:  {"an *emphasised* word", "an _emphasised_ word"},
		3:  {"_already_ styled", "_already_ styled"},
		4:  {"~~old~~ new", "~old~ new"},
		5:  {"# Release 1.2", "*Release 1.2*"},
		6:  {"see [the log](https://ci.example.com/1)", "see the log <https://ci.example.com/1>"},
		7:  {"run `**not bold**` now", "run `**not bold**` now"},
		8:  {"```\n**kept**\n```", "```\n**kept**\n```"},
		9:  {"> quoted", "> quoted"},
		10: {"* item\n* item", "* item\n* item"},
		11: {"2 * 3 * 4", "2 * 3 * 4"},
		12: {"**a** and *b*", "*a* and _b_"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := Markdown(tc.md); got != tc.want {
				t.Errorf("Markdown(%q) = %q, want %q", tc.md, got, tc.want)
			}
		})
	}
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"**a**", "*b*", "```\nx\n```", "[l](u)", "# h", "`c`", "~~s~~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		Markdown(s) // must not panic
	})
}
