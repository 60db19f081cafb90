package wizard

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestProgressModel: running steps show under a spinner, waiting words
// under their step, finished steps leave a ✓ / ✗ / – line, and Esc asks
// the run to stop.
func TestProgressModel(t *testing.T) {
	t.Parallel()
	cancelled := false
	m := newProgressModel(style{}, 80, func() { cancelled = true })
	send := func(msg tea.Msg) { m.Update(msg) }

	app := Event{Action: "create", Target: `app registration "Entitle"`}
	sp := Event{Action: "create", Target: `enterprise application for "Entitle"`}
	consent := Event{Action: "create", Target: "admin consent Microsoft Graph · Directory.ReadWrite.All"}
	with := func(ev Event, status, detail string) eventMsg {
		ev.Status, ev.Detail = status, detail
		return eventMsg(ev)
	}
	send(with(app, StatusRunning, ""))
	send(with(sp, StatusRunning, ""))
	view := m.render()
	if !strings.Contains(view, `Create app registration "Entitle"`) || !strings.Contains(view, `Create enterprise application for "Entitle"`) {
		t.Fatalf("running steps not shown:\n%s", view)
	}
	send(with(app, StatusDone, "client ID 1234"))
	send(with(consent, StatusRunning, ""))
	send(with(consent, "waiting", "waiting for Entra to replicate the new service principal…"))
	view = m.render()
	lines := strings.Split(strings.TrimRight(view, "\n"), "\n")
	if len(lines) != 4 || lines[0] != `✓ Create app registration "Entitle" — client ID 1234` ||
		!strings.Contains(lines[1], "Create enterprise application") ||
		!strings.Contains(lines[2], "Create admin consent Microsoft Graph · Directory.ReadWrite.All") ||
		strings.TrimSpace(lines[3]) != "waiting for Entra to replicate the new service principal…" {
		t.Errorf("want the finished step, then each running one with its waiting words:\n%s", view)
	}
	// A retry of the Graph client: not a step of its own.
	clock := time.Now()
	m.now = func() time.Time { return clock }
	send(eventMsg{Action: "wait", Target: "POST /servicePrincipals", Status: "waiting", Detail: "waiting for Entra to replicate the objects just created; retrying in 2s"})
	if v := m.render(); !strings.Contains(v, "waiting for Entra to replicate the objects just created; retrying in 2s") || strings.Contains(v, "Wait POST") {
		t.Errorf("retry words not shown as a waiting line:\n%s", v)
	}
	clock = clock.Add(noteTTL)
	if strings.Contains(m.render(), "retrying in 2s") {
		t.Error("an old retry note is still shown")
	}
	send(with(consent, StatusFailed, "Forbidden"))
	send(with(sp, StatusSkipped, "exists"))
	want := []string{
		`✓ Create app registration "Entitle" — client ID 1234`,
		"✗ Create admin consent Microsoft Graph · Directory.ReadWrite.All — Forbidden",
		`– Create enterprise application for "Entitle" — exists`,
	}
	if !slices.Equal(m.lines, want) {
		t.Errorf("finished:\n%s\nwant:\n%s", strings.Join(m.lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(m.render(), "⠋") {
		t.Errorf("nothing runs, yet a spinner shows:\n%s", m.render())
	}
	send(tea.KeyPressMsg{Code: tea.KeyEscape})
	if !cancelled || !strings.Contains(m.render(), "Stopping") {
		t.Errorf("esc did not stop the run (cancelled %v):\n%s", cancelled, m.render())
	}
	for i := range shownLines + 5 {
		send(eventMsg{Action: "assign-directory-role", Target: string(rune('A' + i)), Status: StatusDone})
	}
	if n := strings.Count(m.render(), "\n"); n > shownLines+1 {
		t.Errorf("the live view has %d lines; it must fit a 24-line terminal", n)
	}
	_, cmd := m.Update(finishedMsg{})
	if m.render() != "" || cmd == nil {
		t.Error("the view does not end with the run")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("finishing does not quit the program")
	}
}

// TestStepLineColour: marks are coloured only with colour on.
func TestStepLineColour(t *testing.T) {
	t.Parallel()
	ev := Event{Action: "assign-directory-role", Target: "User Administrator", Status: StatusPending, Detail: "needs a Privileged Role Administrator"}
	plain := style{}.stepLine(ev)
	if plain != "! Assign directory role User Administrator — needs a Privileged Role Administrator" {
		t.Errorf("plain = %q", plain)
	}
	col := style{color: true}.stepLine(ev)
	if col == plain || ansi.Strip(col) != plain {
		t.Errorf("coloured = %q", col)
	}
}

func TestCompletePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"hire2retire.cer", "hire2retire.pem", "other.txt", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "hire-certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	got := completePath(filepath.Join(dir, "hire"))
	want := []string{filepath.Join(dir, "hire-certs") + "/", filepath.Join(dir, "hire2retire.cer"), filepath.Join(dir, "hire2retire.pem")}
	if !slices.Equal(got, want) {
		t.Errorf("completePath = %v, want %v", got, want)
	}
	if got := completePath(dir + "/"); slices.Contains(got, filepath.Join(dir, ".hidden")) || len(got) != 4 {
		t.Errorf("listing %v (hidden files only when asked for)", got)
	}
	if got := completePath(filepath.Join(dir, "nothing-")); len(got) != 0 {
		t.Errorf("no match gave %v", got)
	}
}

// TestKeyboardSessions: keys typed after a question ended go to the next
// question, not to the ended one's leftover read.
func TestKeyboardSessions(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	kb := newKeyboard(pr)
	first := kb.session()
	stale := make(chan int, 1)
	go func() {
		n, _ := first.Read(make([]byte, 16)) // a program's reader that outlives it
		stale <- n
	}()
	first.close()
	if n := <-stale; n != 0 {
		t.Fatalf("the ended session read %d bytes", n)
	}
	second := kb.session()
	go func() { _, _ = pw.Write([]byte("a1\r")) }()
	buf := make([]byte, 16)
	n, err := second.Read(buf)
	if err != nil || string(buf[:n]) != "a1\r" {
		t.Fatalf("second session read %q, %v", buf[:n], err)
	}
	second.close()
	if n, err := second.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("a closed session read %d, %v", n, err)
	}
	_ = pw.Close()
}
