package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestNetnsRotateWizardRemoveOld types through the rotate-secret wizard in
// an 80×24 tmux terminal, as an admin would: pick the app, keep the default
// lifetime, retire the old secrets, confirm. The new secret must be proven
// and the old one retired: the path that crashed with a nil HTTP client.
func TestNetnsRotateWizardRemoveOld(t *testing.T) {
	tn := startTenant(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		skipLoudly(t, "tmux is not installed (`make test` installs it on Debian)")
	}
	j := decodeJSON(t, tn.must(0, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json"))
	appID, oldSecret := str(j, "clientId"), str(j, "clientSecret")

	tm := &term{t: t, socket: fmt.Sprintf("entra-link-e2e-rotate-%d", os.Getpid())}
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	vars := tn.env(map[string]string{"TERM": "xterm-256color"})
	sort.Strings(vars)
	var quoted []string
	for _, v := range vars {
		quoted = append(quoted, fmt.Sprintf("%q", v))
	}
	script := fmt.Sprintf("cd %q && env -i %s %q rotate-secret --auth env; echo \"EXIT=$?\"; sleep 120",
		tn.home, strings.Join(quoted, " "), tn.cli)
	if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "wizard", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	const step = 30 * time.Second
	// No --cloud: a terminal asks (Enter keeps the global cloud).
	tm.waitFor(step, "Which cloud is your tenant in?")
	tm.keys("Enter")
	tm.waitFor(step, "Which app gets a new client secret?", "Entitle")
	tm.keys("Enter")
	tm.waitFor(step, "How long should the new secret be valid?")
	tm.keys("Enter")
	tm.waitFor(step, "Retire the old secrets once the new one works?", "Retire them", "Keep them")
	tm.keys("y")
	tm.waitFor(step, "Add the new secret?")
	tm.keys("y")
	tm.waitFor(step, "Leave? The client secret will not be shown again.")
	screen := tm.screen(true)
	mustContain(t, "the screen", screen, "✓ Check the new client secret works", "✓ Remove client secret")
	m := regexp.MustCompile(`"secret": "([^"]+)"`).FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("the hand-over screen shows no secret:\n%s", redact(screen))
	}
	tm.keys("Enter")
	tm.waitFor(step, "EXIT=0")

	tn.proveSecret(appID, m[1])
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 {
		t.Errorf("secrets %v after retiring the old ones, want only the new one", keys)
	}
	if err := tn.token(appID, oldSecret, globalLogin, globalScope); err == nil {
		t.Error("the retired secret still gets tokens")
	}
}

// TestNetnsWizardTerminalGone: the SSH session drops (the terminal goes
// away, SIGHUP) while the wizard applies, the secret's answer still on its
// way. The secret existed only for a screen that is gone: the run does not
// count it as handed over, and the next run removes it, says so and
// delivers a new one.
func TestNetnsWizardTerminalGone(t *testing.T) {
	tn := startTenant(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		skipLoudly(t, "tmux is not installed (`make test` installs it on Debian)")
	}
	tn.inject(rule{Method: "POST", Path: `^/applications/[^/]+/addPassword$`, Action: "hang"})
	tm := &term{t: t, socket: fmt.Sprintf("entra-link-e2e-hup-%d", os.Getpid())}
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	vars := tn.env(map[string]string{"TERM": "xterm-256color"})
	sort.Strings(vars)
	var quoted []string
	for _, v := range vars {
		quoted = append(quoted, fmt.Sprintf("%q", v))
	}
	pidFile := filepath.Join(tn.home, "wizard.pid")
	args := []string{"setup", "--profile", "roger365", "--name", "Terminal gone", "--secret-expiry", "1y", "--auth", "env", "--cloud", "global"}
	script := fmt.Sprintf("cd %q && echo $$ > %q && exec env -i %s %q %s", tn.home, pidFile, strings.Join(quoted, " "), tn.cli, strings.Join(args, " "))
	script = strings.Replace(script, "Terminal gone", "'Terminal gone'", 1)
	if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "wizard", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	tm.waitFor(30*time.Second, "Apply these changes")
	tm.keys("y")
	tn.waitHeld()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(data))
	server, err := tm.tmux("display-message", "-p", "#{pid}")
	if err != nil {
		t.Fatalf("tmux server pid: %v: %s", err, server)
	}
	// The session drops: the terminal is gone, and SIGHUP is sent.
	if out, err := tm.tmux("kill-server"); err != nil {
		t.Fatalf("kill-server: %v: %s", err, out)
	}
	// kill-server returns before the server has exited; only then is the
	// terminal's master side closed. Answered before that, the hand-over
	// screen would be written to a terminal still there.
	waitGone(t, strings.TrimSpace(server), "the tmux server")
	tn.release()
	waitGone(t, pid, "entra-link, a minute after its terminal went away,")
	app := tn.state().appNamed("Terminal gone")
	if app == nil || len(app.secretKeys()) != 1 {
		t.Fatalf("app %+v: want it with the secret the gone screen was to show", app)
	}
	orphan := app.secretKeys()[0]

	r := tn.must(0, nil, "setup", "--profile", "roger365", "--name", "Terminal gone", "--auth", "env", "--yes", "--output", "json")
	j := decodeJSON(t, r)
	mustContain(t, "warnings", fmt.Sprint(j["warnings"]), "that secret was removed and a new one created")
	tn.proveSecret(app.AppID, str(j, "clientSecret"))
	if keys := tn.state().app(app.AppID).secretKeys(); len(keys) != 1 || keys[0] == orphan {
		t.Errorf("secrets %v; want only the new one, not %s", keys, orphan)
	}
}

// waitGone waits until process pid has exited (a minute at most).
func waitGone(t *testing.T, pid, what string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %s) still runs", what, pid)
		}
	}
}
