package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/layout"
)

// checkScreen fails the test for every line of a terminal transcript
// (captured with wrapped lines joined) that is wider than 80 columns,
// unless it is one word (a URL, which no terminal width can hold whole),
// and for every command, flag, id or word broken across two lines.
func checkScreen(t *testing.T, name, transcript string) {
	t.Helper()
	for _, p := range screenProblems(transcript) {
		t.Errorf("%s: %s", name, p)
	}
}

func screenProblems(transcript string) []string {
	var out []string
	lines := strings.Split(strings.TrimRight(transcript, "\n"), "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " ")
		if w := layout.StringWidth(l); w > 80 && len(strings.Fields(unbordered(l))) > 1 {
			out = append(out, fmt.Sprintf("line %d is %d columns wide:\n%s", i+1, w, l))
		}
		if i+1 == len(lines) {
			continue
		}
		if why := broken(unbordered(l), unbordered(lines[i+1])); why != "" {
			out = append(out, fmt.Sprintf("%s at lines %d-%d:\n%s\n%s", why, i+1, i+2, l, lines[i+1]))
		}
	}
	return out
}

// unbordered is a line without the border of a question ("┃ ") and its
// indentation.
func unbordered(l string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "┃"))
}

var (
	hyphenEnd = regexp.MustCompile(`[A-Za-z0-9]-$|(^|\s)--?$`)
	dotEnd    = regexp.MustCompile(`[A-Za-z0-9]\.$`)
)

// broken says why the text of line a cannot end where it does given the
// next line b: a command continued without " \", a word broken at a
// hyphen, a domain or path broken at a dot.
func broken(a, b string) string {
	if a == "" || b == "" {
		return ""
	}
	if !strings.HasSuffix(a, " \\") {
		for _, c := range layout.Commands(a + " " + b) {
			if !strings.Contains(a, c) && !strings.Contains(b, c) {
				return fmt.Sprintf("the command %q is broken", c)
			}
		}
	}
	first := strings.Fields(b)[0]
	switch {
	case hyphenEnd.MatchString(a) && regexp.MustCompile(`^[a-z0-9]`).MatchString(first):
		return "a word is broken at a hyphen"
	case dotEnd.MatchString(a) && regexp.MustCompile(`^[a-z0-9][\w-]*\.[a-z]`).MatchString(first):
		return "a name is broken at a dot"
	}
	return ""
}

// TestScreenChecker: the checker catches what issue 15 found.
func TestScreenChecker(t *testing.T) {
	bad := map[string]string{
		"terminal-wrapped word": `SANDBOX: using the emulated tenant "Contoso (entra-link sandbox)" (contososandboxa3uh4n.onmicrosoft.com)`,
		"command broken":        "     before then: entra-link rotate-secret --app-id\n     7049f4e2-0000-4000-8000-000000000000",
		"flag broken":           "  add the URI with --\n  redirect-uri https://x",
		"domain broken":         "┃ Apply these changes to Contoso (contososandboxthv1no.\n┃ onmicrosoft.com)?",
		"hyphen broken":         "renew it with entra-link rotate-\nsecret",
	}
	for name, text := range bad {
		if len(screenProblems(text)) == 0 {
			t.Errorf("%s: not caught:\n%s", name, text)
		}
	}
	good := "  2. The secret expires on 2027-11-21; Entitle needs a new secret before then:\n       entra-link rotate-secret --app-id 7049f4e2-0000-4000-8000-000000000000\n" +
		"  entra-link setup --profile relution \\\n    --app-id 7049f4e2-0000-4000-8000-000000000000\n" +
		"Portal:\n  https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/7049f4e2-0000-4000-8000-000000000000\n" +
		"It expires on 2027-12-07. entra-link keeps the old one.\n"
	checkScreen(t, "good", good)
}

// binary is the entra-link under test (built once for the whole suite,
// or named by ENTRA_LINK_E2E_BIN).
func binary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	cli, _, _ := binaries(t)
	return cli
}

// screens is an 80×24 terminal for running entra-link commands against
// one sandbox tenant, with a home of its own. Each subtest works through
// its own copy (in), so that a failing screen fails only its subtest: a
// test's t must never be used once that test has returned.
type screens struct {
	t     *testing.T
	bin   string
	dir   string
	n     *atomic.Int64
	state string
}

func newScreens(t *testing.T) *screens {
	dir := t.TempDir()
	return &screens{t: t, bin: binary(t), dir: dir, n: new(atomic.Int64), state: filepath.Join(dir, "sandbox")}
}

// in is s for the (sub)test t: the same terminal server names, tenant and
// home, reporting to t.
func (s *screens) in(t *testing.T) *screens {
	c := *s
	c.t = t
	return &c
}

func (s *screens) env() []string {
	return []string{"ENTRA_LINK_SANDBOX_DIR=" + s.state, "HOME=" + s.dir, "XDG_STATE_HOME=" + filepath.Join(s.dir, "state"), "NO_COLOR=1", "TERM=xterm-256color"}
}

// run runs entra-link without a terminal (as a script would) and returns
// its stdout.
func (s *screens) run(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), s.env()...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		s.t.Fatalf("entra-link %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

// start runs a shell command line in a new 80×24 terminal; $EL is the
// binary.
func (s *screens) start(line string) *term {
	s.t.Helper()
	tm := &term{t: s.t, socket: fmt.Sprintf("entra-link-screens-%d-%d", os.Getpid(), s.n.Add(1))}
	s.t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	script := fmt.Sprintf("cd %q; export %s EL=%q; %s; echo \"EXIT=$?\"; sleep 600", s.dir, strings.Join(quoteAll(s.env()), " "), s.bin, line)
	if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "wizard", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
		s.t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	return tm
}

func quoteAll(env []string) []string {
	out := make([]string, len(env))
	for i, e := range env {
		k, v, _ := strings.Cut(e, "=")
		out[i] = fmt.Sprintf("%s=%q", k, v)
	}
	return out
}

// transcript is everything the terminal showed, lines wrapped by the
// terminal joined again (so that a line too wide shows as one).
func (tm *term) transcript() string {
	tm.t.Helper()
	out, err := tm.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "wizard")
	if err != nil {
		tm.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return out
}

// finish waits for the command's exit status and checks every line the
// terminal showed.
func (s *screens) finish(tm *term, name string, code int) string {
	s.t.Helper()
	want := "EXIT="
	if code >= 0 {
		want = fmt.Sprintf("EXIT=%d", code)
	}
	tm.waitFor(20*time.Second, want)
	out := tm.transcript()
	checkScreen(s.t, name, out)
	return out
}

// mustShow checks that a screen says each of want, wherever its lines
// were wrapped (and commands continued with " \\").
func mustShow(t *testing.T, name, screen string, want ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(strings.ReplaceAll(screen, " \\\n", " ")), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("%s does not show %q:\n%s", name, w, screen)
		}
	}
}

const step = 20 * time.Second

// TestScreensAt80x24 runs every screen issue 15 lists in an 80×24
// terminal and checks each transcript: no line wider than 80 columns, no
// word or command broken; and that each says what it must.
func TestScreensAt80x24(t *testing.T) {
	s := newScreens(t)

	t.Run("setup wizard: pickers, review that scrolls under its header, hand-over", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" setup --profile entitle --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?", "> Microsoft Entra ID (global service)")
		tm.keys("Enter")
		tm.waitFor(step, "SANDBOX: using the emulated tenant", "Display name of the app registration")
		tm.keys("Enter")
		tm.waitFor(step, "How long should the client secret be valid?", "> 1 year")
		tm.keys("Enter")
		tm.waitFor(step, "Review — nothing has been changed yet", "Apply these changes to", "lines 1–")
		// Taller than 24 rows: the body scrolls, the header and the
		// question stay.
		tm.keys("PageDown")
		tm.waitFor(step, "lines 13–")
		tm.keys("End")
		screen := tm.waitFor(step, "end (", "Review — nothing has been changed yet", "Apply these changes to")
		if strings.Contains(screen, `app registration "Entitle"`) {
			t.Errorf("the review did not scroll:\n%s", screen)
		}
		tm.keys("y")
		tm.waitFor(step, "Leave? The client secret will not be shown again.")
		tm.keys("Enter")
		out := s.finish(tm, "setup wizard", 0)
		mustShow(t, "setup wizard", out, "Secret lifetime: 1 year", "What the permissions allow",
			"directory role templates, directory roles and memberships.", "Applying", "Entitle is set up in")
		// The suggested command is whole on a line of its own.
		if !regexp.MustCompile(`(?m)^\s*entra-link rotate-secret --app-id [0-9a-f-]{36} --sandbox$`).MatchString(out) {
			t.Errorf("the rotate-secret command is not alone on a line:\n%s", out)
		}
		// The transcript keeps the whole review, before the steps.
		if i, j := strings.LastIndex(out, "templates, directory roles and memberships."), strings.Index(out, "Applying"); i < 0 || j < i {
			t.Errorf("the review is not in the transcript before the steps:\n%s", out)
		}
	})

	// Apps to work on, made by scripts (no terminal: no questions).
	s.run("setup", "--profile", "roger365", "--sandbox")
	certDir := filepath.Join(s.dir, "h2r")
	s.run("setup", "--profile", "hire2retire", "--sandbox", "--certificate-out", certDir)

	t.Run("apps list asks for the cloud and fits 80 columns", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" apps list --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?")
		tm.keys("Enter")
		out := s.finish(tm, "apps list", 0)
		mustShow(t, "apps list", out, "3 app(s) made by entra-link in", "NAME", "PROFILE", "CLIENT ID", "EXPIRES", "More columns: --wide")
	})

	t.Run("rotate-secret picker offers only apps with secrets", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" rotate-secret --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?")
		tm.keys("Enter")
		screen := tm.waitFor(step, "Which app gets a new client secret?", "Not listed: Hire2Retire")
		if strings.Contains(screen, "  Hire2Retire  ") || strings.Contains(screen, "> Hire2Retire") {
			t.Errorf("the certificate-only app is offered:\n%s", screen)
		}
		tm.keys("Enter")
		tm.waitFor(step, "How long should the new secret be valid?")
		tm.keys("Enter")
		tm.waitFor(step, "Retire the old secrets once the new one works?")
		tm.keys("Enter")
		tm.waitFor(step, "Review — nothing has been changed yet", "Add the new secret?")
		tm.keys("y")
		tm.waitFor(step, "Leave? The client secret will not be shown again.")
		tm.keys("Enter")
		s.finish(tm, "rotate-secret wizard", 0)
	})

	var h2r string
	for _, l := range strings.Split(s.run("apps", "list", "--sandbox", "--wide"), "\n") {
		if strings.HasPrefix(l, "Hire2Retire ") {
			h2r = strings.Fields(l)[1]
		}
	}

	t.Run("rotate-secret error names the command to run instead", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" rotate-secret --sandbox --cloud global --app-id ` + h2r)
		out := s.finish(tm, "rotate-secret error", 2)
		mustShow(t, "rotate-secret error", out, "authenticates with a certificate, not a client secret; nothing was changed",
			"entra-link rotate-certificate --app-id "+h2r+" --certificate-file NEW-CERTIFICATE.cer")
	})

	t.Run("rotate-certificate: the picker, which certificate, the key pair", func(t *testing.T) {
		s.t = t
		tm := s.start(`"$EL" rotate-certificate --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?")
		tm.keys("Enter")
		screen := tm.waitFor(step, "Which app do you want to give a new certificate?", "> Hire2Retire")
		if strings.Contains(screen, "> Entitle") || strings.Contains(screen, "  Entitle  ") {
			t.Errorf("an app whose product takes only secrets is offered:\n%s", screen)
		}
		tm.keys("Enter")
		// A new key pair is the suggested answer: no file to find first.
		tm.waitFor(step, "Which certificate should the app trust?", "> Generate a new key pair")
		tm.keys("Enter")
		tm.waitFor(step, "Directory for the new key pair", "./certificate")
		tm.keys("Enter")
		out := s.finish(tm, "rotate-certificate", 0)
		mustShow(t, "rotate-certificate", out, "Add a new certificate to \"Hire2Retire\"", "other certificate(s) will be kept",
			"New certificate for Hire2Retire", "retire them: entra-link retire --app-id "+h2r)
	})

	t.Run("retire: the same picker, the plan screen, confirm", func(t *testing.T) {
		s.t = t
		tm := s.start(`"$EL" retire --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?")
		tm.keys("Enter")
		tm.waitFor(step, "Which app do you want to retire old credentials of?", "> Entitle")
		tm.keys("Down")
		tm.waitFor(step, "> Hire2Retire")
		tm.keys("Enter")
		tm.waitFor(step, "Retire old credentials of", "could not", "Remove them?")
		tm.keys("y")
		out := s.finish(tm, "retire", 0)
		mustShow(t, "retire", out, "Retired 1 credential of \"Hire2Retire\"", "Kept")
	})

	t.Run("verify: each problem with its fix command", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" verify --sandbox --cloud global --name Entitle --warn-days 400`)
		out := s.finish(tm, "verify", 3)
		mustShow(t, "verify", out, "fix:", "entra-link rotate-secret", "problem(s) found (exit status 3)")
	})

	t.Run("delete: the same picker, the screen, the undo", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" delete --sandbox`)
		tm.waitFor(step, "Which cloud is your tenant in?")
		tm.keys("Enter")
		tm.waitFor(step, "Which app do you want to delete?", "> Entitle")
		tm.keys("Down", "Down")
		tm.waitFor(step, "> ROGER365.io")
		tm.keys("Enter")
		tm.waitFor(step, "This deletes from", `Delete "ROGER365.io Azure Entra replicator"?`)
		tm.keys("y")
		out := s.finish(tm, "delete", 0)
		mustShow(t, "delete", out, `Deleted "ROGER365.io Azure Entra replicator"`, "recycle bin for 30 days",
			"entra-link setup --profile roger365 --app-id")
	})

	t.Run("flag errors, did-you-mean and --version", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" setup --profile entitle --profile-file x.yaml; "$EL" setup --profle entitle; "$EL" apps lst; "$EL" --version`)
		out := s.finish(tm, "flag errors", 0)
		mustShow(t, "flag errors", out, "entra-link: --profile and --profile-file cannot be used together",
			"unknown flag --profle for entra-link setup; did you mean --profile?",
			`unknown command "lst" for entra-link apps; did you mean entra-link apps list?`, "entra-link version dev")
	})

	t.Run("an output file that cannot be written is said in words", func(t *testing.T) {
		s := s.in(t)
		tm := s.start(`"$EL" setup --profile roger365 --sandbox --yes --new-credential --output-file /nonexistent/x.json`)
		// What the exit status is, and whether the tenant was changed
		// first, is the plan's business (issue 10); here: the words.
		out := s.finish(tm, "output file", -1)
		mustShow(t, "output file", out, "the directory /nonexistent does not exist")
		if strings.Contains(out, ".tmp-") || strings.Contains(out, "create temporary file") {
			t.Errorf("a temporary file name is shown:\n%s", out)
		}
	})

	t.Run("generated key pair: which file the product takes", func(t *testing.T) {
		s := s.in(t)
		pw := filepath.Join(s.dir, "pfx-password")
		if err := os.WriteFile(pw, []byte("p4ss\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tm := s.start(`"$EL" setup --profile hire2retire --sandbox --cloud global --yes --new-credential --certificate-out ./h2r-2 --pfx-password-file ` + pw)
		out := s.finish(tm, "key pair", 0)
		mustShow(t, "key pair", out, "Hire2Retire signs in as this app with the private key of this certificate: give Hire2Retire the file h2r-2/hire2retire.pfx",
			"its password is the one in --pfx-password-file")
	})
}

// selfTestEnv runs TestScreensHarnessFailsOnlyItsSubtest's inner suite.
const selfTestEnv = "ENTRA_LINK_SCREENS_SELFTEST"

// TestScreensHarnessFailsOnlyItsSubtest: a screen that fails fails its own
// subtest, and the suite goes on reporting to its own test — never to a
// subtest that has returned ("Fail in goroutine after … has completed",
// which panics and takes the whole package down). The inner suite runs in
// a child test process: a screen that fails, then the parent's own command
// that fails too, then a screen that passes.
func TestScreensHarnessFailsOnlyItsSubtest(t *testing.T) {
	if os.Getenv(selfTestEnv) == "1" {
		s := newScreens(t)
		t.Run("failing screen", func(t *testing.T) {
			s := s.in(t)
			out := s.finish(s.start(`"$EL" --version`), "version", 0)
			mustShow(t, "version", out, "words that are not on the screen")
		})
		t.Run("passing screen", func(t *testing.T) {
			s := s.in(t)
			out := s.finish(s.start(`"$EL" --version`), "version", 0)
			mustShow(t, "version", out, "entra-link version")
		})
		s.run("no-such-command")
		return
	}
	bin := binary(t)
	_, hooks, sb := binaries(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestScreensHarnessFailsOnlyItsSubtest$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), selfTestEnv+"=1", binEnv+"="+bin, hooksBinEnv+"="+hooks, sandboxBinEnv+"="+sb)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("the inner suite: %v, want exit status 1 (a failed test)\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"--- FAIL: TestScreensHarnessFailsOnlyItsSubtest/failing_screen",
		`version does not show "words that are not on the screen"`,
		"--- PASS: TestScreensHarnessFailsOnlyItsSubtest/passing_screen",
		"entra-link [no-such-command]",
		"--- FAIL: TestScreensHarnessFailsOnlyItsSubtest ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the inner suite's output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "panic:") || strings.Contains(text, "has completed") {
		t.Errorf("the harness reported to a test that had returned:\n%s", text)
	}
}

// TestWizardHandOverAfterResize: the terminal is narrowed to 60 columns
// while the wizard asks; the hand-over it shows afterwards is laid out for
// 60 columns, not for the 80 the terminal had when the wizard began (each
// line wrapped again by the terminal, commands broken).
func TestWizardHandOverAfterResize(t *testing.T) {
	s := newScreens(t)
	tm := s.start("$EL setup --sandbox --profile roger365 --cloud global")
	tm.waitFor(60*time.Second, "Display name")
	if out, err := tm.tmux("resize-window", "-t", "wizard", "-x", "60", "-y", "24"); err != nil {
		t.Fatalf("resize-window: %v: %s", err, out)
	}
	tm.keys("Enter")
	tm.waitFor(60*time.Second, "How long should the client secret be valid?")
	tm.keys("Enter")
	tm.waitFor(60*time.Second, "Apply")
	tm.keys("y")
	tm.waitFor(60*time.Second, "Leave")
	text := tm.transcript()
	i := strings.Index(text, "is set up in")
	if i < 0 {
		t.Fatalf("no hand-over:\n%s", text)
	}
	for _, l := range strings.Split(text[i:], "\n") {
		if w := layout.StringWidth(strings.TrimRight(l, " ")); w > 60 && strings.Contains(strings.TrimSpace(l), " ") {
			t.Errorf("hand-over line wider than the 60-column terminal (%d): %q", w, l)
		}
	}
	tm.keys("Enter")
	tm.waitFor(30*time.Second, "EXIT=0")
}
