package setup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// tenantFor is what preflight would read from a tenant holding app (nil:
// none), with Microsoft Graph's service principal and a Global
// Administrator signed in.
func tenantFor(app *graph.Application, st AppState) *Tenant {
	t := &Tenant{
		Org:       graph.Organization{ID: "tenant-1", DisplayName: "Contoso"},
		Identity:  graph.Identity{TenantID: "tenant-1", AppOnly: true, ClientAppID: "admin-app"},
		Resources: map[string]graph.ServicePrincipal{strings.ToLower(catalog.GraphAppID): graphSP()},
		App:       app,
		AppState:  st,
		Can:       Capabilities{CreateApps: true, ConsentGraph: true, ConsentOther: true, GrantDelegated: true, AssignRoles: true},
		// No app management policy is enabled, and the admin may read that.
		Policy: PolicyRead{Default: &graph.AppManagementPolicy{Default: true}, AppRead: true},
	}
	if t.Unread == nil {
		t.Unread = map[Kind]string{}
	}
	return t
}

func mustPlan(t *testing.T, s *profile.Spec, tn *Tenant, opt PlanOptions) *Plan {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now
	}
	p, err := NewPlan(s, tn, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func stepByTarget(t *testing.T, p *Plan, target string) *Step {
	t.Helper()
	for _, s := range p.Steps {
		if s.Target == target {
			return s
		}
	}
	t.Fatalf("no step %q in\n%s", target, strings.Join(p.Lines(), "\n"))
	return nil
}

// entitleApp is an Entitle app as setup leaves it.
func entitleApp(s *profile.Spec) (*graph.Application, AppState) {
	app := &graph.Application{ID: "o1", AppID: "a1", DisplayName: "Entitle", SignInAudience: "AzureADMyOrg", Tags: append([]string(nil), s.Tags...),
		UniqueName: UniqueName("entitle", "Entitle"),
		Notes:      "Set up by entra-link 1.0.0 for Entitle (profile entitle) on 2026-11-01 by admin@contoso.com."}
	rra := graph.RequiredResourceAccess{ResourceAppID: catalog.GraphAppID}
	st := AppState{SP: &graph.ServicePrincipal{ID: "sp1", AppID: "a1", Tags: []string{PortalTag}}, Unread: map[Kind]string{}}
	for _, p := range s.Permissions {
		rra.ResourceAccess = append(rra.ResourceAccess, graph.ResourceAccess{ID: p.ID, Type: "Role"})
		st.Assignments = append(st.Assignments, graph.AppRoleAssignment{ID: "as-" + p.Name, PrincipalID: "sp1", ResourceID: "graph-sp", AppRoleID: p.ID})
	}
	app.RequiredResourceAccess = []graph.RequiredResourceAccess{rra}
	app.PasswordCredentials = []graph.PasswordCredential{{KeyID: "k1", Hint: "abc", EndDateTime: now.AddDate(1, 0, 0)}}
	return app, st
}

// TestPlanFreshTenant: a fresh tenant's plan creates everything in three
// rounds (app; service principal and secret; consent), none of them
// waiting for more than it needs.
func TestPlanFreshTenant(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	p := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{})
	want := map[string]int{`app registration "Entitle"`: 1, "client secret": 2, `enterprise application (service principal) for "Entitle"`: 2,
		"admin consent Microsoft Graph · Directory.ReadWrite.All": 3}
	for target, round := range want {
		if st := stepByTarget(t, p, target); st.Action != ActCreate || st.Round != round {
			t.Errorf("%s: %s in round %d, want create in round %d", target, st.Action, st.Round, round)
		}
	}
	if p.Rounds() != 3 || !p.Changes() || len(p.Problems()) != 0 {
		t.Errorf("rounds %d changes %v problems %v", p.Rounds(), p.Changes(), p.Problems())
	}
}

// TestPlanOffline: without the tenant, what depends on it says "create or
// update", in the rounds of a fresh tenant; such a plan cannot be applied.
func TestPlanOffline(t *testing.T) {
	s := spec(t, "hire2retire", profile.Request{CertificateOut: t.TempDir(), Features: []string{"exchange"}})
	p := mustPlan(t, s, nil, PlanOptions{})
	for _, st := range p.Steps {
		switch st.Kind {
		case KindCertificateOut, KindCredentialPolicy:
			if st.Action != ActCheck || st.Problem != "" {
				t.Errorf("check %+v", st)
			}
		default:
			if st.Action != ActCreateOrUpdate {
				t.Errorf("offline step %q: %s", st.Target, st.Action)
			}
		}
	}
	if r := stepByTarget(t, p, "directory role Exchange Administrator").Round; r != 3 {
		t.Errorf("role in round %d", r)
	}
	if _, err := Apply(context.Background(), testEnv(newFake()), p); err == nil {
		t.Error("an offline plan was applied")
	}
}

// TestPlanSecretRule: one place decides whether a secret is kept: valid
// for more than a day. --new-credential adds one anyway.
func TestPlanSecretRule(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	for _, tc := range []struct {
		left   time.Duration
		newCr  bool
		action Action
	}{
		{48 * time.Hour, false, ActKeep},
		{12 * time.Hour, false, ActCreate},
		{-time.Hour, false, ActCreate},
		{365 * 24 * time.Hour, true, ActCreate},
	} {
		app, st := entitleApp(s)
		app.PasswordCredentials[0].EndDateTime = now.Add(tc.left)
		p := mustPlan(t, s, tenantFor(app, st), PlanOptions{NewCredential: tc.newCr})
		cred := p.Step("credential")
		if cred.Action != tc.action {
			t.Errorf("secret valid for %v (new %v): %s", tc.left, tc.newCr, cred.Action)
		}
		if (tc.action == ActKeep) != (p.KeptSecret != nil) {
			t.Errorf("KeptSecret %v for %s", p.KeptSecret, cred.Action)
		}
	}
}

// TestPlanRerunKeepsEverything: an app as setup left it plans only keeps.
func TestPlanRerunKeepsEverything(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{})
	if p.Changes() || p.Rounds() != 0 {
		t.Errorf("re-run plan changes something:\n%s", strings.Join(p.Lines(), "\n"))
	}
}

// TestPlanKeptSecretOutputs: outputs that need a kept secret's value, and
// --force over a file that may hold it, are failed checks.
func TestPlanKeptSecretOutputs(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	for _, format := range []string{output.FormatHandover, output.FormatEnv} {
		p := mustPlan(t, s, tenantFor(app, st), PlanOptions{OutputFormat: format})
		if probs := p.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "--new-credential") {
			t.Errorf("--output %s: %v", format, probs)
		}
		if p := mustPlan(t, s, tenantFor(app, st), PlanOptions{OutputFormat: format, NewCredential: true}); len(p.Problems()) != 0 {
			t.Errorf("--output %s --new-credential: %v", format, p.Problems())
		}
	}
	file := t.TempDir() + "/entitle.json"
	if err := writeFile(file); err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{OutputFormat: output.FormatJSON, OutputFile: file, Force: true})
	if probs := p.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "only copy") {
		t.Errorf("--force over the kept secret's file: %v", probs)
	}
}

// TestPlanPrune: extras are listed and kept; with --prune the consent and
// the role go in the first round, the app's own lists after them.
func TestPlanPrune(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	mail, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("Mail.Send", catalog.Application)
	app.RequiredResourceAccess[0].ResourceAccess = append(app.RequiredResourceAccess[0].ResourceAccess, graph.ResourceAccess{ID: mail.ID, Type: "Role"})
	app.Web.RedirectURIs = []string{"https://stray.example.com/cb"}
	st.Assignments = append(st.Assignments, graph.AppRoleAssignment{ID: "mail", ResourceID: "graph-sp", AppRoleID: mail.ID})
	st.RoleAssignments = []graph.RoleAssignment{{ID: "ra", RoleDefinitionID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DirectoryScopeID: "/"}}

	kept := mustPlan(t, s, tenantFor(app, st), PlanOptions{})
	if n := len(kept.Extras()); n != 4 || kept.Changes() {
		t.Errorf("%d extras, changes %v:\n%s", n, kept.Changes(), strings.Join(kept.Lines(), "\n"))
	}
	if !slices.ContainsFunc(kept.Warnings, func(w string) bool { return strings.Contains(w, "--prune") }) {
		t.Errorf("warnings %v", kept.Warnings)
	}

	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{Prune: true})
	consent := stepByTarget(t, p, "admin consent Microsoft Graph · Mail.Send")
	role := stepByTarget(t, p, "directory role User Administrator")
	appStep := p.Step("app")
	if consent.Action != ActRemove || role.Action != ActRemove || appStep.Action != ActUpdate {
		t.Fatalf("prune plan:\n%s", strings.Join(p.Lines(), "\n"))
	}
	if consent.Round != 1 || role.Round != 1 || appStep.Round != 2 || !slices.Contains(appStep.After, consent.ID) || !slices.Contains(appStep.After, role.ID) {
		t.Errorf("rounds: consent %d role %d app %d (after %v)", consent.Round, role.Round, appStep.Round, appStep.After)
	}
	for _, target := range []string{"API permission Microsoft Graph · application · Mail.Send", "redirect URI https://stray.example.com/cb"} {
		if st := stepByTarget(t, p, target); st.Action != ActRemove || st.PartOf != "app" {
			t.Errorf("%s: %+v", target, st)
		}
	}
	u := appStep.payload.(*appUpdate).update
	if u.RequiredResourceAccess == nil || len((*u.RequiredResourceAccess)[0].ResourceAccess) != 2 || u.Web == nil || len(u.Web.RedirectURIs) != 0 {
		t.Errorf("update %+v", u)
	}
}

// TestPlanAdopt: --app-id keeps the app's name and audience, merges the
// profile's permissions, and refuses the signed-in app; --prune refuses
// an app entra-link does not manage.
func TestPlanAdopt(t *testing.T) {
	s := spec(t, "unify", profile.Request{AppID: "00000000-0000-0000-0000-0000000000a1", Values: map[string][]string{"redirect-uri": {"https://u.example.com/cb"}}})
	userRead, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("User.Read", catalog.Delegated)
	app := &graph.Application{ID: "o1", AppID: "00000000-0000-0000-0000-0000000000a1", DisplayName: "Legacy", SignInAudience: "AzureADMultipleOrgs",
		RequiredResourceAccess: []graph.RequiredResourceAccess{{ResourceAppID: catalog.GraphAppID, ResourceAccess: []graph.ResourceAccess{{ID: userRead.ID, Type: "Scope"}}}}}
	p := mustPlan(t, s, tenantFor(app, AppState{}), PlanOptions{})
	appStep := p.Step("app")
	if appStep.Target != `app registration "Legacy"` || strings.Contains(appStep.Detail, "display name") || strings.Contains(appStep.Detail, "account type") {
		t.Errorf("app step %+v", appStep)
	}
	if st := stepByTarget(t, p, "API permission Microsoft Graph · delegated · User.Read"); st.Action != ActExtra {
		t.Errorf("User.Read: %s", st.Action)
	}
	u := appStep.payload.(*appUpdate).update
	if u.DisplayName != nil || u.SignInAudience != nil || u.RequiredResourceAccess == nil || len((*u.RequiredResourceAccess)[0].ResourceAccess) != 5 {
		t.Errorf("update %+v", u)
	}

	tn := tenantFor(app, AppState{})
	tn.Identity.ClientAppID = app.AppID
	if _, err := NewPlan(s, tn, PlanOptions{Now: now}); err == nil || !strings.Contains(err.Error(), "signed in as") {
		t.Errorf("the signed-in app: %v", err)
	}
	if _, err := NewPlan(s, tenantFor(app, AppState{}), PlanOptions{Now: now, Prune: true}); err == nil || !strings.Contains(err.Error(), "was not made by entra-link") {
		t.Errorf("--prune on a foreign app: %v", err)
	}
}

// TestPlanUnreadable: role assignments the identity may not read are
// planned around in words: pending for an admin, never a raw error.
func TestPlanUnreadable(t *testing.T) {
	s := spec(t, "hire2retire", profile.Request{CertificateFile: "../cli/testdata/hire2retire.cer"})
	app := &graph.Application{ID: "o1", AppID: "a1", DisplayName: "Hire2Retire", SignInAudience: "AzureADMyOrg", Tags: s.Tags}
	tn := tenantFor(app, AppState{SP: &graph.ServicePrincipal{ID: "sp1"}, Unread: map[Kind]string{KindRole: "the signed-in identity may not read the app's directory role assignments (that needs RoleManagement.Read.Directory)"}})
	tn.Can.AssignRoles = false
	p := mustPlan(t, s, tn, PlanOptions{})
	st := stepByTarget(t, p, "directory role User Administrator")
	if st.Action != ActCreateOrUpdate || !strings.Contains(st.Unknown, "RoleManagement.Read.Directory") || !strings.Contains(st.Pending, "Privileged Role Administrator") {
		t.Errorf("role step %+v", st)
	}
}

// roundGraph answers the few requests TestApplyStopsWhatWaits makes.
type roundGraph struct {
	graph.API
	deleteErr error
	updates   int
}

func (g *roundGraph) DeleteAppRoleAssignment(context.Context, string, string) error {
	return g.deleteErr
}
func (g *roundGraph) DeleteRoleAssignment(context.Context, string) error { return nil }
func (g *roundGraph) UpdateApplication(context.Context, string, graph.ApplicationUpdate) error {
	g.updates++
	return nil
}

// TestApplyStopsWhatWaits: a step whose predecessor failed does not run,
// and says why; the result lists every step of the plan in its order.
func TestApplyStopsWhatWaits(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	mail, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("Mail.Send", catalog.Application)
	app.RequiredResourceAccess[0].ResourceAccess = append(app.RequiredResourceAccess[0].ResourceAccess, graph.ResourceAccess{ID: mail.ID, Type: "Role"})
	st.Assignments = append(st.Assignments, graph.AppRoleAssignment{ID: "mail", ResourceID: "graph-sp", AppRoleID: mail.ID})
	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{Prune: true})
	g := &roundGraph{deleteErr: errors.New("boom")}
	res, err := Apply(context.Background(), testEnv(g), p)
	var se *StepsError
	if !errors.As(err, &se) || g.updates != 0 {
		t.Fatalf("err %v, %d updates", err, g.updates)
	}
	if len(res.Steps) != len(p.Steps) {
		t.Fatalf("%d result steps for %d planned", len(res.Steps), len(p.Steps))
	}
	for i, rs := range res.Steps {
		if rs.Target != p.Steps[i].Target {
			t.Errorf("step %d is %q, planned %q", i, rs.Target, p.Steps[i].Target)
		}
		switch rs.Target {
		case "admin consent Microsoft Graph · Mail.Send":
			if rs.Status != output.StepFailed {
				t.Errorf("%+v", rs)
			}
		case `app registration "Entitle"`, "API permission Microsoft Graph · application · Mail.Send":
			if rs.Status != output.StepNotRun || (rs.Kind == "app" && !strings.Contains(rs.Outcome, "waits for admin consent Microsoft Graph · Mail.Send, which failed")) {
				t.Errorf("%+v", rs)
			}
		}
	}
}

func writeFile(path string) error {
	return os.WriteFile(path, []byte(`{"clientSecret":"the only copy"}`), 0o600)
}

// TestPlanOutputFileIsAKeyFile: --output-file naming one of the files the
// generated key pair goes to is a problem of the plan, found before any
// write (one would overwrite the other), by any spelling of the path.
func TestPlanOutputFileIsAKeyFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := spec(t, "hire2retire", profile.Request{CertificateOut: "keys"})
	for _, file := range []string{"keys/hire2retire.pfx", "./keys/../keys/hire2retire.bundle.pem", filepath.Join(dir, "keys", "hire2retire.key.pem")} {
		p := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{OutputFile: file, OutputFormat: output.FormatJSON})
		st := stepByTarget(t, p, "--certificate-out keys")
		if !strings.Contains(st.Problem, "--output-file "+file) || !strings.Contains(st.Problem, "choose another --output-file") {
			t.Errorf("--output-file %s: problem %q", file, st.Problem)
		}
	}
	p := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{OutputFile: "keys.json", OutputFormat: output.FormatJSON})
	if probs := p.Problems(); len(probs) != 0 {
		t.Errorf("a distinct --output-file: problems %v", probs)
	}
}

// TestPlanKeptCredentialSaysWhatIsNotApplied: --secret-expiry asked for
// on a re-run that keeps the app's valid secret is not dropped silently;
// without it, a re-run warns of nothing.
func TestPlanKeptCredentialSaysWhatIsNotApplied(t *testing.T) {
	plain := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(plain)
	if p := mustPlan(t, plain, tenantFor(app, st), PlanOptions{}); len(p.Warnings) != 0 {
		t.Errorf("a plain re-run warns: %v", p.Warnings)
	}
	s := spec(t, "entitle", profile.Request{SecretExpiry: "6m"})
	p := mustPlan(t, s, tenantFor(app, st), PlanOptions{})
	if p.Step("credential").Action != ActKeep {
		t.Fatalf("credential %s, want keep", p.Step("credential").Action)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool {
		return strings.Contains(w, "--secret-expiry 6m is not applied") && strings.Contains(w, "--new-credential")
	}) {
		t.Errorf("warnings %v", p.Warnings)
	}
}

// TestPlanKeptCertificateSaysWhatIsNotApplied: an explicit --certificate-out
// on a re-run that keeps the app's valid certificate is said, not ignored;
// the default directory (nothing asked for) is not.
func TestPlanKeptCertificateSaysWhatIsNotApplied(t *testing.T) {
	for _, tc := range []struct {
		req  profile.Request
		warn bool
	}{{profile.Request{CertificateOut: "./keys"}, true}, {profile.Request{}, false}} {
		s := spec(t, "hire2retire", tc.req)
		app, st := entitleApp(s)
		app.PasswordCredentials = nil
		app.KeyCredentials = []graph.KeyCredential{{KeyID: "c1", Type: "AsymmetricX509Cert", Usage: "Verify", CustomKeyIdentifier: []byte{0xab, 0xcd}, EndDateTime: now.AddDate(1, 0, 0)}}
		p := mustPlan(t, s, tenantFor(app, st), PlanOptions{})
		if p.Step("credential").Action != ActKeep {
			t.Fatalf("%+v: credential %s, want keep", tc.req, p.Step("credential").Action)
		}
		warned := slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "--certificate-out ./keys is not used") })
		if warned != tc.warn {
			t.Errorf("%+v: warnings %v", tc.req, p.Warnings)
		}
	}
}
