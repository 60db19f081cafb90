package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/output"
)

// The cases of issue 10: what the admin reviews is exactly what happens, and
// every local precondition is checked before the first write. Each test
// runs the real command against a sandbox tenant.

// planStep is one step of a "plan" (dry run) or "steps" (run) JSON list.
type planStep struct {
	Action, Kind, Target, Detail, Status string
}

func stepsOf(t *testing.T, obj map[string]any, key string) []planStep {
	t.Helper()
	raw, ok := obj[key].([]any)
	if !ok {
		t.Fatalf("no %q list in %v", key, obj)
	}
	var out []planStep
	for _, s := range raw {
		m := s.(map[string]any)
		out = append(out, planStep{Action: str(m, "action"), Kind: str(m, "kind"), Target: str(m, "target"), Detail: str(m, "detail"), Status: str(m, "status")})
	}
	return out
}

// find returns the steps whose target contains every part.
func find(steps []planStep, parts ...string) []planStep {
	var out []planStep
	for _, s := range steps {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(s.Target, p)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// TestCertificateOutChecked: --certificate-out naming a file, or a directory
// that already holds the key files, is refused by the dry run and by the
// real run alike, before anything in the tenant changes.
func TestCertificateOutChecked(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "taken.txt")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(dir, "held")
	if err := os.MkdirAll(held, 0o700); err != nil {
		t.Fatal(err)
	}
	oldKey := filepath.Join(held, "hire2retire.key.pem")
	if err := os.WriteFile(oldKey, []byte("the only copy of an earlier key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, held} {
		dry := tt.run("setup", "--profile", "hire2retire", "--certificate-out", out, "--dry-run")
		if dry.code != 2 || !strings.Contains(dry.stderr, "--certificate-out") {
			t.Errorf("dry run with --certificate-out %s: exit %d\n%s%s", out, dry.code, dry.stdout, dry.stderr)
		}
		before := len(tt.sb.Requests())
		_, r := tt.setup(2, "--profile", "hire2retire", "--certificate-out", out)
		mustContain(t, "stderr", r.stderr, "--certificate-out", "nothing was changed")
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("--certificate-out %s: the tenant was changed: %v", out, w)
		}
	}
	if b, _ := os.ReadFile(oldKey); string(b) != "the only copy of an earlier key" {
		t.Error("the existing key file was changed")
	}
}

// TestOutputFileChecked: --output-file in a directory that does not exist,
// or naming a directory, stops the run before the tenant is changed; the
// secret is never sent to stdout instead.
func TestOutputFileChecked(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing", "entitle.json"), dir} {
		before := len(tt.sb.Requests())
		obj, r := tt.setup(2, "--profile", "entitle", "--output-file", path)
		if obj != nil || r.stdout != "" {
			t.Errorf("--output-file %s: stdout %q", path, r.stdout)
		}
		mustContain(t, "stderr", r.stderr, "--output-file", "othing was changed")
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("--output-file %s: the tenant was changed: %v", path, w)
		}
	}
}

// TestKeptCertificate: a re-run that asks to generate a certificate for an
// app that already has a valid one plans, reviews and does the same: it
// keeps that certificate and names it, thumbprint and expiry.
func TestKeptCertificate(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	c, err := certs.Load("testdata/hire2retire.cer", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "certs")
	dry := tt.run("setup", "--auth", "env", "--profile", "hire2retire", "--certificate-out", out, "--dry-run", "--output", "json")
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
	}
	plan := stepsOf(t, decode(t, dry.stdout), "plan")
	kept := find(plan, c.Thumbprint)
	if len(kept) != 1 || kept[0].Action != "keep" || kept[0].Kind != "certificate" {
		t.Errorf("the plan does not keep certificate %s: %+v", c.Thumbprint, plan)
	}
	for _, s := range plan {
		if s.Kind == "key-pair" || strings.Contains(s.Target, "generate") {
			t.Errorf("the plan generates a key pair: %+v", s)
		}
	}
	before := len(tt.sb.Requests())
	r := tt.run("setup", "--auth", "env", "--yes", "--profile", "hire2retire", "--certificate-out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the re-run changed the tenant: %v", w)
	}
	mustContain(t, "text", r.stdout, "The certificate (thumbprint "+c.Thumbprint+") expires on "+c.NotAfter.UTC().Format("2006-01-02")+".")
	for _, bad := range []string{"thumbprint )", "expires on ."} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("hand-over contains %q:\n%s", bad, r.stdout)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was created although nothing was generated", out)
	}
	_ = res
}

// TestKeptSecretIsNeverMadeUp: when a re-run keeps the app's secret, the
// outputs that need its value are refused before any change, naming
// --new-credential; json and text say the secret was kept; an existing
// output file (the only copy of the secret) is not overwritten.
func TestKeptSecretIsNeverMadeUp(t *testing.T) {
	tt := newTenant(t)
	file := filepath.Join(t.TempDir(), "entitle.json")
	first, _ := tt.setup(0, "--profile", "entitle", "--output-file", file)
	if first != nil {
		t.Fatalf("stdout with --output-file: %v", first)
	}
	saved, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(saved), `"clientSecret"`) {
		t.Fatalf("first run's file: %v\n%s", err, saved)
	}
	for _, format := range []string{"handover", "env"} {
		before := len(tt.sb.Requests())
		r := tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", format)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("--output %s with a kept secret: exit %d, stdout %q", format, r.code, r.stdout)
		}
		mustContain(t, "stderr", r.stderr, "--output "+format, "--new-credential")
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("--output %s: the tenant was changed: %v", format, w)
		}
	}
	js, r := tt.setup(0, "--profile", "entitle")
	if strings.Contains(r.stdout, "unchanged") || strings.Contains(r.stdout, "not shown again)") {
		t.Errorf("json carries a made-up secret:\n%s", r.stdout)
	}
	if ho, _ := js["handover"].(map[string]any); ho == nil || ho["secret"] != nil || ho["client_id"] != str(first2(t, saved), "clientId") {
		t.Errorf("handover %v", js["handover"])
	}
	kept, _ := js["keptSecret"].(map[string]any)
	if kept == nil || str(kept, "keyId") != str(first2(t, saved), "clientSecretKeyId") {
		t.Errorf("keptSecret %v", js["keptSecret"])
	}
	text := tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle")
	if text.code != 0 || strings.Contains(text.stdout, "unchanged") {
		t.Errorf("text: exit %d\n%s", text.code, text.stdout)
	}
	mustContain(t, "text", text.stdout, "kept", "--new-credential")

	// --force must not destroy the only copy of the kept secret.
	before := len(tt.sb.Requests())
	forced := tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "json", "--output-file", file, "--force")
	if forced.code != 2 {
		t.Errorf("--force over the file holding the kept secret: exit %d\n%s", forced.code, forced.stderr)
	}
	mustContain(t, "stderr", forced.stderr, file, "--new-credential")
	if now, _ := os.ReadFile(file); string(now) != string(saved) {
		t.Error("the file holding the secret was overwritten")
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the tenant was changed: %v", w)
	}
	// With --new-credential the hand-over is complete again.
	r = tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "handover", "--new-credential")
	if r.code != 0 || !strings.Contains(r.stdout, `"secret": "`) {
		t.Errorf("--new-credential: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func first2(t *testing.T, b []byte) map[string]any { return decode(t, string(b)) }

// TestProfileHandoverCarriesTheSecret: a profile file that creates a secret
// but hands over no {{clientSecret}} is refused when it is read, with
// file:line, before anything happens.
func TestProfileHandoverCarriesTheSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nosecret.yaml")
	doc := `id: nosecret
product: No Secret
description: hands over no secret
displayName: No Secret
credential: {default: secret}
permissions:
  - resource: Microsoft Graph
    application: [User.Read.All]
handover:
  fields:
    - label: Client ID
      value: "{{clientId}}"
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "setup", "--profile-file", path, "--dry-run")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, path+":11:", "{{clientSecret}}")
}

// TestFeatureOffAndPrune: turning Hire2Retire's Exchange feature off lists
// its consent, role and permission as extras (kept, and said so); --prune
// removes them, consent and role first.
func TestFeatureOffAndPrune(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange")
	appID := str(res, "clientId")
	off := []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"}

	dry := tt.run(append([]string{"setup", "--auth", "env", "--dry-run", "--output", "json"}, off...)...)
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
	}
	plan := stepsOf(t, decode(t, dry.stdout), "plan")
	for _, want := range [][]string{{"Exchange Administrator"}, {"Exchange.ManageAsApp", "consent"}, {"Exchange.ManageAsApp", "API permission"}} {
		if got := find(plan, want...); len(got) != 1 || got[0].Action != "extra" {
			t.Errorf("plan for %v: %+v\n%+v", want, got, plan)
		}
	}
	text := tt.run(append([]string{"setup", "--auth", "env", "--dry-run"}, off...)...)
	mustContain(t, "dry run", text.stdout, "extra", "Exchange Administrator", "--prune")

	tt.setup(0, off...)
	st := tt.state()
	sp := st.spOf(appID)
	if !slices.Contains(st.roles(sp), "Exchange Administrator") || !slices.Contains(st.consented(sp), "Office 365 Exchange Online/Exchange.ManageAsApp") {
		t.Errorf("without --prune the extras must stay: roles %v consented %v", st.roles(sp), st.consented(sp))
	}

	before := len(tt.sb.Requests())
	pruned, _ := tt.setup(0, append(off, "--prune")...)
	st = tt.state()
	if slices.Contains(st.roles(sp), "Exchange Administrator") || slices.Contains(st.consented(sp), "Office 365 Exchange Online/Exchange.ManageAsApp") {
		t.Errorf("--prune left roles %v consented %v", st.roles(sp), st.consented(sp))
	}
	if got := st.roles(sp); !slices.Equal(got, []string{"User Administrator"}) {
		t.Errorf("roles %v", got)
	}
	for _, rra := range st.Applications[st.app(t, appID)].RequiredResourceAccess {
		if strings.EqualFold(rra.ResourceAppID, catalog.ExchangeAppID) {
			t.Errorf("Exchange is still requested: %+v", rra)
		}
	}
	// Consent and role removals happen before the app's own list changes.
	var order []string
	for _, w := range tt.writes(before) {
		switch {
		case strings.Contains(w, "appRoleAssignedTo"), strings.Contains(w, "roleAssignments"):
			order = append(order, "grant")
		case strings.HasPrefix(w, "PATCH ") && strings.Contains(w, "/applications/"):
			order = append(order, "app")
		}
	}
	if !slices.Equal(order, []string{"grant", "grant", "app"}) {
		t.Errorf("write order %v (%v)", order, tt.writes(before))
	}
	for _, s := range stepsOf(t, pruned, "steps") {
		if s.Action == "remove" && s.Status != "done" {
			t.Errorf("removal %+v", s)
		}
	}
	tt.day2(0, "verify", "--app-id", appID)
}

// TestVerifyFindsStraysAndMissing: a stray redirect URI, a stray identifier
// URI, an extra permission and a missing role are each a problem in words,
// with a fix command that, run as printed, makes verify exit 0.
func TestVerifyFindsStraysAndMissing(t *testing.T) {
	relution := []string{"--profile", "relution", "--server-url", "https://relution.contoso.com"}
	mailSend, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("Mail.Send", catalog.Application)
	cases := []struct {
		name    string
		setup   []string
		breakIt func(tt *tenant, appObjectID, spID string)
		problem []string // words in the checklist line
		fix     string   // in the fix command
	}{
		{"stray redirect URI", relution, func(tt *tenant, obj, _ string) {
			if code := tt.admin(http.MethodPatch, "/applications/"+obj, map[string]any{"web": map[string]any{
				"redirectUris": []string{"https://relution.contoso.com", "https://evil.example.com/cb"}}}); code != http.StatusNoContent {
				tt.t.Fatalf("patch: %d", code)
			}
		}, []string{"redirect URI https://evil.example.com/cb"}, "--prune"},
		// Unify's redirect URIs are its input: the one setup applied is
		// told from one added later by the fingerprint setup recorded.
		{"stray redirect URI on unify", []string{"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback", "--audience", "multi-tenant"}, func(tt *tenant, obj, _ string) {
			if code := tt.admin(http.MethodPatch, "/applications/"+obj, map[string]any{"web": map[string]any{
				"redirectUris": []string{"https://app.unifyapps.com/oauth/callback", "https://evil.example.com/cb"}}}); code != http.StatusNoContent {
				tt.t.Fatalf("patch: %d", code)
			}
		}, []string{"redirect URI https://evil.example.com/cb", "not one setup applied"}, "--redirect-uri https://app.unifyapps.com/oauth/callback --prune"},
		{"stray identifier URI", relution, func(tt *tenant, obj, _ string) {
			if code := tt.admin(http.MethodPatch, "/applications/"+obj, map[string]any{
				"identifierUris": []string{"https://relution.contoso.com", "https://stray.contoso.com"}}); code != http.StatusNoContent {
				tt.t.Fatalf("patch: %d", code)
			}
		}, []string{"identifier URI https://stray.contoso.com"}, "--prune"},
		{"extra permission", []string{"--profile", "entitle"}, func(tt *tenant, obj, sp string) {
			st := tt.state()
			var graphSP string
			for _, s := range st.ServicePrincipals {
				if s.AppID == catalog.GraphAppID {
					graphSP = s.ID
				}
			}
			var access []map[string]string
			for _, a := range st.Applications {
				if a.ID != obj {
					continue
				}
				for _, rra := range a.RequiredResourceAccess {
					for _, ra := range rra.ResourceAccess {
						access = append(access, map[string]string{"id": ra.ID, "type": ra.Type})
					}
				}
			}
			access = append(access, map[string]string{"id": mailSend.ID, "type": "Role"})
			if code := tt.admin(http.MethodPatch, "/applications/"+obj, map[string]any{"requiredResourceAccess": []any{
				map[string]any{"resourceAppId": catalog.GraphAppID, "resourceAccess": access}}}); code != http.StatusNoContent {
				tt.t.Fatalf("patch: %d", code)
			}
			if code := tt.admin(http.MethodPost, "/servicePrincipals/"+graphSP+"/appRoleAssignedTo", map[string]any{
				"principalId": sp, "resourceId": graphSP, "appRoleId": mailSend.ID}); code != http.StatusCreated {
				tt.t.Fatalf("assign: %d", code)
			}
		}, []string{"Microsoft Graph · application · Mail.Send"}, "--prune"},
		{"missing role", []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"}, func(tt *tenant, _, sp string) {
			for _, ra := range tt.state().RoleAssignments {
				if ra.PrincipalID == sp && ra.RoleName == "User Administrator" {
					if code := tt.admin(http.MethodDelete, "/roleManagement/directory/roleAssignments/"+ra.ID, nil); code != http.StatusNoContent {
						tt.t.Fatalf("delete: %d", code)
					}
				}
			}
		}, []string{"directory role User Administrator"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := newTenant(t)
			res, _ := tt.setup(0, tc.setup...)
			appID := str(res, "clientId")
			tt.breakIt(tc.breakIt, str(res, "applicationObjectId"), str(res, "servicePrincipalId"))
			r := tt.day2(3, "verify", "--app-id", appID)
			line := ""
			for _, l := range strings.Split(r.stdout, "\n") {
				if strings.Contains(l, "✗") && strings.Contains(l, tc.problem[0]) {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no problem line naming %q:\n%s", tc.problem[0], r.stdout)
			}
			for _, bad := range []string{"ROLE", "(scope", mailSend.ID} {
				if strings.Contains(r.stdout, bad) {
					t.Errorf("checklist contains %q:\n%s", bad, r.stdout)
				}
			}
			mustContain(t, "checklist", r.stdout, tc.problem[1:]...)
			fix := fixFor(t, r.stdout, tc.problem[0])
			if !strings.HasPrefix(fix, "entra-link setup ") || !strings.Contains(fix, tc.fix) {
				t.Fatalf("fix %q is not a setup command with %q", fix, tc.fix)
			}
			if fr := tt.runFix(fix); fr.code != 0 {
				t.Fatalf("fix %q: exit %d\n%s", fix, fr.code, fr.stderr)
			}
			tt.day2(0, "verify", "--app-id", appID)
		})
	}
}

// breakIt runs a test case's change behind entra-link's back.
func (tt *tenant) breakIt(fn func(*tenant, string, string), obj, sp string) { fn(tt, obj, sp) }

// TestAdoptExistingApp: setup --app-id keeps the app's name, merges the
// profile's permissions into what it requests (a foreign delegated
// User.Read stays), shows the changes, and refuses the signed-in
// identity's own app.
func TestAdoptExistingApp(t *testing.T) {
	tt := newTenant(t)
	userRead, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("User.Read", catalog.Delegated)
	if code := tt.admin(http.MethodPost, "/applications", map[string]any{
		"displayName": "Legacy portal",
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": catalog.GraphAppID,
			"resourceAccess": []any{map[string]string{"id": userRead.ID, "type": "Scope"}}}},
	}); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	var appID string
	for _, a := range tt.state().Applications {
		if a.DisplayName == "Legacy portal" {
			appID = a.AppID
		}
	}
	dry := tt.run("setup", "--auth", "env", "--profile", "entitle", "--app-id", appID, "--dry-run", "--output", "json")
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
	}
	plan := stepsOf(t, decode(t, dry.stdout), "plan")
	if got := find(plan, "User.Read"); len(got) != 1 || got[0].Action != "extra" {
		t.Errorf("User.Read in the plan: %+v", got)
	}
	if got := find(plan, "Directory.ReadWrite.All", "API permission"); len(got) != 1 || got[0].Action != "create" {
		t.Errorf("Directory.ReadWrite.All in the plan: %+v", got)
	}
	res, _ := tt.setup(0, "--profile", "entitle", "--app-id", appID)
	st := tt.state()
	app := st.Applications[st.app(t, appID)]
	if app.DisplayName != "Legacy portal" || str(res, "displayName") != "Legacy portal" {
		t.Errorf("the app was renamed to %q", app.DisplayName)
	}
	var requested []string
	for _, rra := range app.RequiredResourceAccess {
		for _, ra := range rra.ResourceAccess {
			requested = append(requested, ra.ID+"/"+ra.Type)
		}
	}
	if !slices.Contains(requested, userRead.ID+"/Scope") || len(requested) != 3 {
		t.Errorf("requested %v: want User.Read kept next to Entitle's two", requested)
	}

	// --name renames it.
	tt.setup(0, "--profile", "entitle", "--app-id", appID, "--name", "Entitle")
	st = tt.state()
	if n := st.Applications[st.app(t, appID)].DisplayName; n != "Entitle" {
		t.Errorf("--name: %q", n)
	}

	// The signed-in identity's own app is refused.
	self := tt.sb.Tenant().ClientID
	before := len(tt.sb.Requests())
	_, r := tt.setup(2, "--profile", "entitle", "--app-id", self)
	mustContain(t, "stderr", r.stderr, self, "signed in", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the signed-in app was changed: %v", w)
	}
}

// TestDryRunNeedsNoPrompt: a dry run without a certificate flag, even in a
// terminal, plans the default (a key pair in ./hire2retire-cert); a value
// without a default is a placeholder naming its flag.
func TestDryRunNeedsNoPrompt(t *testing.T) {
	tt := newTenant(t)
	r := tt.runTerminal("", nil, "setup", "--profile", "hire2retire", "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "plan", r.stdout, "hire2retire-cert", "--certificate-out")
	r = run(t, "setup", "--profile", "relution", "--dry-run", "--no-input")
	if r.code != 0 {
		t.Fatalf("relution: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "plan", r.stdout, "--server-url")
	r = run(t, "setup", "--profile", "unify", "--dry-run", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, "--redirect-uri") {
		t.Errorf("unify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDayTwoDryRun: rotate-secret --dry-run and delete --dry-run print
// their plans and change nothing.
func TestDayTwoDryRun(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID := str(res, "clientId")
	before := len(tt.sb.Requests())
	r := tt.day2(0, "rotate-secret", "--app-id", appID, "--remove-old", "--dry-run")
	mustContain(t, "rotate plan", r.stdout, "dry run", "create", "client secret", "remove")
	r = tt.day2(0, "delete", "--app-id", appID, "--dry-run", "--output", "json")
	plan := stepsOf(t, decode(t, r.stdout), "plan")
	if got := find(plan, "Directory.ReadWrite.All"); len(got) != 1 || got[0].Action != "remove" {
		t.Errorf("delete plan %+v", plan)
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("a dry run changed the tenant: %v", w)
	}
}

// TestInterruptedStepSaysSo: a step in flight when Ctrl-C arrives is
// reported as interrupted, not as its Graph failure.
func TestInterruptedStepSaysSo(t *testing.T) {
	tt := newTenant(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo") {
				once.Do(cancel)
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return next.RoundTrip(r)
		})
	}
	r := tt.runCtx(ctx, "setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "json")
	if r.code != 130 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	steps := stepsOf(t, decode(t, r.stdout), "steps")
	interrupted := 0
	for _, s := range steps {
		if s.Status == "failed" {
			t.Errorf("step reported as failed: %+v", s)
		}
		if s.Status == "interrupted" {
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Errorf("no step reported as interrupted: %+v", steps)
	}
	if strings.Contains(r.stderr, "✗") {
		t.Errorf("progress shows a failure:\n%s", r.stderr)
	}
}

// TestLowPrivilegesSameWordsEveryRun: the second run of an identity that
// cannot read the app's role assignments explains in the same words as the
// first (exit 4), never a raw 403; an identity that cannot read
// applications gets one message in words.
func TestLowPrivilegesSameWordsEveryRun(t *testing.T) {
	tt := newTenant(t)
	id, secret, err := tt.sb.CreatePrincipal(context.Background(), "app manager", []string{"Application.ReadWrite.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
	args := []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"}
	_, first := tt.setup(4, args...)
	_, second := tt.setup(4, args...)
	for _, words := range []string{
		"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator",
		"assigning directory roles needs Privileged Role Administrator or Global Administrator",
	} {
		mustContain(t, "first run", first.stderr, words)
		mustContain(t, "second run", second.stderr, words)
	}
	// "403" on its own, not inside an id or thumbprint.
	status403 := regexp.MustCompile(`(^|[^0-9A-Za-z-])403([^0-9A-Za-z-]|$)`)
	if status403.MatchString(second.stderr) || status403.MatchString(second.stdout) {
		t.Errorf("second run shows a raw 403:\n%s\n%s", second.stderr, second.stdout)
	}
	for _, raw := range []string{"Authorization_RequestDenied", "list directory role assignments"} {
		if strings.Contains(second.stderr, raw) || strings.Contains(second.stdout, raw) {
			t.Errorf("second run shows %q:\n%s\n%s", raw, second.stderr, second.stdout)
		}
	}

	reader, rsecret, err := tt.sb.CreatePrincipal(context.Background(), "user reader", []string{"User.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = reader, rsecret
	_, r := tt.setup(1, "--profile", "entitle")
	if status403.MatchString(r.stderr) || strings.Contains(r.stderr, "Authorization_RequestDenied") {
		t.Errorf("raw 403s:\n%s", r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "Application.ReadWrite.All", "othing was changed")
	if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 6 {
		t.Errorf("%d lines for one problem:\n%s", n+1, r.stderr)
	}
}

// TestPlanIsWhatHappens: for every built-in profile, the dry run (reading
// the tenant), the wizard's review, the flag path's confirmation and the
// apply render the same steps; the steps are pinned in testdata/plan.
func TestPlanIsWhatHappens(t *testing.T) {
	lines := func(steps []planStep) []string {
		out := make([]output.Step, 0, len(steps))
		for _, s := range steps {
			out = append(out, output.Step{Action: s.Action, Target: s.Target, Detail: s.Detail})
		}
		return output.PlanLines(out)
	}
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, tc := range profileRuns {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := newTenant(t)
			dry := tt.run(append([]string{"setup", "--auth", "env", "--dry-run", "--output", "json"}, tc.args...)...)
			if dry.code != 0 {
				t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
			}
			planned := lines(stepsOf(t, decode(t, dry.stdout), "plan"))

			// The wizard, every question answered with its default: review, apply.
			wiz := tt.runTerminal(strings.Repeat("\n", 30), nil, append([]string{"setup", "--auth", "env", "--accessible", "--cloud", "global", "--output", "json"}, tc.args...)...)
			if wiz.code != 0 {
				t.Fatalf("wizard: exit %d\n%s", wiz.code, wiz.stderr)
			}
			_, review, ok := strings.Cut(wiz.stderr, "Review — nothing has been changed yet\n")
			review, _, _ = strings.Cut(review, "\n\n")
			if !ok || !strings.Contains(collapse(review), collapse(strings.Join(planned, "\n"))) {
				t.Errorf("the review is not the plan:\n%s\nplan:\n%s", review, strings.Join(planned, "\n"))
			}
			applied := lines(stepsOf(t, decode(t, wiz.stdout), "steps"))
			if !slices.Equal(applied, planned) {
				t.Errorf("applied steps differ from the plan:\n%s\nplan:\n%s", strings.Join(applied, "\n"), strings.Join(planned, "\n"))
			}
			for _, s := range stepsOf(t, decode(t, wiz.stdout), "steps") {
				if s.Status != "done" && s.Status != "ok" {
					t.Errorf("step not done: %+v", s)
				}
			}

			// The flag path in a fresh tenant: its confirmation is the plan too.
			fresh := newTenant(t)
			res, r := fresh.setup(0, tc.args...)
			if !strings.Contains(collapse(r.stderr), collapse(strings.Join(planned, "\n"))) {
				t.Errorf("the flag path's confirmation is not the plan:\n%s", r.stderr)
			}
			if got := lines(stepsOf(t, res, "steps")); !slices.Equal(got, planned) {
				t.Errorf("flag path applied:\n%s", strings.Join(got, "\n"))
			}

			// Pinned: action and target (details carry today's date).
			var pinned strings.Builder
			for _, s := range stepsOf(t, decode(t, dry.stdout), "plan") {
				pinned.WriteString(output.ActionWord(s.Action) + "  " + s.Target + "\n")
			}
			golden(t, "plan/"+tc.name+".txt", pinned.String())
		})
	}
}

// TestCertificateDefaultDirectory: without --certificate-file or
// --certificate-out, a certificate app that has no valid certificate gets
// a key pair generated in ./<profile>-cert: what the dry run (offline and
// reading the tenant) plans is what the run does, and the wizard suggests
// the same directory. A re-run keeps the certificate.
func TestCertificateDefaultDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	tt := newTenant(t)
	offline := tt.run("setup", "--profile", "hire2retire", "--dry-run", "--output", "json")
	online := tt.run("setup", "--auth", "env", "--profile", "hire2retire", "--dry-run", "--output", "json")
	if offline.code != 0 || online.code != 0 {
		t.Fatalf("dry runs: exit %d, %d\n%s%s", offline.code, online.code, offline.stderr, online.stderr)
	}
	targets := func(steps []planStep) []string {
		var out []string
		for _, s := range steps {
			if strings.Contains(s.Target, "cert") || strings.Contains(s.Target, "key pair") {
				out = append(out, s.Action+" "+s.Target)
			}
		}
		return out
	}
	planned := targets(stepsOf(t, decode(t, online.stdout), "plan"))
	want := []string{"check --certificate-out ./hire2retire-cert", "check app management policy (certificates)", "create key pair and self-signed certificate (RSA 2048, valid 1 year)", "create certificate generated in ./hire2retire-cert"}
	if !slices.Equal(planned, want) {
		t.Errorf("planned %q, want %q", planned, want)
	}
	if off := strings.Join(targets(stepsOf(t, decode(t, offline.stdout), "plan")), "\n"); !strings.Contains(off, "./hire2retire-cert") {
		t.Errorf("the offline plan: %s", off)
	}
	res, _ := tt.setup(0, "--profile", "hire2retire")
	if got := targets(stepsOf(t, res, "steps")); !slices.Equal(got, want) {
		t.Errorf("the run did %q, not the plan %q", got, want)
	}
	fi, err := os.Stat(filepath.Join("hire2retire-cert", "hire2retire.key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the private key in ./hire2retire-cert: %v %v", fi, err)
	}
	before := len(tt.sb.Requests())
	tt.setup(0, "--profile", "hire2retire")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the re-run changed the tenant: %v", w)
	}

	// The wizard's suggestion is the same directory.
	fresh := newTenant(t)
	wiz := fresh.runTerminal(strings.Repeat("\n", 30), nil, "setup", "--auth", "env", "--accessible", "--cloud", "global", "--profile", "hire2retire", "--name", "Wizard H2R", "--output", "json")
	mustContain(t, "wizard", wiz.stderr, "./hire2retire-cert")
	if strings.Contains(wiz.stderr, "hire2retire-certificate") {
		t.Errorf("the wizard suggests another directory:\n%s", wiz.stderr)
	}
}
