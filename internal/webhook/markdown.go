package webhook

import (
	"regexp"
	"strings"
)

// Markdown turns the Markdown that CI systems, monitoring and chat tools
// post into XEP-0393 message styling, which XMPP clients render: strong
// (**x**, __x__) becomes *x*, emphasis (*x*, _x_) _x_, strikethrough
// (~~x~~) ~x~, a heading its text in *…*, a link "text <url>"; code spans,
// code blocks and quotes are written the same way in both and stay as
// they are. Nothing inside code is changed.
func Markdown(md string) string {
	var out []string
	inBlock := false
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
			out = append(out, strings.TrimSpace(line))
			continue
		}
		if inBlock {
			out = append(out, line)
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			line = "*" + strings.TrimSpace(m[1]) + "*"
			out = append(out, line)
			continue
		}
		out = append(out, inline(line))
	}
	return strings.Join(out, "\n")
}

var (
	heading = regexp.MustCompile(`^#{1,6}\s+(.+?)\s*#*\s*$`)
	link    = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	strong  = regexp.MustCompile(`\*\*([^*\s](?:[^*]*[^*\s])?)\*\*|__([^_\s](?:[^_]*[^_\s])?)__`)
	emph    = regexp.MustCompile(`(^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*([^*\w]|$)`)
	strike  = regexp.MustCompile(`~~([^~\s](?:[^~]*[^~\s])?)~~`)
)

// inline converts the spans of one line, leaving code spans alone.
func inline(line string) string {
	parts := strings.Split(line, "`")
	for i := 0; i < len(parts); i += 2 { // even parts are outside `code`
		p := parts[i]
		p = link.ReplaceAllString(p, "$1 <$2>")
		p = emph.ReplaceAllString(p, "${1}_${2}_${3}")
		p = strong.ReplaceAllStringFunc(p, func(s string) string {
			return "*" + s[2:len(s)-2] + "*"
		})
		p = strike.ReplaceAllString(p, "~$1~")
		parts[i] = p
	}
	return strings.Join(parts, "`")
}
