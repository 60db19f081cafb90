package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/profile"
)

// healthyApp puts an app set up exactly as profileID says into g: every
// permission requested and consented, every role assigned, one secret or
// certificate valid for a year.
func healthyApp(t *testing.T, g *fakeGraph, profileID string, features []string, values map[string][]string) *graph.Application {
	t.Helper()
	p, err := profile.Builtin(profileID)
	if err != nil {
		t.Fatal(err)
	}
	g.sps[catalog.GraphAppID] = graphSP()
	g.sps[strings.ToLower(catalog.ExchangeAppID)] = graph.ServicePrincipal{ID: "exo-sp", AppID: catalog.ExchangeAppID, DisplayName: "Office 365 Exchange Online"}
	if r := catalog.ResourceByAppID(catalog.ExchangeAppID); r != nil {
		sp := g.sps[strings.ToLower(catalog.ExchangeAppID)]
		for _, a := range r.AppRoles {
			sp.AppRoles = append(sp.AppRoles, graph.AppRole{ID: a.ID, Value: a.Value, IsEnabled: true})
		}
		g.sps[strings.ToLower(catalog.ExchangeAppID)] = sp
	}
	tags := tagged(profileID)
	for _, f := range features {
		tags = append(tags, profile.TagFeaturePrefix+f)
	}
	app := graph.Application{ID: "o1", AppID: "a1", DisplayName: p.DisplayName, SignInAudience: "AzureADMyOrg", Tags: tags, UniqueName: UniqueName(profileID, p.DisplayName),
		Notes: "Set up by entra-link 1.0.0 for " + p.Product + " (profile " + p.ID + ") on 2026-01-01 by admin@contoso.com."}
	perms, roles := expectedGrants(p, features)
	byRes := map[string]*graph.RequiredResourceAccess{}
	var order []string
	var scopes []string
	for _, perm := range perms {
		rra, ok := byRes[perm.ResourceAppID]
		if !ok {
			rra = &graph.RequiredResourceAccess{ResourceAppID: perm.ResourceAppID}
			byRes[perm.ResourceAppID] = rra
			order = append(order, perm.ResourceAppID)
		}
		rra.ResourceAccess = append(rra.ResourceAccess, graph.ResourceAccess{ID: perm.ID, Type: perm.Type.GraphType()})
		res := g.sps[strings.ToLower(perm.ResourceAppID)]
		if perm.Type == catalog.Application {
			g.assignments["sp1"] = append(g.assignments["sp1"], graph.AppRoleAssignment{ID: "as-" + perm.Name, PrincipalID: "sp1", ResourceID: res.ID, AppRoleID: perm.ID})
		} else {
			scopes = append(scopes, perm.Name)
		}
	}
	for _, id := range order {
		app.RequiredResourceAccess = append(app.RequiredResourceAccess, *byRes[id])
	}
	if len(scopes) > 0 {
		g.grants["sp1"] = []graph.PermissionGrant{{ID: "gr1", ClientID: "sp1", ConsentType: "AllPrincipals", ResourceID: "graph-sp", Scope: strings.Join(scopes, " ")}}
	}
	for _, r := range roles {
		g.roles["sp1"] = append(g.roles["sp1"], graph.RoleAssignment{ID: "ra-" + r.Name, PrincipalID: "sp1", RoleDefinitionID: r.TemplateID, DirectoryScopeID: "/"})
	}
	switch profileID {
	case "relution":
		u := values["server-url"][0]
		app.IdentifierURIs = []string{u}
		app.Web.RedirectURIs = []string{u}
	case "unify":
		app.Web.RedirectURIs = values["redirect-uri"]
	}
	if p.Credential.Default == profile.CredentialCertificate {
		app.KeyCredentials = []graph.KeyCredential{{KeyID: "c1", CustomKeyIdentifier: []byte{0xab, 0xcd}, EndDateTime: now.AddDate(1, 0, 0)}}
	} else {
		app.PasswordCredentials = []graph.PasswordCredential{{KeyID: "p1", Hint: "abc", EndDateTime: now.AddDate(1, 0, 0)}}
	}
	g.sps["a1"] = graph.ServicePrincipal{ID: "sp1", AppID: "a1", Tags: []string{PortalTag}}
	g.apps = append(g.apps, app)
	return &g.apps[len(g.apps)-1]
}

var relutionURL = map[string][]string{"server-url": {"https://relution.contoso.com"}}

func check(r *Report, name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

func TestVerifyHealthyProfiles(t *testing.T) {
	cases := []struct {
		id       string
		features []string
		values   map[string][]string
		want     []string // check names that must be there and ok
	}{
		{"relution", nil, relutionURL, []string{"API permission Microsoft Graph · application · Device.ReadWrite.All", "admin consent Microsoft Graph · Device.ReadWrite.All",
			"identifier URI https://relution.contoso.com", "redirect URI https://relution.contoso.com", `app registration "Relution"`}},
		{"hire2retire", []string{"exchange"}, nil, []string{"directory role User Administrator", "directory role Exchange Administrator",
			"API permission Office 365 Exchange Online · application · Exchange.ManageAsApp", "admin consent Office 365 Exchange Online · Exchange.ManageAsApp", "certificate ABCD"}},
		{"entitle", nil, nil, []string{"API permission Microsoft Graph · application · RoleManagement.ReadWrite.Directory", "admin consent Microsoft Graph · RoleManagement.ReadWrite.Directory"}},
		{"unify", nil, map[string][]string{"redirect-uri": {"https://a.example.com/cb", "https://b.example.com/cb"}}, []string{"API permission Microsoft Graph · delegated · offline_access",
			"tenant-wide consent Microsoft Graph · offline_access User.ReadWrite.All Group.ReadWrite.All People.Read.All", "redirect URI https://a.example.com/cb", "redirect URI https://b.example.com/cb"}},
		{"roger365", nil, nil, []string{"API permission Microsoft Graph · application · User.Read.All", "client secret abc… (key ID p1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			g := newFake()
			healthyApp(t, g, tc.id, tc.features, tc.values)
			rep, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, WarnDays: 30})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Healthy || len(rep.Problems) != 0 || len(rep.Warnings) != 0 {
				t.Fatalf("not healthy: problems %v warnings %v", rep.Problems, rep.Warnings)
			}
			p, _ := profile.Builtin(tc.id)
			for _, n := range append(tc.want, "entra-link tags", fmt.Sprintf("enterprise application (service principal) for %q", p.DisplayName)) {
				if c := check(rep, n); c == nil || c.Status != CheckOK {
					t.Errorf("check %q = %+v, want ok", n, c)
				}
			}
			if rep.Profile != tc.id || rep.App.ServicePrincipalID != "sp1" || rep.TenantID != "tenant-1" {
				t.Errorf("report header %+v", rep)
			}
			if w := g.changes(); len(w) != 0 {
				t.Errorf("verify changed the tenant: %v", w)
			}
			for _, s := range rep.Plan {
				if s.Action != "keep" {
					t.Errorf("a healthy app's plan has only keep steps: %+v", s)
				}
			}
		})
	}
}

func TestVerifyFindsProblems(t *testing.T) {
	day := 24 * time.Hour
	setupFix := "entra-link setup --profile relution --app-id a1 --server-url https://relution.contoso.com --yes"
	pruneFix := "entra-link setup --profile relution --app-id a1 --server-url https://relution.contoso.com --prune --yes"
	cases := []struct {
		name     string
		breakIt  func(g *fakeGraph, app *graph.Application)
		warnDays int
		check    string
		status   string
		detail   string // substring
		fix      string // prefix ("" = no fix expected)
		healthy  bool
	}{
		{"consent removed", func(g *fakeGraph, _ *graph.Application) {
			g.assignments["sp1"] = g.assignments["sp1"][1:]
		}, 30, "admin consent Microsoft Graph · User.Read.All", CheckProblem, "admin consent is missing", setupFix, false},
		{"permission no longer requested", func(_ *fakeGraph, app *graph.Application) {
			app.RequiredResourceAccess[0].ResourceAccess = app.RequiredResourceAccess[0].ResourceAccess[1:]
		}, 30, "API permission Microsoft Graph · application · User.Read.All", CheckProblem, "not among the app's requested API permissions", setupFix, false},
		{"extra requested permission", func(_ *fakeGraph, app *graph.Application) {
			p, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("Mail.Send", catalog.Application)
			app.RequiredResourceAccess[0].ResourceAccess = append(app.RequiredResourceAccess[0].ResourceAccess, graph.ResourceAccess{ID: p.ID, Type: "Role"})
		}, 30, "API permission Microsoft Graph · application · Mail.Send", CheckProblem, "Relution does not need it", pruneFix, false},
		{"extra consented permission", func(g *fakeGraph, _ *graph.Application) {
			p, _ := catalog.ResourceByAppID(catalog.GraphAppID).Permission("Mail.Send", catalog.Application)
			g.assignments["sp1"] = append(g.assignments["sp1"], graph.AppRoleAssignment{ID: "x", PrincipalID: "sp1", ResourceID: "graph-sp", AppRoleID: p.ID})
		}, 30, "admin consent Microsoft Graph · Mail.Send", CheckProblem, "Relution does not need it", pruneFix, false},
		{"extra directory role", func(g *fakeGraph, _ *graph.Application) {
			g.roles["sp1"] = append(g.roles["sp1"], graph.RoleAssignment{ID: "ga", PrincipalID: "sp1", RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", DirectoryScopeID: "/"})
		}, 30, "directory role Global Administrator", CheckProblem, "Relution does not need it", pruneFix, false},
		{"extra scoped role assignment", func(g *fakeGraph, _ *graph.Application) {
			g.roles["sp1"] = append(g.roles["sp1"], graph.RoleAssignment{ID: "ua", PrincipalID: "sp1", RoleDefinitionID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DirectoryScopeID: "/administrativeUnits/123"})
		}, 30, "directory role User Administrator (limited to part of the directory)", CheckProblem, "Relution does not need it", pruneFix, false},
		{"no service principal", func(g *fakeGraph, _ *graph.Application) {
			delete(g.sps, "a1")
		}, 30, `enterprise application (service principal) for "Relution"`, CheckProblem, "no service principal", setupFix, false},
		{"redirect URI differs from the identifier URI", func(_ *fakeGraph, app *graph.Application) {
			app.Web.RedirectURIs = []string{"https://other.contoso.com"}
		}, 30, "redirect URI https://relution.contoso.com", CheckProblem, "not among the app's web redirect URIs", setupFix, false},
		{"stray redirect URI", func(_ *fakeGraph, app *graph.Application) {
			app.Web.RedirectURIs = append(app.Web.RedirectURIs, "https://other.contoso.com")
		}, 30, "redirect URI https://other.contoso.com", CheckProblem, "Relution does not need it", pruneFix, false},
		{"stray identifier URI", func(_ *fakeGraph, app *graph.Application) {
			app.IdentifierURIs = append(app.IdentifierURIs, "api://a1")
		}, 30, "identifier URI api://a1", CheckProblem, "Relution does not need it", pruneFix, false},
		{"identifier URI missing", func(_ *fakeGraph, app *graph.Application) {
			app.IdentifierURIs, app.Web.RedirectURIs = nil, nil
		}, 30, "identifier URI <--server-url>", CheckProblem, "the app has no Relution server URL", "entra-link setup --profile relution --app-id a1 --server-url URL --yes", false},
		{"http server URL", func(_ *fakeGraph, app *graph.Application) {
			app.IdentifierURIs = []string{"http://relution.contoso.com"}
			app.Web.RedirectURIs = app.IdentifierURIs
		}, 30, "Relution server URL", CheckProblem, "must be an https URL", "entra-link setup", false},
		{"ID tokens switched on", func(_ *fakeGraph, app *graph.Application) {
			app.Web.EnableIDTokenIssuance = true
		}, 30, `app registration "Relution"`, CheckProblem, "ID token issuance on → off", setupFix, false},
		{"wrong audience", func(_ *fakeGraph, app *graph.Application) {
			app.SignInAudience = "AzureADMultipleOrgs"
		}, 30, `app registration "Relution"`, CheckProblem, "account type multi-tenant → single tenant", "entra-link setup", false},
		{"secret within the warning window", func(_ *fakeGraph, app *graph.Application) {
			app.PasswordCredentials[0].EndDateTime = now.Add(10 * day)
		}, 30, "client secret abc… (key ID p1)", CheckProblem, "in 10 days, within --warn-days 30", "entra-link rotate-secret --app-id a1", false},
		{"--warn-days reaches a secret a year away", nil, 400,
			"client secret abc… (key ID p1)", CheckProblem, "within --warn-days 400", "entra-link rotate-secret --app-id a1", false},
		{"expiring secret already replaced", func(_ *fakeGraph, app *graph.Application) {
			app.PasswordCredentials = append(app.PasswordCredentials, graph.PasswordCredential{KeyID: "p0", Hint: "old", EndDateTime: now.Add(5 * day)})
		}, 30, "client secret old… (key ID p0)", CheckWarning, "client secret abc… (key ID p1) is valid until", "", true},
		{"expired secret next to a valid one", func(_ *fakeGraph, app *graph.Application) {
			app.PasswordCredentials = append(app.PasswordCredentials, graph.PasswordCredential{KeyID: "p0", Hint: "old", EndDateTime: now.Add(-5 * day)})
		}, 30, "client secret old… (key ID p0)", CheckWarning, "expired on", "entra-link retire --app-id a1 --key-id p0", true},
		{"only an expired secret", func(_ *fakeGraph, app *graph.Application) {
			app.PasswordCredentials[0].EndDateTime = now.Add(-day)
		}, 30, "valid credential", CheckProblem, "no valid client secret", "entra-link rotate-secret --app-id a1", false},
		{"no credential at all", func(_ *fakeGraph, app *graph.Application) {
			app.PasswordCredentials = nil
		}, 30, "valid credential", CheckProblem, "no valid client secret", "entra-link rotate-secret --app-id a1", false},
		{"renamed app: setup --app-id keeps the name", func(g *fakeGraph, app *graph.Application) {
			app.DisplayName = "Relution Prod"
			g.assignments["sp1"] = nil
		}, 30, "admin consent Microsoft Graph · Device.ReadWrite.All", CheckProblem, "admin consent is missing", setupFix, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake()
			app := healthyApp(t, g, "relution", nil, relutionURL)
			if tc.breakIt != nil {
				tc.breakIt(g, app)
			}
			rep, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, WarnDays: tc.warnDays})
			if err != nil {
				t.Fatal(err)
			}
			c := check(rep, tc.check)
			if c == nil {
				t.Fatalf("no check %q in %+v", tc.check, rep.Checks)
			}
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.HasPrefix(c.Fix, tc.fix) || (tc.fix == "") != (c.Fix == "") {
				t.Errorf("check = %+v\nwant status %s, detail ~%q, fix prefix %q", c, tc.status, tc.detail, tc.fix)
			}
			if rep.Healthy != tc.healthy {
				t.Errorf("healthy = %v, want %v (problems %v)", rep.Healthy, tc.healthy, rep.Problems)
			}
			if tc.status == CheckProblem && !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.HasPrefix(p, tc.check+": ") }) {
				t.Errorf("problems %v do not name %q", rep.Problems, tc.check)
			}
		})
	}
}

// TestVerifyFixCommands: the suggested setup run keeps what the app is
// (features, audience, redirect URIs, certificate) and this run's tenant.
func TestVerifyFixCommands(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "hire2retire", []string{"exchange"}, nil)
	g.roles["sp1"] = g.roles["sp1"][:1] // Exchange Administrator removed
	rep, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{Name: "hire2retire"}, WarnDays: 30, FixArgs: []string{"--cloud", "usgov"}})
	if err != nil {
		t.Fatal(err)
	}
	c := check(rep, "directory role Exchange Administrator")
	want := "entra-link setup --profile hire2retire --app-id a1 --with exchange --yes --cloud usgov"
	if c == nil || c.Status != CheckProblem || c.Fix != want {
		t.Errorf("check = %+v\nwant fix %q", c, want)
	}

	g = newFake()
	app := healthyApp(t, g, "unify", nil, map[string][]string{"redirect-uri": {"https://a.example.com/cb", "https://b.example.com/cb"}})
	app.SignInAudience = "AzureADMultipleOrgs"
	g.grants["sp1"][0].Scope = "offline_access User.ReadWrite.All Group.ReadWrite.All"
	rep, err = Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, WarnDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	c = check(rep, "tenant-wide consent Microsoft Graph · offline_access User.ReadWrite.All Group.ReadWrite.All People.Read.All")
	want = "entra-link setup --profile unify --app-id a1 --redirect-uri https://a.example.com/cb --redirect-uri https://b.example.com/cb --yes"
	if c == nil || c.Status != CheckProblem || !strings.Contains(c.Detail, "lacks") || !strings.Contains(c.Detail, "People.Read.All") || c.Fix != want {
		t.Errorf("check = %+v\nwant fix %q", c, want)
	}
	if a := check(rep, `app registration "Unify Integration"`); a == nil || a.Status != CheckOK {
		t.Errorf("multi-tenant is one of Unify's audiences: %+v", a)
	}
}

func TestVerifyProfileChoice(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	app.Tags = []string{"team:identity"}
	_, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "was not made by entra-link") || !strings.Contains(err.Error(), "--profile") {
		t.Fatalf("untagged app without --profile: %v", err)
	}
	p, _ := profile.Builtin("entitle")
	rep, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, Profile: p, WarnDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if c := check(rep, "entra-link tags"); c == nil || c.Status != CheckWarning || !rep.Healthy {
		t.Errorf("tags check %+v, healthy %v (problems %v)", c, rep.Healthy, rep.Problems)
	}

	app.Tags = tagged("acme")
	_, err = Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `profile "acme", which is not a built-in profile`) || !strings.Contains(err.Error(), "--profile-file") {
		t.Fatalf("app of a profile file: %v", err)
	}
}

func TestInferValues(t *testing.T) {
	rel, _ := profile.Builtin("relution")
	uni, _ := profile.Builtin("unify")
	tests := []struct {
		name string
		p    *profile.Profile
		app  graph.Application
		want map[string][]string
	}{
		{"relution: the URL in both lists wins", rel, graph.Application{IdentifierURIs: []string{"api://x", "https://r.contoso.com"}, Web: graph.Web{RedirectURIs: []string{"https://r.contoso.com"}}},
			map[string][]string{"server-url": {"https://r.contoso.com"}}},
		{"relution: identifier only", rel, graph.Application{IdentifierURIs: []string{"https://r.contoso.com"}},
			map[string][]string{"server-url": {"https://r.contoso.com"}}},
		{"relution: nothing", rel, graph.Application{}, map[string][]string{}},
		{"unify: every redirect URI", uni, graph.Application{Web: graph.Web{RedirectURIs: []string{"https://a/cb", "https://b/cb"}}},
			map[string][]string{"redirect-uri": {"https://a/cb", "https://b/cb"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := inferValues(tc.p, tc.app)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestVerifyAllIsVerifyPerApp: verify --all's verdict for an app is the
// same evaluation verify makes for it alone; the per-app reads are two
// batched reads whatever the number of apps; an app with no profile is a
// problem naming --profile-file; a read the identity may not make is named.
func TestVerifyAllIsVerifyPerApp(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "hire2retire", []string{"exchange"}, nil)
	// Drift on the one app: its User Administrator role is gone.
	g.roles["sp1"] = g.roles["sp1"][:1]
	g.apps = append(g.apps, graph.Application{ID: "o2", AppID: "a2", DisplayName: "Custom", Tags: tagged("acme"),
		PasswordCredentials: []graph.PasswordCredential{{KeyID: "p9", EndDateTime: now.AddDate(0, 0, 10)}}})

	single, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, WarnDays: 30, FixArgs: []string{"--sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	g.bulk = nil
	all, err := VerifyAll(context.Background(), testEnv(g), VerifyAllRequest{WarnDays: 30, FixArgs: []string{"--sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.bulk, []string{"ServicePrincipalsByAppIDs 4", "HoldingsOf 1"}) {
		t.Errorf("batched reads %v, want one lookup of 2 apps + 2 resources and one holdings read", g.bulk)
	}
	if len(all.Apps) != 2 || all.Apps[0].App.DisplayName != "Custom" || all.Apps[1].App.ClientID != "a1" {
		t.Fatalf("apps %+v", all.Apps)
	}
	h2r := all.Apps[1]
	var names []string
	for _, c := range h2r.Problems {
		names = append(names, c.Name+": "+c.Detail)
	}
	if !slices.Equal(names, single.Problems) || len(single.Problems) != 1 {
		t.Errorf("--all found %v, verify alone %v", names, single.Problems)
	}
	for i, c := range h2r.Problems {
		if want := check(single, c.Name); want == nil || want.Fix != c.Fix {
			t.Errorf("problem %d fix %q, verify alone %+v", i, c.Fix, want)
		}
	}
	custom := all.Apps[0]
	// Its profile is unknown, and its secret expires all the same.
	if custom.Healthy || len(custom.Problems) != 2 || !strings.Contains(custom.Problems[0].Detail, `profile "acme"`) ||
		custom.Problems[1].Short != "secret expires in 10d" || custom.Problems[1].Fix != "entra-link rotate-secret --app-id a2 --sandbox" ||
		!strings.Contains(custom.Problems[0].Fix, "verify --app-id a2 --profile-file PROFILE.yaml --sandbox") {
		t.Errorf("custom-profile app %+v", custom)
	}
	if custom.NearestExpiry == nil || custom.NearestExpiry.Days != 10 {
		t.Errorf("nearest expiry %+v", custom.NearestExpiry)
	}
	if all.Healthy || all.Summary != (AllSummary{Apps: 2, WithProblems: 2, Problems: 3, Expiring: 1}) {
		t.Errorf("summary %+v", all.Summary)
	}

	// The directory roles may not be read: said, as verify says it.
	g.fail["HoldingsOf roles"] = &graph.Error{Status: 403, Code: "Authorization_RequestDenied"}
	all, err = VerifyAll(context.Background(), testEnv(g), VerifyAllRequest{WarnDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range all.Apps[1].Problems {
		found = found || strings.Contains(c.Detail, "may not read the app's directory role assignments (that needs RoleManagement.Read.Directory)")
	}
	if !found {
		t.Errorf("unreadable roles not named: %+v", all.Apps[1].Problems)
	}
}
