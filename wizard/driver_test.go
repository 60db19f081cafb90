package wizard

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"
)

// Keys, as a terminal sends them.
var (
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	down  = tea.KeyPressMsg{Code: tea.KeyDown}
	up    = tea.KeyPressMsg{Code: tea.KeyUp}
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
	ctrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	ctrlU = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
)

func typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Text: string(r), Code: r})
	}
	return out
}

func keys(parts ...any) []tea.Msg {
	var out []tea.Msg
	for _, p := range parts {
		switch p := p.(type) {
		case tea.KeyPressMsg:
			out = append(out, p)
		case string:
			out = append(out, typed(p)...)
		}
	}
	return out
}

// answer is the script for one question: the screen must show each of
// want before keys are pressed. With after, the question must still be
// open after keys, showing each of after (a rejected answer), and then
// keys are pressed.
type answer struct {
	want  []string
	keys  []tea.Msg
	after []string
	then  []tea.Msg
}

// keyDriver answers the wizard's questions the way huh's own tests drive
// forms: Update with key presses, commands fed back, the screen read with
// View. It fails the test on an unexpected question.
type keyDriver struct {
	t       *testing.T
	script  []answer
	asked   int
	screens []string
}

func (d *keyDriver) accessible() bool { return false }

func (d *keyDriver) form(_ context.Context, f *huh.Form) error {
	d.t.Helper()
	f = configure(f, false, false)
	f.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drain(f, f.Init(), 0)
	screen := ansi.Strip(f.View())
	d.screens = append(d.screens, screen)
	if d.asked >= len(d.script) {
		d.t.Fatalf("unexpected question %d:\n%s", d.asked+1, screen)
	}
	a := d.script[d.asked]
	d.asked++
	for _, w := range a.want {
		if !strings.Contains(screen, w) {
			d.t.Fatalf("question %d does not show %q:\n%s", d.asked, w, screen)
		}
	}
	press(f, a.keys)
	if a.after != nil {
		if f.State != huh.StateNormal {
			d.t.Fatalf("question %d closed, but the script expected it to stay open showing %q", d.asked, a.after)
		}
		screen = ansi.Strip(f.View())
		d.screens = append(d.screens, screen)
		for _, w := range a.after {
			if !strings.Contains(screen, w) {
				d.t.Fatalf("question %d, after the keys, does not show %q:\n%s", d.asked, w, screen)
			}
		}
		press(f, a.then)
	}
	if f.State == huh.StateNormal {
		d.t.Fatalf("question %d is still open after its keys:\n%s", d.asked, ansi.Strip(f.View()))
	}
	if f.State == huh.StateAborted {
		return ErrCancelled
	}
	return nil
}

func (d *keyDriver) done() {
	d.t.Helper()
	if d.asked != len(d.script) {
		d.t.Errorf("%d questions asked, the script has %d", d.asked, len(d.script))
	}
}

func press(f *huh.Form, keys []tea.Msg) {
	for _, k := range keys {
		_, cmd := f.Update(k)
		drain(f, cmd, 0)
		if f.State != huh.StateNormal {
			return
		}
	}
}

// drain runs cmd and feeds its messages back into the form until nothing
// is left. Slow commands (cursor blink, spinner ticks) are dropped.
func drain(f *huh.Form, cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 200 {
		return
	}
	msg := runCmd(cmd)
	switch m := msg.(type) {
	case nil, tea.QuitMsg:
		return
	case tea.BatchMsg:
		for _, c := range m {
			drain(f, c, depth+1)
		}
		return
	}
	// tea.Sequence's message type is unexported: a slice of commands.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() {
			drain(f, v.Index(i).Interface().(tea.Cmd), depth+1)
		}
		return
	}
	_, next := f.Update(msg)
	drain(f, next, depth+1)
}

func runCmd(cmd tea.Cmd) tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Millisecond):
		return nil
	}
}

// testWizard returns a wizard answering with d; its transcript goes to the buffer.
func testWizard(d *keyDriver) (*Wizard, *bytes.Buffer) {
	var out bytes.Buffer
	w := New(Config{In: strings.NewReader(""), Out: &out, Width: 80, Now: func() time.Time { return testNow }})
	w.ui = d
	return w, &out
}

var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
