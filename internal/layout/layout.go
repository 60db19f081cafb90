// Package layout lays out text for the terminal. Every line entra-link
// prints goes through it, so that the output reads well in an 80×24
// terminal and whatever a user copies from it still works:
//
//   - text is wrapped at word boundaries to the terminal's width (80
//     columns when the width is unknown: a pipe, a file, a test);
//   - a word is never broken, so commands, flags, URLs, paths and ids stay
//     whole; a token longer than the width stays whole on a line of its own;
//   - an entra-link command inside text is one unbreakable unit, and when
//     the text has to be wrapped, a command with flags (one to copy) is put
//     on a line of its own, unwrapped (see Command);
//   - continuation lines hang under the text of a list item or a label.
//
// Widths are display widths: escape sequences (colour) count zero, wide
// runes two.
package layout

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"
)

// DefaultWidth is the width assumed when the terminal's is unknown.
const DefaultWidth = 80

// DefaultHeight is the height assumed when the terminal's is unknown.
const DefaultHeight = 24

// minWidth is the narrowest width text is wrapped to; narrower terminals
// get lines of this width (and wrap them themselves).
const minWidth = 20

// Width returns the width of the terminal w writes to, or DefaultWidth when
// w is not a terminal.
func Width(w io.Writer) int {
	width, _ := Size(w)
	return width
}

// Size returns the width and height of the terminal w writes to, or
// DefaultWidth×DefaultHeight when w is not a terminal.
func Size(w io.Writer) (width, height int) {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if c, r, err := term.GetSize(int(f.Fd())); err == nil && c > 0 && r > 0 {
			return c, r
		}
	}
	return DefaultWidth, DefaultHeight
}

// StringWidth is the display width of s.
func StringWidth(s string) int { return ansi.StringWidth(s) }

// Truncate shortens s to at most width columns, ending it with "…" when
// something was cut. Use it only for text that is also shown in full
// elsewhere (picker labels, table cells with a --wide form).
func Truncate(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	return strings.TrimRight(ansi.Truncate(s, width-1, ""), " ,;") + "…"
}

// Pad right-pads s with spaces to width columns.
func Pad(s string, width int) string {
	if n := width - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// Text joins lines into printable text, each line ended with "\n".
func Text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func clampWidth(width int) int {
	if width <= 0 {
		return DefaultWidth
	}
	return max(width, minWidth)
}

// Wrap wraps text to width. Runs of spaces collapse; a newline in text
// starts a new line, and an empty line is kept as a paragraph break.
func Wrap(text string, width int) []string {
	return Hang("", "", text, width)
}

// Indent wraps text with every line starting with prefix.
func Indent(prefix, text string, width int) []string {
	return Hang(prefix, prefix, text, width)
}

// Hang wraps text with its first line starting with first and every
// further line with rest: Hang("  1. ", "     ", item, w) for a numbered
// item, Hang("entra-link: ", "  ", msg, w) for an error.
func Hang(first, rest, text string, width int) []string {
	return hang(first, rest, text, clampWidth(width))
}

func hang(first, rest, text string, width int) []string {
	var out []string
	for i, para := range strings.Split(text, "\n") {
		p := rest
		if i == 0 {
			p = first
		}
		ws := words(strings.Join(strings.Fields(para), " "))
		if len(ws) == 0 {
			out = append(out, strings.TrimRight(p, " "))
			continue
		}
		out = append(out, fill(ws, p, rest, width)...)
	}
	return out
}

// Line wraps one line as it was laid out by hand, keeping its spacing and
// continuing under its text: a line "  1. long…" continues under "long",
// "  Tenant     value…" under "value", "✓ step…" under "step".
func Line(line string, width int) []string {
	width = clampWidth(width)
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	// A flag's help continues under its column, as wide as setup's
	// longest flag (--service-management-reference string) makes it.
	hang := min(hangOf(line), width*3/5)
	// The line's own indentation is kept as-is (it may carry escape
	// sequences); the words after it keep their spacing.
	lead := leadingSpaces(line)
	rest := strings.Repeat(" ", hang)
	if strings.HasPrefix(line[len(lead):], "# ") {
		// A shell comment stays one on every line.
		rest = lead + "# "
	}
	ws := wordsKeepingGaps(line[len(lead):])
	return fill(ws, lead, rest, width)
}

// Lines wraps every line of text with Line.
func Lines(text string, width int) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		out = append(out, Line(l, width)...)
	}
	return out
}

// hangOf is where the text of a line laid out by hand starts: after its
// indentation, after a list mark or number, or in the value column of a
// "label   value" row (a flag's help: "--auth string   how to sign in").
func hangOf(line string) int {
	plain := ansi.Strip(line)
	indent := len(plain) - len(strings.TrimLeft(plain, " "))
	hang := indent
	rest := plain[indent:]
	limit := 20 // "rotate-certificate  Add a new …" is a row too
	if f := strings.Fields(rest); len(f) > 1 && isMark(f[0]) && strings.HasPrefix(rest, f[0]+" ") {
		// A mark or list number ("✓", "•", "1."): continue under the text,
		// or under the value of a "1. label   value" row.
		hang += ansi.StringWidth(f[0]) + 1
		rest = rest[len(f[0])+1:]
		limit = 32
	}
	if i := strings.Index(rest, "  "); i > 0 && (i < limit || rest[0] == '-') && !strings.Contains(rest[:i], Program) {
		// "Label   value": continue under the value.
		hang += ansi.StringWidth(rest[:i]) + len(rest[i:]) - len(strings.TrimLeft(rest[i:], " "))
	}
	return hang
}

// Reflow wraps text laid out by hand for another width (a command's help):
// a line that continues the one before it (indented as far as that line's
// text, and not itself a list item, a flag, a comment or a command) is
// joined to it; then each line is wrapped with Line.
func Reflow(text string, width int) []string {
	var logical []string
	prev := -1
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			logical = append(logical, "")
			prev = -1
			continue
		}
		if prev >= 0 && strings.HasSuffix(logical[prev], " \\") {
			// A command continued by hand: one command again, laid out
			// for this width below.
			logical[prev] = strings.TrimSuffix(logical[prev], "\\") + strings.TrimSpace(l)
			continue
		}
		if prev >= 0 && continues(logical[prev], l) {
			logical[prev] += " " + strings.TrimSpace(l)
			continue
		}
		if prev >= 0 && comments(logical[prev], l) {
			logical[prev] += " " + strings.TrimPrefix(strings.TrimSpace(l), "# ")
			continue
		}
		logical = append(logical, strings.TrimRight(l, " "))
		prev = len(logical) - 1
	}
	var out []string
	for _, l := range logical {
		out = append(out, Line(l, width)...)
	}
	return out
}

// isCommandLine: the line starts with an entra-link command.
func isCommandLine(t string) bool {
	ws := words(strings.Join(strings.Fields(t), " "))
	return len(ws) > 0 && ws[0].cmd
}

// comments reports whether p and l are one shell comment on two lines.
func comments(p, l string) bool {
	pp, lp := ansi.Strip(p), ansi.Strip(l)
	return strings.HasPrefix(strings.TrimSpace(pp), "# ") && strings.HasPrefix(strings.TrimSpace(lp), "# ") &&
		leadingSpaces(pp) == leadingSpaces(lp)
}

// continues reports whether line l continues the text of line p.
func continues(p, l string) bool {
	pp, lp := ansi.Strip(p), ansi.Strip(l)
	ind := len(lp) - len(strings.TrimLeft(lp, " "))
	t := lp[ind:]
	pt := strings.TrimSpace(pp)
	switch {
	case strings.HasPrefix(t, "#"), strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--"), strings.HasPrefix(t, "•"), isCommandLine(t),
		strings.HasPrefix(t, "export "), strings.HasPrefix(pt, "#"), isCommandLine(pt), strings.HasSuffix(pt, ":"):
		return false
	}
	if f := strings.Fields(t); len(f) > 0 && isMark(f[0]) {
		return false
	}
	// A "label   value" row starts a line of its own (a table's next row).
	if hangOf(lp) > ind {
		return false
	}
	return ind == hangOf(pp)
}

func leadingSpaces(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " "))]
}

// isMark: a list number ("12.") or a single non-letter symbol ("✓", "•").
func isMark(tok string) bool {
	r := []rune(ansi.Strip(tok))
	if len(r) == 1 {
		c := r[0]
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}
	if len(r) < 2 || len(r) > 4 || r[len(r)-1] != '.' {
		return false
	}
	for _, c := range r[:len(r)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// List lays out items one under the other, each starting with mark
// ("  • ", "  - ") and continuing under its text.
func List(mark string, items []string, width int) []string {
	rest := strings.Repeat(" ", ansi.StringWidth(mark))
	var out []string
	for _, it := range items {
		out = append(out, Hang(mark, rest, it, width)...)
	}
	return out
}

// Numbered lays out items as "indent1. item", continuing under the text.
func Numbered(indent string, items []string, width int) []string {
	var out []string
	numW := len(itoa(len(items)))
	for i, it := range items {
		n := itoa(i + 1)
		mark := indent + strings.Repeat(" ", numW-len(n)) + n + ". "
		out = append(out, Hang(mark, strings.Repeat(" ", len(mark)), it, width)...)
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// Labeled lays out "label  value" pairs with the values in one column,
// each value continuing under itself.
func Labeled(indent string, pairs [][2]string, width int) []string {
	lw := 0
	for _, p := range pairs {
		lw = max(lw, ansi.StringWidth(p[0]))
	}
	var out []string
	for _, p := range pairs {
		first := indent + Pad(p[0], lw) + "  "
		out = append(out, Hang(first, strings.Repeat(" ", ansi.StringWidth(first)), p[1], width)...)
	}
	return out
}

// fill lays words out in lines of at most width columns: the first line
// starts with first, the others with rest.
func fill(ws []word, first, rest string, width int) []string {
	total := ansi.StringWidth(first)
	for i, w := range ws {
		if i > 0 {
			total += len(w.gap)
		}
		total += ansi.StringWidth(w.text)
	}
	if total <= width {
		var b strings.Builder
		b.WriteString(first)
		for i, w := range ws {
			if i > 0 {
				b.WriteString(w.gap)
			}
			b.WriteString(w.text)
		}
		return []string{b.String()}
	}
	var lines []string
	cur, curW, empty := first, ansi.StringWidth(first), true
	flush := func() {
		lines = append(lines, strings.TrimRight(cur, " "))
		cur, curW, empty = rest, ansi.StringWidth(rest), true
	}
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		tw := ansi.StringWidth(w.text)
		if w.cmd && w.copyable {
			// A command to copy: on a line of its own, unwrapped. Sentence
			// punctuation after it would be copied with it: it goes.
			indent := cur
			if !empty {
				flush()
				indent = rest + "  "
			} else if cur == rest && len(lines) > 0 {
				indent = rest + "  "
			}
			lines = append(lines, Command(indent, unquote(w.text), width)...)
			cur, curW, empty = rest, ansi.StringWidth(rest), true
			if i+1 < len(ws) && ws[i+1].gap == "" && strings.Trim(ws[i+1].text, ".,;:") == "" {
				i++
			}
			continue
		}
		// Punctuation glued to a word (a command's full stop) moves with it.
		// and a lone dash never starts a line.
		unit := tw
		for j := i + 1; j < len(ws) && (ws[j].gap == "" || isDash(ws[j].text)) && !(ws[j].cmd && ws[j].copyable); j++ {
			unit += len(ws[j].gap) + ansi.StringWidth(ws[j].text)
		}
		switch {
		case empty:
			cur += w.text
			curW += tw
			empty = false
		case curW+len(w.gap)+unit <= width || w.gap == "" || isDash(w.text):
			cur += w.gap + w.text
			curW += len(w.gap) + tw
		default:
			flush()
			cur += w.text
			curW += tw
			empty = false
		}
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(cur, " "))
	}
	return lines
}

func isDash(s string) bool { return s == "-" || s == "–" || s == "—" }

// unquote strips the quotes around a quoted command ('…', `…`).
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '`') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
