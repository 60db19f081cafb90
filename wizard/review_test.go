package wizard

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"
)

func pagerFor(t *testing.T, body int, height int) (*pager, *bool) {
	t.Helper()
	ok := true
	c := huh.NewConfirm().Title("Apply these changes to Contoso (contoso.onmicrosoft.com)?").Affirmative("Apply").Negative("Cancel").Value(&ok)
	header := []string{"Review — nothing has been changed yet", "  Tenant      Contoso (contoso.onmicrosoft.com)"}
	var lines []string
	for i := range body {
		lines = append(lines, fmt.Sprintf("  • body line %d", i+1))
	}
	m := newPager(style{}, header, lines, configure(huh.NewForm(huh.NewGroup(c)), false, false), 80, height)
	drainModel(m, m.Init())
	return m, &ok
}

// drainModel feeds a command's messages back into the pager (as Bubble
// Tea would), dropping slow ones (cursor blink).
func drainModel(m *pager, cmd tea.Cmd) {
	for depth := 0; cmd != nil && depth < 50; depth++ {
		msg := runCmd(cmd)
		switch msg := msg.(type) {
		case nil, tea.QuitMsg:
			return
		case tea.BatchMsg:
			for _, c := range msg {
				drainModel(m, c)
			}
			return
		}
		_, cmd = m.Update(msg)
	}
}

func (m *pager) press(keys ...tea.Msg) {
	for _, k := range keys {
		_, cmd := m.Update(k)
		drainModel(m, cmd)
	}
}

// TestPagerKeepsHeaderAndQuestion: a review taller than the terminal
// scrolls between its header and the question, and never draws more
// lines than the terminal has.
func TestPagerKeepsHeaderAndQuestion(t *testing.T) {
	t.Parallel()
	m, ok := pagerFor(t, 60, 24)
	if m.fits() {
		t.Fatal("60 lines fit 24 rows?")
	}
	check := func(wantBody string) {
		t.Helper()
		screen := ansi.Strip(m.render())
		lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
		if len(lines) > 23 {
			t.Errorf("%d lines drawn, the terminal has 24 (one kept free):\n%s", len(lines), screen)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > 80 {
				t.Errorf("line wider than 80: %q", l)
			}
		}
		if !strings.HasPrefix(lines[0], "Review — nothing has been changed yet") || !strings.Contains(lines[1], "Tenant") {
			t.Errorf("the header is not at the top:\n%s", screen)
		}
		if !strings.Contains(screen, "Apply these changes to") || !strings.Contains(screen, "Cancel") {
			t.Errorf("the question is not shown:\n%s", screen)
		}
		if !strings.Contains(screen, wantBody+"\n") {
			t.Errorf("body line %q not shown:\n%s", wantBody, screen)
		}
	}
	check("  • body line 1")
	m.press(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if m.offset == 0 {
		t.Error("PgDown did not scroll")
	}
	m.press(tea.KeyPressMsg{Code: tea.KeyEnd})
	check("  • body line 60")
	if !strings.Contains(m.render(), "end (60 lines)") {
		t.Errorf("no end mark:\n%s", m.render())
	}
	m.press(down, down)
	check("  • body line 60")
	m.press(tea.KeyPressMsg{Code: tea.KeyHome}, up)
	if m.offset != 0 {
		t.Errorf("offset %d after Home", m.offset)
	}
	// Scrolling keys never answer the question; y, n, ←/→ and Enter do.
	if m.done {
		t.Fatal("scrolling answered the question")
	}
	m.press(tea.KeyPressMsg{Code: tea.KeyRight}, enter)
	if !m.done || m.form.State != huh.StateCompleted || *ok {
		t.Errorf("done %v, state %v, answer %v; want Cancel chosen", m.done, m.form.State, *ok)
	}
	if m.render() != "" {
		t.Error("the view is not cleared when answered")
	}
}

func TestPagerEscCancels(t *testing.T) {
	t.Parallel()
	m, _ := pagerFor(t, 60, 24)
	m.press(esc)
	if !m.done || m.form.State != huh.StateAborted {
		t.Errorf("done %v, state %v", m.done, m.form.State)
	}
}

func TestPagerSmallScreensFit(t *testing.T) {
	t.Parallel()
	m, _ := pagerFor(t, 5, 24)
	if !m.fits() {
		t.Errorf("a 5-line review does not fit 24 rows:\n%s", m.render())
	}
}

// TestConfirmScreenFits: a short review is printed and asked under it,
// like any other question.
func TestConfirmScreenFits(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{{want: []string{"Apply?"}, keys: keys("y")}}}
	w, out := testWizard(d)
	ok, err := w.ConfirmScreen(context.Background(), []string{"Review"}, []string{"  one change"}, "Apply?", "Apply", "Cancel", false)
	if err != nil || !ok {
		t.Fatalf("ok %v err %v", ok, err)
	}
	d.done()
	if out.String() != "Review\n  one change\n" {
		t.Errorf("transcript %q", out.String())
	}
}
