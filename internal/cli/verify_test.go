package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/iostreams"
)

// --- helpers of the day-2 tests ---

// admin sends a Graph request as the sandbox's bootstrap admin: a change
// made "behind entra-link's back". It returns the status.
func (tt *tenant) admin(method, path string, body any) int {
	tt.t.Helper()
	ti := tt.sb.Tenant()
	tok, err := tt.token(ti.ClientID, ti.ClientSecret, graphLogin, "https://graph.microsoft.com/.default")
	if err != nil {
		tt.t.Fatal(err)
	}
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, "https://graph.microsoft.com/v1.0"+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: tt.sb.Transport(), Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// runTTY runs entra-link as if on a terminal, answering prompts with input.
func (tt *tenant) runTTY(input string, args ...string) result {
	tt.t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(input)
	io.SetStdinTTY(true)
	io.SetStderrTTY(true)
	// Questions are asked with line prompts (the input is not a terminal).
	getenv := func(k string) string {
		if k == "ACCESSIBLE" {
			return "1"
		}
		return tt.env[k]
	}
	f := &Factory{IO: io, Now: time.Now, Getenv: getenv, HTTPClient: clientWith(tt.sb.Transport())}
	code := Run(context.Background(), f, args)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// day2 runs a day-2 command with --auth env and checks its exit status.
func (tt *tenant) day2(wantCode int, args ...string) result {
	tt.t.Helper()
	r := tt.run(append(args, "--auth", "env")...)
	if r.code != wantCode {
		tt.t.Fatalf("%v: exit %d, want %d\nstderr:\n%s\nstdout:\n%s", args, r.code, wantCode, r.stderr, r.stdout)
	}
	return r
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, s)
	}
	return m
}

// fixFor returns the fix command printed under the checklist line that
// contains name: on the "fix:" line, or, when it is too long for it, on
// the lines under it (continued with " \").
func fixFor(t *testing.T, text, name string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.Contains(l, name) {
			continue
		}
		for j := i + 1; j < len(lines) && j < i+4; j++ {
			rest, ok := strings.CutPrefix(strings.TrimSpace(lines[j]), "fix:")
			if !ok {
				continue
			}
			cmd := strings.TrimSpace(rest)
			for k := j + 1; cmd == "" || strings.HasSuffix(cmd, "\\"); k++ {
				cmd = strings.TrimSpace(strings.TrimSuffix(cmd, "\\") + " " + strings.TrimSpace(lines[k]))
			}
			return strings.Join(strings.Fields(cmd), " ")
		}
	}
	t.Fatalf("no fix under %q in:\n%s", name, text)
	return ""
}

// runFix runs a printed `entra-link …` command (its words contain no spaces).
func (tt *tenant) runFix(cmd string, replace ...string) result {
	tt.t.Helper()
	cmd = strings.NewReplacer(replace...).Replace(cmd)
	args := strings.Fields(cmd)
	if args[0] != "entra-link" {
		tt.t.Fatalf("fix %q is not an entra-link command", cmd)
	}
	return tt.run(args[1:]...)
}

var profileRuns = []struct {
	name string
	args []string
}{
	{"relution", []string{"--profile", "relution", "--server-url", "https://relution.contoso.com"}},
	{"hire2retire", []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange"}},
	{"entitle", []string{"--profile", "entitle"}},
	{"unify", []string{"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback", "--audience", "multi-tenant"}},
	{"roger365", []string{"--profile", "roger365", "--secret-expiry", "6m"}},
}

// TestVerifyAfterSetup: right after setup every profile verifies healthy,
// by --app-id and by --name, and verify only reads.
func TestVerifyAfterSetup(t *testing.T) {
	for _, tc := range profileRuns {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := newTenant(t)
			res, _ := tt.setup(0, tc.args...)
			appID := str(res, "clientId")
			before := len(tt.sb.Requests())
			r := tt.day2(0, "verify", "--app-id", appID)
			if strings.Contains(r.stdout, "✗") || !strings.Contains(r.stdout, "✓ enterprise application (service principal)") || !strings.Contains(r.stdout, "is set up as") {
				t.Errorf("checklist:\n%s", r.stdout)
			}
			j := decode(t, tt.day2(0, "verify", "--name", str(res, "displayName"), "--output", "json").stdout)
			if j["healthy"] != true || j["profile"] != tc.name || len(j["problems"].([]any)) != 0 {
				t.Errorf("json %v", j)
			}
			if w := tt.writes(before); len(w) != 0 {
				t.Errorf("verify changed the tenant: %v", w)
			}
		})
	}
}

// TestVerifyFindsDrift: consent removed behind entra-link's back, a role
// assignment deleted, a secret about to expire: exit 3, the problem named,
// and the printed fix repairs it.
func TestVerifyFindsDrift(t *testing.T) {
	t.Run("consent removed", func(t *testing.T) {
		t.Parallel()
		tt := newTenant(t)
		res, _ := tt.setup(0, "--profile", "relution", "--server-url", "https://relution.contoso.com")
		appID := str(res, "clientId")
		st := tt.state()
		sp := st.spOf(appID)
		var gone string
		for _, a := range st.AppRoleAssignments {
			if a.PrincipalID == sp && a.AppRole == "Group.Read.All" {
				if code := tt.admin(http.MethodDelete, "/servicePrincipals/"+a.ResourceID+"/appRoleAssignedTo/"+a.ID, nil); code != http.StatusNoContent {
					t.Fatalf("delete assignment: %d", code)
				}
				gone = a.ID
			}
		}
		if gone == "" {
			t.Fatal("no Group.Read.All assignment to remove")
		}
		before := len(tt.sb.Requests())
		r := tt.day2(3, "verify", "--app-id", appID)
		mustContain(t, "checklist", r.stdout, "✗ admin consent Microsoft Graph · Group.Read.All — admin consent is missing",
			"✓ admin consent Microsoft Graph · User.Read.All", "✓ API permission Microsoft Graph · application · Group.Read.All", "1 problem(s) found (exit status 3)")
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("verify changed the tenant: %v", w)
		}
		fix := fixFor(t, r.stdout, "admin consent Microsoft Graph · Group.Read.All")
		want := "entra-link setup --profile relution --app-id " + appID + " --server-url https://relution.contoso.com --yes --auth env"
		if fix != want {
			t.Errorf("fix %q, want %q", fix, want)
		}
		if fr := tt.runFix(fix); fr.code != 0 {
			t.Fatalf("the fix failed: %d %s", fr.code, fr.stderr)
		}
		tt.day2(0, "verify", "--app-id", appID)
	})
	t.Run("role assignment deleted", func(t *testing.T) {
		t.Parallel()
		tt := newTenant(t)
		res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
		appID := str(res, "clientId")
		st := tt.state()
		sp := st.spOf(appID)
		for _, ra := range st.RoleAssignments {
			if ra.PrincipalID == sp && ra.RoleName == "User Administrator" {
				if code := tt.admin(http.MethodDelete, "/roleManagement/directory/roleAssignments/"+ra.ID, nil); code != http.StatusNoContent {
					t.Fatalf("delete role assignment: %d", code)
				}
			}
		}
		r := tt.day2(3, "verify", "--name", "hire2retire", "--output", "json")
		j := decode(t, r.stdout)
		if j["healthy"] != false || !strings.Contains(flowed(r.stderr), "verify found 1 problem(s): directory role User Administrator: not assigned to the app") {
			t.Errorf("json %v\nstderr %s", j, r.stderr)
		}
		var fix string
		for _, c := range j["checks"].([]any) {
			c := c.(map[string]any)
			if c["name"] == "directory role User Administrator" {
				if c["status"] != "problem" {
					t.Errorf("check %v", c)
				}
				fix = str(c, "fix")
			}
		}
		if fr := tt.runFix(fix); fr.code != 0 {
			t.Fatalf("fix %q failed: %d %s", fix, fr.code, fr.stderr)
		}
		tt.day2(0, "verify", "--app-id", appID)
	})
	t.Run("secret within the warning window", func(t *testing.T) {
		t.Parallel()
		tt := newTenant(t)
		res, _ := tt.setup(0, "--profile", "roger365", "--secret-expiry", "7d")
		appID := str(res, "clientId")
		r := tt.day2(3, "verify", "--app-id", appID)
		mustContain(t, "checklist", r.stdout, "✗ client secret", "(in 7 days, within --warn-days 30)")
		fix := fixFor(t, r.stdout, "✗ client secret")
		if fix != "entra-link rotate-secret --app-id "+appID+" --auth env" {
			t.Errorf("fix %q", fix)
		}
		tt.day2(0, "verify", "--app-id", appID, "--warn-days", "5")
		// A year-long secret is flagged by a longer window too.
		res, _ = tt.setup(0, "--profile", "entitle")
		r = tt.day2(3, "verify", "--app-id", str(res, "clientId"), "--warn-days", "400")
		mustContain(t, "checklist", r.stdout, "within --warn-days 400")
	})
}

// TestVerifyJSONShape pins the JSON contract of verify.
func TestVerifyJSONShape(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	j := decode(t, tt.day2(0, "verify", "--app-id", str(res, "clientId"), "-o", "json").stdout)
	for _, k := range []string{"app", "profile", "healthy", "checks", "problems", "cloud", "tenantId", "warnDays"} {
		if _, ok := j[k]; !ok {
			t.Errorf("no %q in %v", k, j)
		}
	}
	app := j["app"].(map[string]any)
	if app["clientId"] != str(res, "clientId") || app["applicationObjectId"] != str(res, "applicationObjectId") || app["servicePrincipalId"] != str(res, "servicePrincipalId") {
		t.Errorf("app %v", app)
	}
	for _, c := range j["checks"].([]any) {
		c := c.(map[string]any)
		if str(c, "name") == "" || (c["status"] != "ok" && c["status"] != "problem" && c["status"] != "warning") {
			t.Errorf("check %v", c)
		}
		if _, ok := c["fix"]; ok && c["status"] == "ok" {
			t.Errorf("an ok check has a fix: %v", c)
		}
	}
	if p, ok := j["problems"].([]any); !ok || len(p) != 0 {
		t.Errorf("problems must be an empty list when healthy: %v", j["problems"])
	}
}

// TestVerifyBadInput: what cannot be checked is exit 2 with a clear message.
func TestVerifyBadInput(t *testing.T) {
	tt := newTenant(t)
	foreign, _, err := tt.sb.CreatePrincipal(context.Background(), "Legacy sync", []string{"User.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entitle, _ := tt.setup(0, "--profile", "entitle")
	tt.setup(0, "--profile", "roger365", "--name", "Entitle")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown app id", []string{"--app-id", "00000000-1111-2222-3333-444444444444"}, []string{"--app-id 00000000-1111-2222-3333-444444444444", "no application"}},
		{"unknown name", []string{"--name", "Nope"}, []string{`--name "Nope"`, "no app with this name was made by entra-link"}},
		{"ambiguous name", []string{"--name", "entitle"}, []string{"matches 2 apps made by entra-link", "--app-id"}},
		{"foreign app by name", []string{"--name", "Legacy sync"}, []string{"did not create exists (client ID " + foreign + ")", "--app-id"}},
		{"foreign app without a profile", []string{"--app-id", foreign}, []string{"was not made by entra-link", "--profile ID or --profile-file PATH"}},
		{"env output", []string{"--name", "x", "--output", "env"}, []string{"verify prints text or json"}},
		{"input the recorded profile does not take", []string{"--app-id", str(entitle, "clientId"), "--server-url", "https://r.contoso.com"},
			[]string{"--server-url", "profile entitle takes no server-url"}},
		{"http server URL", []string{"--name", "x", "--profile", "relution", "--server-url", "http://r.contoso.com"}, []string{"--server-url", "https"}},
		{"redirect URI given twice", []string{"--name", "x", "--profile", "unify", "--redirect-uri", "https://a.example.com/cb", "--redirect-uri", "https://a.example.com/cb"},
			[]string{"--redirect-uri", "given twice"}},
		{"input without a value", []string{"--name", "x", "--input", "portal-url"}, []string{"--input", "want ID=VALUE"}},
		{"inputs with --all", []string{"--all", "--redirect-uri", "https://a.example.com/cb"}, []string{"--all checks each app against the inputs setup applied", "--app-id or --name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tt.day2(2, append([]string{"verify"}, tc.args...)...)
			mustContain(t, "stderr", r.stderr, tc.want...)
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
	// With --profile, a foreign app is checked (and told it carries no tags
	// and no notes); its enterprise application, made without the portal's
	// tag, is a problem with the command that fixes it.
	r := tt.day2(3, "verify", "--app-id", foreign, "--profile", "roger365")
	mustContain(t, "checklist", r.stdout, "! entra-link tags — the app carries no entra-link tags", "✓ API permission Microsoft Graph · application · User.Read.All",
		"! notes: who set the app up, for what — the app's notes do not say that entra-link set it up",
		"✗ tag WindowsAzureActiveDirectoryIntegratedApp on the enterprise application — the enterprise application lacks the tag",
		"fix: entra-link setup --profile roger365 --app-id "+foreign)
}

// TestVerifyGivenInputs: --redirect-uri checks the app against the given
// URIs instead of the ones setup applied; verify --app-id with the ones
// setup applied is healthy.
func TestVerifyGivenInputs(t *testing.T) {
	tt := newTenant(t)
	const applied, other = "https://app.unifyapps.com/oauth/callback", "https://eu.unifyapps.com/oauth/callback"
	res, _ := tt.setup(0, "--profile", "unify", "--redirect-uri", applied, "--audience", "multi-tenant")
	appID := str(res, "clientId")
	tt.day2(0, "verify", "--app-id", appID, "--redirect-uri", applied)
	r := tt.day2(3, "verify", "--app-id", appID, "--redirect-uri", other)
	mustContain(t, "checklist", r.stdout, "✗ redirect URI "+other+" — not among the app's web redirect URIs",
		"✗ redirect URI "+applied+" — Unify Integrations does not need it",
		"! entra-link tags — the --redirect-uri recorded on the app by setup differ from the ones given")
	if fix := fixFor(t, r.stdout, "redirect URI "+applied); !strings.Contains(fix, "--redirect-uri "+other+" --prune") {
		t.Errorf("fix %q", fix)
	}
}
