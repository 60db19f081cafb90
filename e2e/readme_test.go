package e2e

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// readmeBlocks are the README's fenced code blocks, in order.
func readmeBlocks(t *testing.T, root string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```") && !in:
			in, cur = true, nil
		case strings.HasPrefix(l, "```"):
			in = false
			blocks = append(blocks, cur)
		case in:
			cur = append(cur, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// commands are a block's shell commands: its lines without comments.
func commands(block []string) []string {
	var out []string
	for _, l := range block {
		if i := strings.Index(l, " #"); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// freshEnv is the environment of a new user with Go installed: a home of
// its own (no sandbox tenant, nothing remembered) and nothing of
// entra-link's; Go keeps the shared build and module caches, and may not
// download anything.
func freshEnv(t *testing.T, home string) []string {
	t.Helper()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOPROXY=off", "GOTOOLCHAIN=local", "TERM=xterm-256color", "LANG=C.UTF-8"}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+strings.TrimSpace(string(v)))
	}
	return env
}

// TestReadmeTryIt runs the README's first code block verbatim in a fresh
// clone's shoes: without a terminal (a script, CI) it must do the whole job
// on the sandbox; in an 80×24 terminal it is the wizard, answered with
// Enter. The sandbox tenant is where the README says, under the fresh home.
func TestReadmeTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds entra-link with go run")
	}
	root := moduleRoot(t)
	blocks := readmeBlocks(t, root)
	if len(blocks) < 2 {
		t.Fatal("the README has fewer than two code blocks")
	}
	try := commands(blocks[0])
	if len(try) == 0 {
		t.Fatal("the README's first code block has no command")
	}
	// The second block is the test command, the one CI runs.
	if got := commands(blocks[1]); len(got) != 1 || got[0] != "make test" {
		t.Errorf("the README's second code block is %q, want make test", got)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil || !strings.Contains(string(ci), "make test") {
		t.Errorf(".ci/run does not run make test: %v", err)
	}

	t.Run("without a terminal", func(t *testing.T) {
		home := t.TempDir()
		var stdout string
		for _, c := range try {
			cmd := exec.Command("sh", "-c", c)
			cmd.Dir, cmd.Env = root, freshEnv(t, home)
			out, err := cmd.Output()
			if err != nil {
				var stderr []byte
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					stderr = ee.Stderr
				}
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", c, err, out, stderr)
			}
			stdout += string(out)
		}
		mustShow(t, "stdout", stdout, "SANDBOX", "Entitle is set up in", "Values for Entitle", "The client secret is shown only this once")
		checkConnection(t, filepath.Join(home, ".local", "state", "entra-link", "sandbox"), stdout)
	})

	t.Run("in a terminal", func(t *testing.T) {
		if _, err := exec.LookPath("tmux"); err != nil {
			t.Skip("tmux is not installed")
		}
		home := t.TempDir()
		tm := &term{t: t, socket: "entra-link-readme-" + filepath.Base(home)}
		t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
		script := "cd " + shellQuote(root) + "; export " + strings.Join(quoteAll(freshEnv(t, home)), " ") + "; " +
			strings.Join(try, " && ") + "; echo \"EXIT=$?\"; sleep 600"
		if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "wizard", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
			t.Fatalf("tmux new-session: %v: %s", err, out)
		}
		tm.waitFor(3*time.Minute, "Which cloud is your tenant in?")
		tm.keys("Enter")
		tm.waitFor(step, "Display name of the app registration")
		tm.keys("Enter")
		tm.waitFor(step, "How long should the client secret be valid?")
		tm.keys("Enter")
		tm.waitFor(step, "Apply these changes to")
		tm.keys("y")
		tm.waitFor(step, "Leave? The client secret will not be shown again.")
		tm.keys("Enter")
		tm.waitFor(step, "EXIT=0")
		out := tm.transcript()
		checkScreen(t, "README's first command in a terminal", out)
		checkConnection(t, filepath.Join(home, ".local", "state", "entra-link", "sandbox"), out)
	})
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// checkConnection: the Connection JSON shown is an app of the sandbox
// tenant kept in state, and its secret gets a token.
func checkConnection(t *testing.T, state, shown string) {
	t.Helper()
	conn := map[string]string{}
	for _, k := range []string{"client_id", "secret", "tenant"} {
		m := regexp.MustCompile(`"` + k + `": "([^"]+)"`).FindStringSubmatch(shown)
		if m == nil {
			t.Fatalf("no %s shown:\n%s", k, shown)
		}
		conn[k] = m[1]
	}
	sb, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: state})
	if err != nil {
		t.Fatalf("the sandbox tenant is not where the README says (%s): %v", state, err)
	}
	defer sb.Close()
	if conn["tenant"] != sb.Tenant().TenantID {
		t.Errorf("tenant %s, the sandbox's is %s", conn["tenant"], sb.Tenant().TenantID)
	}
	found := false
	for _, a := range readState(t, sb).Applications {
		found = found || a.AppID == conn["client_id"] && a.DisplayName == "Entitle"
	}
	if !found {
		t.Errorf("no app %s named Entitle in the sandbox", conn["client_id"])
	}
	cred, err := azidentity.NewClientSecretCredential(conn["tenant"], conn["client_id"], conn["secret"], &azidentity.ClientSecretCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: sb.Transport()}, Cloud: cloud.AzurePublic}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Errorf("the secret shown does not work: %v", err)
	}
}
