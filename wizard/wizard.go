// Package wizard is entra-link's interactive terminal UI: huh forms that
// fill the same options the command-line flags fill, a progress view while
// the tenant is changed, and the hand-over screen.
//
// The package is a leaf. It knows nothing of cobra, Microsoft Graph or the
// setup engine: the caller hands it callbacks (sign in, check a domain,
// build the review, apply) and receives the filled answers and the result.
// Every screen is drawn on the writer it is given (stderr in entra-link), so
// standard output stays free for data.
package wizard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"

	"github.com/entra-link/entra-link/internal/layout"
)

// ErrCancelled is returned when the user leaves with Esc or Ctrl-C (or
// the input ends) before anything in the tenant was changed.
var ErrCancelled = errors.New("cancelled; nothing was changed in the tenant")

// Config says how the wizard talks to the user.
type Config struct {
	// In is the keyboard (a terminal); Out is where screens are drawn
	// (stderr). Both are required.
	In  io.Reader
	Out io.Writer
	// Accessible switches to plain line prompts for screen readers: no
	// redrawing, no colour, numbered choices.
	Accessible bool
	// Color allows colour (false with NO_COLOR or TERM=dumb).
	Color bool
	// PlainProgress prints one line per finished step instead of the live
	// spinner view, for when something else writes to Out meanwhile
	// (--verbose traces).
	PlainProgress bool
	// Width and Height are the terminal's size (0: 80×24). Text is
	// wrapped to the width; screens taller than the height scroll.
	Width  int
	Height int
	// Now is the clock (expiry dates on screen).
	Now func() time.Time
}

// Wizard asks the questions of one command run.
type Wizard struct {
	cfg Config
	ui  runner
	out *syncWriter
	st  style
	// stopped: the user cancelled a run part-way.
	stopped bool
}

// New returns a wizard drawing on cfg.Out and reading cfg.In.
func New(cfg Config) *Wizard {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Width <= 0 {
		cfg.Width = layout.DefaultWidth
	}
	if cfg.Height <= 0 {
		cfg.Height = layout.DefaultHeight
	}
	out := &syncWriter{w: cfg.Out}
	w := &Wizard{cfg: cfg, out: out, st: style{color: cfg.Color && !cfg.Accessible}}
	if cfg.Accessible {
		w.ui = &accessibleRunner{in: newLineReader(cfg.In), out: out}
	} else {
		// Bubble Tea needs the terminal itself (a file) to know its size.
		w.ui = &termRunner{kb: newKeyboard(cfg.In), out: cfg.Out, color: cfg.Color}
	}
	return w
}

// runner asks one form (one question) and returns when it is answered.
// Implementations: the terminal UI, the accessible line prompts, and the
// key-driven runner of the tests.
type runner interface {
	form(ctx context.Context, f *huh.Form) error
	// accessible reports whether descriptions must be printed separately
	// (accessible prompts show only titles).
	accessible() bool
}

// configure applies entra-link's theme and keys to a form.
func configure(f *huh.Form, color, accessible bool) *huh.Form {
	th := huh.ThemeFunc(huh.ThemeCharm)
	switch {
	case accessible:
		// Screen readers read escape sequences aloud: no styling at all.
		th = huh.ThemeFunc(huh.ThemeBase)
	case !color:
		th = huh.ThemeFunc(plainTheme)
	}
	return f.WithTheme(th).WithKeyMap(keyMap()).WithShowHelp(!accessible)
}

// keyMap is huh's, plus Esc to leave (issue 5: Esc or Ctrl-C at any
// question), and Tab to complete a suggested path instead of moving on.
func keyMap() *huh.KeyMap {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("ctrl+c", "esc"), key.WithHelp("esc", "quit"))
	km.Input.Next = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next"))
	km.Input.AcceptSuggestion = key.NewBinding(key.WithKeys("tab", "ctrl+e"), key.WithHelp("tab", "complete"))
	return km
}

// plainTheme is huh's base theme without colours: the focused button is
// shown in reverse video so that it stays visible under NO_COLOR.
func plainTheme(isDark bool) *huh.Styles {
	t := huh.ThemeBase(isDark)
	button := lipgloss.NewStyle().Padding(0, 2).MarginRight(1)
	t.Focused.FocusedButton = button.Reverse(true)
	t.Focused.BlurredButton = button
	t.Focused.TextInput.Placeholder = lipgloss.NewStyle().Faint(true)
	t.Focused.Title = lipgloss.NewStyle().Bold(true)
	t.Focused.ErrorMessage = lipgloss.NewStyle()
	t.Blurred = t.Focused
	t.Blurred.Base = t.Blurred.Base.BorderStyle(lipgloss.HiddenBorder())
	t.Blurred.Card = t.Blurred.Base
	t.Blurred.FocusedButton = button
	t.Blurred.MultiSelectSelector = lipgloss.NewStyle().SetString("  ")
	t.Blurred.NextIndicator = lipgloss.NewStyle()
	t.Blurred.PrevIndicator = lipgloss.NewStyle()
	return t
}

// termRunner draws forms with Bubble Tea on a terminal.
type termRunner struct {
	kb    *keyboard
	out   io.Writer
	color bool
}

// program starts a Bubble Tea session on the terminal: raw keys from the
// shared keyboard; end restores the terminal.
func (r *termRunner) program() (opts []tea.ProgramOption, end func()) {
	restore := r.kb.raw()
	in := r.kb.session()
	opts = []tea.ProgramOption{tea.WithOutput(r.out), tea.WithInput(in)}
	if !r.color {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	return opts, func() { in.close(); restore() }
}

func (r *termRunner) accessible() bool { return false }

func (r *termRunner) form(ctx context.Context, f *huh.Form) error {
	opts, end := r.program()
	f = configure(f, r.color, false).WithProgramOptions(opts...)
	err := f.RunWithContext(ctx)
	end()
	if errors.Is(err, huh.ErrUserAborted) || ctx.Err() != nil {
		return ErrCancelled
	}
	if err != nil {
		return fmt.Errorf("showing the question: %w", err)
	}
	return nil
}

// accessibleRunner asks with plain line prompts.
type accessibleRunner struct {
	in  *lineReader
	out io.Writer
}

func (r *accessibleRunner) accessible() bool { return true }

func (r *accessibleRunner) form(ctx context.Context, f *huh.Form) error {
	f = configure(f, false, true).WithAccessible(true).WithOutput(r.out).WithInput(r.in)
	done := make(chan error, 1)
	go func() {
		defer func() {
			// huh's numbered prompt indexes its options with the last line
			// typed when the input ends after a number out of range: an
			// ended input is no answer, not a crash.
			if p := recover(); p != nil {
				done <- fmt.Errorf("asking the question: %v", p)
			}
		}()
		done <- f.RunWithContext(ctx)
	}()
	select {
	case <-ctx.Done():
		// Ctrl-C on a line prompt arrives as SIGINT (the terminal is not in
		// raw mode); the blocked read is abandoned with the process. The
		// prompt's line is ended so the reason starts on its own.
		_, _ = io.WriteString(r.out, "\n")
		return ErrCancelled
	case err := <-done:
		// huh answers an ended input with the defaults (libraries.md §4.3):
		// an ended input is no answer, never consent.
		if r.in.ended() {
			return ErrCancelled
		}
		if err != nil {
			return fmt.Errorf("asking the question: %w", err)
		}
		return nil
	}
}

// lineReader hands out at most one line per Read. huh's accessible fields
// each wrap the reader in a new bufio.Scanner, which would otherwise swallow
// the answers to the following questions (libraries.md §4.3, pitfall 1).
type lineReader struct {
	mu      sync.Mutex
	r       *bufio.Reader
	pending []byte
	eof     atomic.Bool
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: bufio.NewReader(r)} }

func (l *lineReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		line, err := l.r.ReadBytes('\n')
		if len(line) == 0 {
			if errors.Is(err, io.EOF) {
				l.eof.Store(true)
			}
			return 0, err
		}
		l.pending = line
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

func (l *lineReader) ended() bool { return l.eof.Load() }

// syncWriter serialises writes from the progress callbacks.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// say prints lines of the conversation that stay on screen, each wrapped
// to the terminal width (see layout.Line).
func (w *Wizard) say(format string, a ...any) {
	_, _ = io.WriteString(w.out, layout.Text(layout.Lines(fmt.Sprintf(format, a...), w.width())))
}

// sayWrapped prints text as one paragraph, every line indented.
func (w *Wizard) sayWrapped(indent, text string) {
	_, _ = io.WriteString(w.out, layout.Text(layout.Indent(indent, text, w.width())))
}

// sayLines prints lines already laid out.
func (w *Wizard) sayLines(lines []string) {
	_, _ = io.WriteString(w.out, layout.Text(lines))
}

// width is the width text is wrapped to: the terminal's as it is now (it
// may have been resized since the wizard began), but no wider than lines
// stay easy to read.
func (w *Wizard) width() int {
	width := w.cfg.Width
	if f, ok := w.cfg.Out.(interface{ Fd() uintptr }); ok {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 0 {
			width = c
		}
	}
	return min(width, 100)
}

// style decorates printed text; plain without colour.
type style struct{ color bool }

func (s style) wrap(code, t string) string {
	if !s.color {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.wrap("1", t) }
func (s style) green(t string) string  { return s.wrap("32", t) }
func (s style) red(t string) string    { return s.wrap("31", t) }
func (s style) yellow(t string) string { return s.wrap("33", t) }
func (s style) dim(t string) string    { return s.wrap("2", t) }

// ask runs a one-question form. In accessible mode the description is
// printed first, because huh's line prompts show only the title.
func (w *Wizard) ask(ctx context.Context, description string, field huh.Field) error {
	if w.ui.accessible() && description != "" {
		w.sayWrapped("", description)
	}
	return w.ui.form(ctx, huh.NewForm(huh.NewGroup(field)))
}

// fieldText wraps a question's title or description to the form's width
// with layout's rules: huh would otherwise break lines at dots and dashes,
// inside domain names and commands.
func (w *Wizard) fieldText(s string) string {
	if s == "" {
		return ""
	}
	return strings.Join(layout.Wrap(s, w.width()-formFrame), "\n")
}

// formFrame is what a question's border and padding take of the width.
const formFrame = 4

// choose asks for one of options; *val is the pre-selected value. In
// accessible mode the pre-selected option says "(default)": Enter keeps it.
func (w *Wizard) choose(ctx context.Context, title, description string, options []huh.Option[string], val *string) error {
	if w.ui.accessible() {
		marked := make([]huh.Option[string], len(options))
		copy(marked, options)
		for i, o := range marked {
			if o.Value == *val && !strings.Contains(o.Key, "default") {
				marked[i] = huh.NewOption(o.Key+" (default)", o.Value)
			}
		}
		options = marked
	}
	sel := huh.NewSelect[string]().Title(w.fieldText(title)).Description(w.fieldText(description)).Options(options...).Value(val)
	return w.ask(ctx, description, sel)
}

// confirm asks a yes/no question; *val is the default. Accessible prompts
// say what y and n stand for ([Y/n] marks the default).
func (w *Wizard) confirm(ctx context.Context, title, description, yes, no string, val *bool) error {
	if w.ui.accessible() && !(yes == "Yes" && no == "No") {
		title += " (y: " + yes + ", n: " + no + ")"
	}
	c := huh.NewConfirm().Title(w.fieldText(title)).Description(w.fieldText(description)).Affirmative(yes).Negative(no).Value(val)
	return w.ask(ctx, description, c)
}

// input asks for a line of text; *val is pre-filled (accessible prompts
// name it: Enter keeps it). validate runs as the answer is submitted and
// again after the form (accessible prompts skip validators on an ended
// input).
func (w *Wizard) input(ctx context.Context, title, description, placeholder string, val *string, validate func(string) error, suggest func(string) []string) error {
	shown := title
	if w.ui.accessible() && strings.TrimSpace(*val) != "" {
		shown += " (Enter keeps " + *val + ")"
	}
	in := huh.NewInput().Title(w.fieldText(shown)).Description(w.fieldText(description)).Placeholder(placeholder).Value(val)
	if validate != nil {
		in = in.Validate(func(s string) error {
			if err := validate(s); err != nil {
				return &wrappedError{msg: w.fieldText(err.Error()), err: err}
			}
			return nil
		})
	}
	if suggest != nil && !w.ui.accessible() {
		in = in.SuggestionsFunc(func() []string { return suggest(*val) }, val)
	}
	if err := w.ask(ctx, description, in); err != nil {
		return err
	}
	if validate != nil {
		if err := validate(*val); err != nil {
			return &InputError{Question: strings.TrimSuffix(title, "?"), Err: err}
		}
	}
	return nil
}

// wrappedError is a validation message laid out for the question's width.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }

func (e *wrappedError) Unwrap() error { return e.err }

// InputError is an answer that is not valid. The terminal UI does not let
// one through; accessible prompts do when the input ends early.
type InputError struct {
	Question string
	Err      error
}

func (e *InputError) Error() string { return e.Question + ": " + e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }
