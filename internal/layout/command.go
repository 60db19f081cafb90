package layout

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Program is the name every command entra-link prints starts with.
const Program = "entra-link"

// subcommands are entra-link's commands, with the words that may follow
// each (its own subcommands or positional arguments). A test in
// internal/cli keeps this in step with the command tree.
var subcommands = map[string][]string{
	"setup":              nil,
	"rotate-secret":      nil,
	"rotate-certificate": nil,
	"retire":             nil,
	"verify":             nil,
	"delete":             nil,
	"apps":               {"list"},
	"auth":               {"status", "logout"},
	"profiles":           {"list", "show"},
	"sandbox":            nil,
	"version":            nil,
	"completion":         {"bash", "zsh", "fish", "powershell"},
	"help":               nil,
}

// Subcommands lists the commands Wrap recognises after "entra-link".
func Subcommands() []string {
	out := make([]string, 0, len(subcommands))
	for k := range subcommands {
		out = append(out, k)
	}
	return out
}

// booleanFlags take no value: the word after one is not part of the
// command unless it is a flag.
var booleanFlags = map[string]bool{
	"--yes": true, "-y": true, "--sandbox": true, "--remove-old": true, "--dry-run": true, "--force": true,
	"--no-input": true, "--verbose": true, "--accessible": true, "--new-credential": true, "--prune": true,
	"--wide": true, "--all": true, "--help": true, "-h": true, "--version": true,
}

// word is a unit of layout: a word with the spaces before it, or a whole
// command.
type word struct {
	gap  string
	text string
	// cmd: an entra-link command (spaces inside), never broken.
	cmd bool
	// copyable: a command with flags, put on its own line when the text
	// around it is wrapped.
	copyable bool
}

// words splits single-spaced text into words and commands.
func words(s string) []word {
	var ws []word
	for i, f := range strings.Split(s, " ") {
		if f == "" {
			continue
		}
		gap := " "
		if i == 0 || len(ws) == 0 {
			gap = ""
		}
		ws = append(ws, word{gap: gap, text: f})
	}
	return commands(ws)
}

// wordsKeepingGaps splits s into words, keeping the spaces between them.
func wordsKeepingGaps(s string) []word {
	var ws []word
	gap := ""
	for i, f := range strings.Split(s, " ") {
		if i > 0 {
			gap += " "
		}
		if f == "" {
			continue
		}
		if len(ws) == 0 {
			gap = ""
		}
		ws = append(ws, word{gap: gap, text: f})
		gap = ""
	}
	return commands(ws)
}

// commands merges the words of each entra-link command into one word.
// Trailing sentence punctuation is split off the command's last word.
func commands(ws []word) []word {
	var out []word
	for i := 0; i < len(ws); i++ {
		n, last, tail, quoted, copyable := commandAt(ws, i)
		if n == 0 {
			out = append(out, ws[i])
			continue
		}
		var b strings.Builder
		for j := i; j < i+n; j++ {
			if j > i {
				b.WriteString(" ")
			}
			if j == i+n-1 {
				b.WriteString(last)
			} else {
				b.WriteString(ws[j].text)
			}
		}
		if strings.HasPrefix(ansi.Strip(ws[i].text), "(") {
			// An aside's closing parenthesis stays with it, wherever the
			// command goes.
			b.WriteString(tail)
			tail = ""
		}
		out = append(out, word{gap: ws[i].gap, text: b.String(), cmd: true, copyable: copyable || quoted})
		if tail != "" {
			out = append(out, word{text: tail})
		}
		i += n - 1
	}
	return out
}

// commandAt recognises a command starting at ws[i]: "entra-link", its
// subcommands, then flags with their values; or anything between quotes
// ('entra-link …' or `entra-link …`). It returns how many words the
// command spans (0: none), the text of its last word without trailing
// sentence punctuation, that punctuation, whether it was quoted, and
// whether it has flags.
func commandAt(ws []word, i int) (n int, last, tail string, quoted, copyable bool) {
	p := ansi.Strip(ws[i].text)
	var quote byte
	if len(p) > 0 && (p[0] == '\'' || p[0] == '`') {
		quote = p[0]
		p = p[1:]
	}
	if quote == 0 {
		// "(entra-link retire --app-id X)": the parenthesis opens the
		// sentence's aside; the command is what follows it.
		p = strings.TrimPrefix(p, "(")
	}
	if p != Program {
		return 0, "", "", false, false
	}
	end := i
	sub, expect := "", "sub" // sub → second → (positional) → args
	prevFlag, closed := false, false
	for j := i + 1; j < len(ws) && ws[j].gap != "" && !closed; j++ {
		t := ansi.Strip(ws[j].text)
		core, term := splitPunct(t, quote)
		if quote != 0 {
			// Quotes delimit the command exactly.
			if term {
				if !strings.HasSuffix(core, string(quote)) {
					break
				}
				closed = true
			}
			if strings.HasPrefix(core, "-") {
				copyable = true
			}
			if expect == "sub" {
				if _, ok := subcommands[strings.TrimSuffix(core, string(quote))]; ok {
					sub = core
				}
				expect = "args"
			}
			end = j
			continue
		}
		switch {
		case expect == "sub" && hasKey(subcommands, core):
			sub, expect = core, "second"
		case expect == "second" && contains(subcommands[sub], core):
			expect = "args"
			if core == "show" {
				expect = "positional"
			}
		case (expect == "positional" || expect == "second" && sub == "help") && core != "" && !strings.HasPrefix(core, "-") && !strings.ContainsAny(core, "()\"'"):
			expect = "args"
		case strings.HasPrefix(core, "-") && len(core) > 1 && core != "--":
			copyable = true
			name, _, hasValue := strings.Cut(core, "=")
			prevFlag = !hasValue && !booleanFlags[name]
			expect = "args"
			end = j
			if term {
				closed = true
			}
			continue
		case prevFlag:
			prevFlag = false
			if (core[0] == '"' || core[0] == '\'') && !(len(core) > 1 && core[len(core)-1] == core[0]) {
				// A quoted value with spaces: up to its closing quote.
				q := core[0]
				k := j + 1
				for ; k < len(ws) && ws[k].gap != ""; k++ {
					c, tk := splitPunct(ansi.Strip(ws[k].text), 0)
					if strings.HasSuffix(c, string(q)) {
						term = tk
						break
					}
				}
				if k >= len(ws) || ws[k].gap == "" {
					closed = true
					continue
				}
				j = k
			}
		default:
			closed = true
			continue
		}
		end = j
		if term {
			closed = true
		}
	}
	if end == i || (sub == "" && !copyable) {
		return 0, "", "", false, false
	}
	if quote != 0 {
		lastPlain := ansi.Strip(ws[end].text)
		core, _ := splitPunct(lastPlain, quote)
		if !strings.HasSuffix(core, string(quote)) {
			return 0, "", "", false, false
		}
	}
	raw := ws[end].text
	lastPlain := ansi.Strip(raw)
	core, _ := splitPunct(lastPlain, quote)
	tail = lastPlain[len(core):]
	if tail != "" && strings.HasSuffix(raw, tail) {
		raw = raw[:len(raw)-len(tail)]
	} else {
		tail = ""
	}
	return end - i + 1, raw, tail, quote != 0, copyable
}

// splitPunct splits sentence punctuation off the end of a word: "X." →
// "X", true. In a quoted command only what follows the closing quote is
// punctuation.
func splitPunct(t string, quote byte) (core string, term bool) {
	if quote != 0 {
		trimmed := strings.TrimRight(t, ".,;:!?)")
		if strings.HasSuffix(trimmed, string(quote)) {
			return trimmed, true
		}
		return t, false
	}
	if strings.HasSuffix(t, "..") || strings.HasSuffix(t, "/.") {
		return t, false
	}
	core = strings.TrimRight(t, ".,;:!?)")
	return core, core != t
}

func hasKey(m map[string][]string, k string) bool {
	_, ok := m[k]
	return ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Command lays out a command for copying: on a line of its own after
// indent, unwrapped. When it does not fit, the indent shrinks; when it
// still does not fit, it is continued on the next lines with a shell line
// continuation (" \") between arguments, never inside one, so that it
// still pastes as one command.
func Command(indent, cmd string, width int) []string {
	width = clampWidth(width)
	cw := ansi.StringWidth(cmd)
	iw := ansi.StringWidth(indent)
	if iw+cw <= width {
		return []string{indent + cmd}
	}
	if strings.TrimSpace(indent) == "" && cw <= width {
		return []string{strings.Repeat(" ", width-cw) + cmd}
	}
	cont := strings.Repeat(" ", iw) + "  "
	if width-ansi.StringWidth(cont) < 40 {
		cont = "  "
	}
	var lines []string
	cur := indent
	for i, g := range argGroups(cmd) {
		switch {
		case i == 0:
			cur += g
		case ansi.StringWidth(cur)+1+ansi.StringWidth(g)+2 <= width:
			cur += " " + g
		default:
			lines = append(lines, cur+" \\")
			cur = cont + g
		}
	}
	return append(lines, cur)
}

// argGroups splits a command into what must stay on one line: the program
// with its subcommands, then each flag with its value.
func argGroups(cmd string) []string {
	fields := splitArgs(cmd)
	var out []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case i == 0:
			out = append(out, f)
		case !strings.HasPrefix(f, "-") && len(out) == 1 && !strings.ContainsAny(f, "/\"'") && subcommandWord(f):
			out[0] += " " + f
		case strings.HasPrefix(f, "-") && !strings.Contains(f, "=") && !booleanFlags[f] && i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "-"):
			out = append(out, f+" "+fields[i+1])
			i++
		default:
			out = append(out, f)
		}
	}
	return out
}

func subcommandWord(s string) bool {
	if _, ok := subcommands[s]; ok {
		return true
	}
	for _, follow := range subcommands {
		for _, f := range follow {
			if f == s {
				return true
			}
		}
	}
	return false
}

// splitArgs splits a command at spaces outside quotes.
func splitArgs(cmd string) []string {
	var out []string
	var b strings.Builder
	var q rune
	for _, r := range cmd {
		switch {
		case q != 0:
			b.WriteRune(r)
			if r == q {
				q = 0
			}
		case r == '"' || r == '\'':
			q = r
			b.WriteRune(r)
		case r == ' ':
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// Commands lists the entra-link commands in text, single-spaced, as
// Wrap recognises them (tests use it to check that none is broken).
func Commands(text string) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		for _, w := range words(strings.Join(strings.Fields(para), " ")) {
			if w.cmd {
				out = append(out, unquote(ansi.Strip(w.text)))
			}
		}
	}
	return out
}
