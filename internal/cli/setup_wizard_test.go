package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/iostreams"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// runTerminal runs entra-link as if stdin and stderr were a terminal (so
// the wizard may ask) with input typed line by line; stdout stays a pipe.
func (tt *tenant) runTerminal(input string, env map[string]string, args ...string) result {
	tt.t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(input)
	io.SetStdinTTY(true)
	io.SetStderrTTY(true)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return tt.env[k]
	}
	f := &Factory{IO: io, Now: time.Now, Getenv: getenv, HTTPClient: clientWith(tt.sb.Transport())}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Run(ctx, f, args)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// TestSetupWizardAccessible drives the real command, sign-in and engine
// through the wizard's accessible prompts against a sandbox tenant.
func TestSetupWizardAccessible(t *testing.T) {
	tt := newTenant(t)
	// entitle, global cloud, default name, default lifetime, apply, leave
	r := tt.runTerminal("3\n\n\n\ny\n\n", nil, "setup", "--auth", "env", "--accessible", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object (the UI must stay on stderr): %v\n%s", err, r.stdout)
	}
	mustContain(t, "stderr", r.stderr,
		"Which product are you setting up?",
		"Sign-in: Environment (--auth)",
		"✓ Signed in as",
		"Review — nothing has been changed yet",
		"Directory.ReadWrite.All (Microsoft Graph, application)",
		"✓ Create admin consent Microsoft Graph · RoleManagement.ReadWrite.Directory",
		`"client_id": "`+str(res, "clientId")+`"`,
		"The result was also written to standard output (json).",
		"Leave? The client secret will not be shown again.")
	if strings.Contains(r.stderr, "\x1b[") {
		t.Error("accessible prompts contain escape sequences")
	}
	st := tt.state()
	app := st.Applications[st.app(t, str(res, "clientId"))]
	if app.DisplayName != "Entitle" || !slices.Contains(app.Tags, "entra-link:profile:entitle") {
		t.Errorf("app %q tags %v", app.DisplayName, app.Tags)
	}
	want := []string{"Microsoft Graph/Directory.ReadWrite.All", "Microsoft Graph/RoleManagement.ReadWrite.Directory"}
	if got := st.consented(st.spOf(app.AppID)); !slices.Equal(got, want) {
		t.Errorf("consented %v, want %v", got, want)
	}
	if len(app.PasswordCredentials) != 1 {
		t.Errorf("%d secrets, want 1", len(app.PasswordCredentials))
	}
}

// TestSetupWizardCancel: "no" at the review leaves with 130 and one
// sentence, and the tenant is untouched.
func TestSetupWizardCancel(t *testing.T) {
	tt := newTenant(t)
	r := tt.runTerminal("3\n\n\n\nn\n", map[string]string{"ACCESSIBLE": "1"}, "setup", "--auth", "env")
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\nstderr:\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "entra-link: cancelled; nothing was changed in the tenant")
	if w := tt.writes(0); len(w) != 0 {
		t.Errorf("the tenant was changed: %v", w)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

// TestSetupWizardVerifiedDomain: Relution's server URL is checked against
// the tenant's verified domains as it is entered.
func TestSetupWizardVerifiedDomain(t *testing.T) {
	tt := newTenant(t, sandboxtest.VerifiedDomains("contoso.com"))
	input := "\n" + // display name
		"https://relution.example.org\n" + // refused: not a verified domain
		"https://relution.contoso.com\n" +
		"\ny\n\n"
	r := tt.runTerminal(input, nil, "setup", "--profile", "relution", "--auth", "env", "--cloud", "global", "--accessible")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "relution.example.org is not a verified domain of", "Product: Relution (--profile)", "Cloud: Microsoft Entra ID (global service) (--cloud)")
	if strings.Contains(r.stderr, "Which cloud") {
		t.Error("asked for the cloud although --cloud was given")
	}
	st := tt.state()
	found := false
	for _, a := range st.Applications {
		if slices.Equal(a.IdentifierURIs, []string{"https://relution.contoso.com"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("no app with the server URL: %+v", st.Applications)
	}
	// stdout is not a terminal: it carries the text result.
	mustContain(t, "stdout", r.stdout, "Relution is set up")
}

// TestSetupWizardNotWanted: no wizard with --no-input, with --yes and every
// value given, or for a dry run; the flag path answers as before.
func TestSetupWizardNotWanted(t *testing.T) {
	tt := newTenant(t)
	r := tt.runTerminal("3\n", nil, "setup", "--auth", "env", "--no-input", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "--profile") || strings.Contains(r.stderr, "Which product") {
		t.Errorf("--no-input: exit %d\n%s", r.code, r.stderr)
	}
	r = tt.runTerminal("", nil, "setup", "--profile", "entitle", "--dry-run")
	if r.code != 0 || strings.Contains(r.stderr, "Which") || !strings.Contains(r.stdout, "dry run") {
		t.Errorf("--dry-run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = tt.runTerminal("", nil, "setup", "--profile", "roger365", "--auth", "env", "--yes", "--output", "json")
	if r.code != 0 || strings.Contains(r.stderr, "Review —") {
		t.Errorf("--yes with every value: exit %d\n%s", r.code, r.stderr)
	}
}
