package wizard

import (
	"context"
	"io"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/entra-link/entra-link/internal/layout"
)

// Event is one step of a run as the engine reports it: a step starts
// ("running") and ends with one of the final statuses. Any other status
// (such as "waiting") is shown with its Detail under the spinner.
type Event struct {
	Action string
	Target string
	Status string
	Detail string
}

// Step statuses (the engine's words).
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
	StatusPending = "pending"
	StatusNotRun  = "not-run"
	// StatusInterrupted: the step was in flight when the run was stopped.
	StatusInterrupted = "interrupted"
)

func finalStatus(s string) bool {
	switch s {
	case StatusDone, StatusSkipped, StatusFailed, StatusPending, StatusNotRun, StatusInterrupted:
		return true
	}
	return false
}

// stepWords turn the engine's action names into words where its own
// (create, update, keep, remove, check, …) do not read well alone; other
// actions are shown with their dashes as spaces.
var stepWords = map[string]string{
	"preflight": "Check",
	"extra":     "Leave (not needed)",
	"wait":      "Wait for",
}

func stepLabel(ev Event) string {
	verb, ok := stepWords[ev.Action]
	if !ok {
		verb = strings.ReplaceAll(ev.Action, "-", " ")
		if verb != "" {
			verb = strings.ToUpper(verb[:1]) + verb[1:]
		}
	}
	return strings.TrimSpace(verb + " " + ev.Target)
}

func (s style) mark(status string) string {
	switch status {
	case StatusDone:
		return s.green("✓")
	case StatusFailed:
		return s.red("✗")
	case StatusSkipped:
		return "–"
	case StatusPending, StatusInterrupted:
		return s.yellow("!")
	default:
		return " "
	}
}

// stepLine is the line a finished step leaves on screen.
func (s style) stepLine(ev Event) string {
	line := s.mark(ev.Status) + " " + stepLabel(ev)
	if ev.Detail != "" {
		line += s.dim(" — " + ev.Detail)
	}
	return line
}

// progress runs fn and shows its steps: a live spinner view on a
// terminal, one line per finished step otherwise. Esc or Ctrl-C cancels
// fn's context (the engine then stops and reports what was done); stopped
// reports that.
func (w *Wizard) progress(ctx context.Context, fn func(ctx context.Context, report func(Event)) error) (stopped bool, err error) {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	if live, ok := w.ui.(liveRunner); ok && !w.cfg.PlainProgress {
		m := newProgressModel(w.st, w.width(), cancel)
		err = live.live(ictx, m, fn)
		// The view is gone; the finished steps stay, in order.
		for _, l := range m.lines {
			_, _ = io.WriteString(w.out, l+"\n")
		}
	} else {
		err = fn(ictx, func(ev Event) {
			switch {
			case ev.Status == StatusRunning:
			case finalStatus(ev.Status):
				w.say("%s", w.st.stepLine(ev))
			case ev.Detail != "":
				w.say("  %s", w.st.dim("… "+ev.Detail))
			}
		})
	}
	return ictx.Err() != nil, err
}

// liveRunner can show a Bubble Tea model while fn runs.
type liveRunner interface {
	live(ctx context.Context, m *progressModel, fn func(ctx context.Context, report func(Event)) error) error
}

type (
	eventMsg    Event
	finishedMsg struct{}
)

// progressModel is the live view: the latest finished steps, then each
// running step with a spinner and any waiting words under it. When the run
// ends the view is cleared and the caller prints every finished step.
// (Bubble Tea's Println would print them above the view, but it reorders
// lines printed just before the program quits and loses continuation lines
// of multi-line prints, as seen in tmux.)
type progressModel struct {
	st       style
	spin     spinner.Model
	order    []string
	running  map[string]Event
	waiting  map[string]string
	cancel   func()
	width    int
	stopping bool
	finished bool
	// lines are the finished steps, wrapped to the width.
	lines []string
	// note is the latest waiting words not tied to a running step (the
	// Graph client's retries); shown until a step ends or for noteTTL.
	note   string
	noteAt time.Time
	now    func() time.Time
}

// noteTTL is how long a waiting note stays without news: a retry waits
// seconds, not minutes.
const noteTTL = 15 * time.Second

// shownLines bounds the finished steps in the live view, so that it always
// fits a 24-line terminal (an inline view taller than the screen cannot be
// redrawn).
const shownLines = 12

func newProgressModel(st style, width int, cancel func()) *progressModel {
	return &progressModel{
		st:      st,
		width:   width,
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		running: map[string]Event{},
		waiting: map[string]string{},
		cancel:  cancel,
		now:     time.Now,
	}
}

func stepKey(ev Event) string { return ev.Action + "\x00" + ev.Target }

// Init starts the spinner.
func (m *progressModel) Init() tea.Cmd { return m.spin.Tick }

// Update handles engine events, keys and spinner ticks.
func (m *progressModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case eventMsg:
		ev := Event(msg)
		k := stepKey(ev)
		switch {
		case ev.Status == StatusRunning:
			m.start(k, ev)
		case finalStatus(ev.Status):
			m.remove(k)
			m.note = ""
			m.lines = append(m.lines, layout.Line(m.st.stepLine(ev), m.width)...)
		default:
			// "waiting" and any status to come: words under the spinner,
			// under the step they belong to if it is running.
			if ev.Detail == "" {
				break
			}
			if _, ok := m.running[k]; ok {
				m.waiting[k] = ev.Detail
			} else {
				m.note, m.noteAt = ev.Detail, m.now()
			}
		}
	case finishedMsg:
		m.finished = true
		return m, tea.Quit
	case tea.KeyPressMsg:
		if (msg.String() == "ctrl+c" || msg.String() == "esc") && !m.stopping {
			m.stopping = true
			m.cancel()
		}
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *progressModel) start(k string, ev Event) {
	if _, ok := m.running[k]; !ok {
		m.order = append(m.order, k)
	}
	m.running[k] = ev
}

func (m *progressModel) remove(k string) {
	delete(m.running, k)
	delete(m.waiting, k)
	for i, o := range m.order {
		if o == k {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
}

// View shows the running steps.
func (m *progressModel) View() tea.View {
	return tea.NewView(m.render())
}

func (m *progressModel) render() string {
	if m.finished {
		return ""
	}
	var b strings.Builder
	for _, l := range m.lines[max(0, len(m.lines)-shownLines):] {
		b.WriteString(l + "\n")
	}
	for _, k := range m.order {
		b.WriteString(layout.Truncate(m.spin.View()+" "+stepLabel(m.running[k]), m.width) + "\n")
		if d := m.waiting[k]; d != "" {
			b.WriteString(layout.Text(layout.Line("  "+m.st.dim(d), m.width)))
		}
	}
	if m.note != "" && m.now().Sub(m.noteAt) < noteTTL {
		b.WriteString(layout.Text(layout.Line(m.spin.View()+" "+m.st.dim(m.note), m.width)))
	}
	if m.stopping {
		b.WriteString(m.st.yellow("Stopping: the steps under way finish first; a created secret is still shown.") + "\n")
	}
	return b.String()
}

// live runs fn under a Bubble Tea program showing m. The program never
// outlives fn: it quits when fn returns, and fn is waited for even if the
// program ends first.
func (r *termRunner) live(ctx context.Context, m *progressModel, fn func(ctx context.Context, report func(Event)) error) error {
	opts, end := r.program()
	defer end()
	p := tea.NewProgram(m, opts...)
	done := make(chan error, 1)
	go func() {
		err := fn(ctx, func(ev Event) { p.Send(eventMsg(ev)) })
		done <- err
		p.Send(finishedMsg{})
	}()
	// If the view fails (not the run), fn finishes unseen; its result,
	// with every step, is still shown on the hand-over screen.
	_, _ = p.Run()
	return <-done
}
