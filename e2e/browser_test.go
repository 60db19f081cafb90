package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// xdgOpen is the program azidentity's InteractiveBrowserCredential (MSAL,
// through github.com/pkg/browser) runs on Linux to open the sign-in page.
const xdgOpen = "xdg-open"

// Environment of the stand-in browser.
const (
	browserLoginEnv = "ENTRA_LINK_E2E_BROWSER_LOGIN" // the user name to type
	browserLogEnv   = "ENTRA_LINK_E2E_BROWSER_LOG"   // where to record the pages seen
)

// runBrowser is the stand-in browser (the test binary run as xdg-open):
// like a person it opens the URL, types the user name, accepts the consent
// prompt and lets the last page post back to the application. It trusts
// the CA in SSL_CERT_FILE and connects to loopback only. Nothing goes to
// stdout: xdg-open's output would land in entra-link's.
func runBrowser(args []string) int {
	logf := func(format string, a ...any) {
		if p := os.Getenv(browserLogEnv); p != "" {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				fmt.Fprintf(f, format+"\n", a...)
				_ = f.Close()
			}
		}
	}
	if len(args) != 1 {
		logf("xdg-open: want one URL, got %q", args)
		return 2
	}
	ca, err := os.ReadFile(os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		logf("xdg-open: read the CA: %v", err)
		return 1
	}
	b := &sandboxtest.Browser{HTTP: sandboxtest.LoopbackClient(ca), Login: os.Getenv(browserLoginEnv)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := b.Open(ctx, args[0])
	logf("pages: %s", strings.Join(b.Pages, " | "))
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	logf("ended at %s: %d", out.URL.Redacted(), out.Status)
	return 0
}

// TestSetupWithBrowserSignIn runs `entra-link setup --auth browser` as
// built: azidentity opens the sign-in page with xdg-open, which here is a
// stand-in browser that signs in as the sandbox's admin on the sandbox's
// sign-in page and consents; entra-link then sets Entitle up with the
// delegated token.
func TestSetupWithBrowserSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, _, _ := binaries(t)
	s, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	info := s.Tenant()

	browserDir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(browserDir, xdgOpen)); err != nil {
		t.Fatal(err)
	}
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	out := filepath.Join(t.TempDir(), "result.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "setup", "--auth", "browser", "--authority-host", s.URL(), "--graph-endpoint", s.URL(),
		"--profile", "entitle", "--yes", "--output", "json", "--output-file", out)
	cmd.Env = append(os.Environ(),
		"PATH="+browserDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SSL_CERT_FILE="+filepath.Join(s.StateDir(), "ca.pem"),
		browserLoginEnv+"=admin@"+info.TenantDomain,
		browserLogEnv+"="+browserLog,
		"HOME="+t.TempDir(),
	)
	combined, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(browserLog)
	if err != nil {
		t.Fatalf("entra-link setup --auth browser: %v\n%s\nbrowser:\n%s", err, combined, log)
	}
	if !strings.Contains(string(log), "pages: Sign in to your account | Permissions requested | Working...") {
		t.Errorf("the browser did not go through sign-in, consent and the form post:\n%s", log)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	if res["tenantId"] != info.TenantID || res["clientId"] == nil {
		t.Errorf("result: tenant %v client %v", res["tenantId"], res["clientId"])
	}

	// The run signed in through the authorization code flow as the admin
	// user, and the tenant recorded that user's consent for the sign-in
	// client.
	var sawAuthorize, sawCode bool
	for _, r := range s.Requests() {
		sawAuthorize = sawAuthorize || strings.Contains(r.Path, "/oauth2/v2.0/authorize")
		sawCode = sawCode || r.Method == "POST" && strings.HasSuffix(r.Path, "/oauth2/v2.0/token") && r.Status == 200
	}
	if !sawAuthorize || !sawCode {
		t.Errorf("no authorize + token exchange in the sandbox's log")
	}
	st := readState(t, s)
	var app *appState
	for i := range st.Applications {
		if st.Applications[i].AppID == res["clientId"] {
			app = &st.Applications[i]
		}
	}
	if app == nil || !slices.Contains(app.Tags, "entra-link:profile:entitle") {
		t.Fatalf("the app %v is not in the sandbox as Entitle's", res["clientId"])
	}
	// Created with the user's delegated token: the user owns the app.
	adminID := ""
	for _, u := range st.Users {
		if u.UserPrincipalName == "admin@"+info.TenantDomain {
			adminID = u.ID
		}
	}
	if adminID == "" || !slices.Equal(app.Owners, []string{adminID}) {
		t.Errorf("app owners %v, want the signed-in admin %s", app.Owners, adminID)
	}
}

// TestBrowserSignInOnce: after a browser sign-in, the next command (the
// binary run again, as a user would) does not open the browser; auth
// status shows the kept sign-in; after auth logout the browser opens again.
func TestBrowserSignInOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, _, _ := binaries(t)
	s, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	info := s.Tenant()
	browserDir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(browserDir, xdgOpen)); err != nil {
		t.Fatal(err)
	}
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	home := t.TempDir()
	run := func(args ...string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(),
			"PATH="+browserDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"SSL_CERT_FILE="+filepath.Join(s.StateDir(), "ca.pem"),
			browserLoginEnv+"=admin@"+info.TenantDomain,
			browserLogEnv+"="+browserLog,
			"HOME="+home, "XDG_CACHE_HOME=", "XDG_STATE_HOME=",
		)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			log, _ := os.ReadFile(browserLog)
			t.Fatalf("entra-link %v: %v\n%s%s\nbrowser:\n%s", args, err, stdout.String(), stderr.String(), log)
		}
		return stdout.String(), stderr.String()
	}
	opened := func() int {
		log, _ := os.ReadFile(browserLog)
		return strings.Count(string(log), "pages: ")
	}
	list := []string{"apps", "list", "--auth", "browser", "--authority-host", s.URL(), "--graph-endpoint", s.URL()}

	authorizations := func() int {
		n := 0
		for _, r := range s.Requests() {
			if strings.Contains(r.Path, "/oauth2/v2.0/authorize") {
				n++
			}
		}
		return n
	}
	_, stderr := run(list...)
	if opened() != 1 || !strings.Contains(stderr, "Signed in as admin@"+info.TenantDomain) {
		t.Fatalf("first command: the browser opened %d time(s)\n%s", opened(), stderr)
	}
	afterFirst := authorizations()
	_, stderr = run(list...)
	if opened() != 1 {
		t.Fatalf("the second command opened the browser again\n%s", stderr)
	}
	if !strings.Contains(stderr, "Using the saved sign-in of admin@"+info.TenantDomain) {
		t.Errorf("the second command does not say whose sign-in it uses:\n%s", stderr)
	}
	if n := authorizations(); n != afterFirst {
		t.Errorf("the second command went to the authorization endpoint (%d requests, %d before)", n, afterFirst)
	}

	status, _ := run("auth", "status")
	mustContain(t, "auth status", status, "admin@"+info.TenantDomain, "with --auth browser", "cloud      custom, sign-in at "+s.URL())
	out, _ := run("auth", "logout")
	mustContain(t, "auth logout", out, "Forgot the sign-in of admin@"+info.TenantDomain)
	run(list...)
	if opened() != 2 {
		t.Errorf("after auth logout the browser opened %d time(s) in all, want 2", opened())
	}
}
