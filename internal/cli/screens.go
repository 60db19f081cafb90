package cli

import (
	"fmt"
	"io"

	"github.com/entra-link/entra-link/internal/layout"
)

// say writes text wrapped to the width of the terminal w writes to.
func say(w io.Writer, text string) {
	_, _ = io.WriteString(w, layout.Text(layout.Wrap(text, layout.Width(w))))
}

// sayLines writes lines laid out by hand (labels, lists), each wrapped to
// the terminal with its continuation hanging under its text.
func sayLines(w io.Writer, lines ...string) {
	var out []string
	for _, l := range lines {
		out = append(out, layout.Line(l, layout.Width(w))...)
	}
	_, _ = io.WriteString(w, layout.Text(out))
}

// sandboxBanner says, before anything else, that the tenant is emulated.
func sandboxBanner(w io.Writer, name, domain, dir string) {
	text := fmt.Sprintf("SANDBOX: using the emulated tenant %q (%s), kept in %s; not a real Microsoft Entra tenant.", name, domain, dir)
	_, _ = io.WriteString(w, layout.Text(layout.Hang("", "  ", text, layout.Width(w))))
}
