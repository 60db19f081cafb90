package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/entra-link/entra-link/internal/layout"
)

// ConfirmScreen shows a screen of text (a review: what will change) and
// asks a yes/no question under it; def is the pre-selected answer. header
// and body are lines of any content, laid out by the caller (layout.Lines
// wraps them to the width again if the terminal is narrower).
//
// When the screen fits the terminal it is printed and the question asked
// under it, like every other question. When it does not, the body scrolls
// (↑/↓, PgUp/PgDn, Home/End) between the header, which stays at the top,
// and the question, which stays at the bottom; afterwards the whole screen
// is printed, so that the transcript keeps it.
func (w *Wizard) ConfirmScreen(ctx context.Context, header, body []string, title, yes, no string, def bool) (bool, error) {
	err := w.confirmScreen(ctx, header, body, title, yes, no, &def)
	return def, err
}

func (w *Wizard) confirmScreen(ctx context.Context, header, body []string, title, yes, no string, val *bool) error {
	pr, ok := w.ui.(pageRunner)
	if ok && !w.ui.accessible() {
		c := huh.NewConfirm().Title(w.fieldText(title)).Affirmative(yes).Negative(no).Value(val)
		form := configure(huh.NewForm(huh.NewGroup(c)), w.st.color, false)
		m := newPager(w.st, header, body, form, w.width(), w.cfg.Height)
		if !m.fits() {
			err := pr.page(ctx, m)
			w.sayLines(m.flat(m.header))
			w.sayLines(m.flat(m.body))
			switch {
			case errors.Is(err, ErrCancelled) || ctx.Err() != nil:
				return ErrCancelled
			case err != nil:
				return err
			}
			return nil
		}
	}
	w.sayLines(layoutLines(header, w.width()))
	w.sayLines(layoutLines(body, w.width()))
	return w.confirm(ctx, title, "", yes, no, val)
}

func layoutLines(lines []string, width int) []string {
	var out []string
	for _, l := range lines {
		out = append(out, layout.Line(l, width)...)
	}
	return out
}

// pageRunner can show a scrolling screen with a question under it.
type pageRunner interface {
	page(ctx context.Context, m *pager) error
}

// pager is a screen whose body scrolls between a fixed header and a
// question at the bottom (a huh form, keys routed to it except scrolling).
type pager struct {
	st     style
	header []string
	body   []string
	form   *huh.Form
	width  int
	height int
	offset int
	done   bool
}

func newPager(st style, header, body []string, form *huh.Form, width, height int) *pager {
	if height <= 0 {
		height = layout.DefaultHeight
	}
	m := &pager{st: st, header: header, body: body, form: form, width: width, height: height}
	m.form.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return m
}

// flat lays lines out for the current width.
func (m *pager) flat(lines []string) []string { return layoutLines(lines, m.width) }

func (m *pager) footer() []string {
	return strings.Split(strings.TrimRight(m.form.View(), "\n"), "\n")
}

// fits reports whether the whole screen fits without scrolling (one line
// is kept free: an inline view as tall as the terminal scrolls it).
func (m *pager) fits() bool {
	return len(m.flat(m.header))+len(m.flat(m.body))+1+len(m.footer()) <= m.height-1
}

// rows is how many body lines are shown at once.
func (m *pager) rows() int {
	// header, the body, a status line, a blank line, the question.
	return max(3, m.height-1-len(m.flat(m.header))-2-len(m.footer()))
}

func (m *pager) maxOffset() int { return max(0, len(m.flat(m.body))-m.rows()) }

func (m *pager) scroll(n int) { m.offset = min(max(0, m.offset+n), m.maxOffset()) }

func (m *pager) Init() tea.Cmd { return m.form.Init() }

func (m *pager) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.scroll(0)
	case tea.KeyPressMsg:
		switch msg.String() {
		case "up", "k":
			m.scroll(-1)
			return m, nil
		case "down", "j":
			m.scroll(1)
			return m, nil
		case "pgup", "ctrl+b", "ctrl+u":
			m.scroll(-m.rows() + 1)
			return m, nil
		case "pgdown", "ctrl+f", "ctrl+d", "space":
			m.scroll(m.rows() - 1)
			return m, nil
		case "home", "g":
			m.offset = 0
			return m, nil
		case "end", "G":
			m.offset = m.maxOffset()
			return m, nil
		}
	}
	f, cmd := m.form.Update(msg)
	if hf, ok := f.(*huh.Form); ok {
		m.form = hf
	}
	if m.form.State != huh.StateNormal {
		m.done = true
		return m, tea.Quit
	}
	return m, cmd
}

func (m *pager) View() tea.View { return tea.NewView(m.render()) }

func (m *pager) render() string {
	if m.done {
		return ""
	}
	body := m.flat(m.body)
	rows := m.rows()
	m.scroll(0)
	end := min(len(body), m.offset+rows)
	var b strings.Builder
	for _, l := range m.flat(m.header) {
		b.WriteString(l + "\n")
	}
	for _, l := range body[m.offset:end] {
		b.WriteString(l + "\n")
	}
	for range rows - (end - m.offset) {
		b.WriteString("\n")
	}
	status := fmt.Sprintf("lines %d–%d of %d · ↑/↓ PgUp/PgDn scroll", m.offset+1, end, len(body))
	if end == len(body) {
		status = fmt.Sprintf("end (%d lines) · ↑/PgUp scrolls back", len(body))
	}
	b.WriteString(m.st.dim(layout.Truncate("── "+status+" ──", m.width)) + "\n\n")
	b.WriteString(m.form.View())
	return b.String()
}

func (r *termRunner) page(ctx context.Context, m *pager) error {
	opts, end := r.program()
	defer end()
	p := tea.NewProgram(m, append(opts, tea.WithContext(ctx))...)
	if _, err := p.Run(); err != nil && ctx.Err() == nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("showing the review: %w", err)
	}
	if ctx.Err() != nil || m.form.State != huh.StateCompleted {
		return ErrCancelled
	}
	return nil
}
