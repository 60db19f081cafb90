package setup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/profile"
)

// TestShortfallsPIM: a role held only as eligible in PIM is named with the
// way to activate it, in the tenant's cloud; one activated after the
// sign-in asks for a new sign-in; unread eligibility is said too.
func TestShortfallsPIM(t *testing.T) {
	h2r := spec(t, "hire2retire", profile.Request{CertificateFile: "x.cer"})
	admin := func() *Tenant {
		tn := &Tenant{Identity: graph.Identity{Scopes: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement}},
			RoleNames: []string{"Application Administrator"}, cloud: cloud.USGov}
		tn.Can = capabilities(tn.Identity, []string{roleAppAdmin})
		return tn
	}
	tn := admin()
	tn.eligibleIDs = []string{roleGlobalAdmin, rolePrivilegedRole}
	got := strings.Join(tn.Shortfalls(h2r), "\n")
	for _, w := range []string{
		"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator; you are eligible for Privileged Role Administrator: activate it in PIM (https://portal.azure.us/#view/Microsoft_Azure_PIMCommon/ActivationMenuBlade/~/aadmigratedroles) and run again",
		"assigning directory roles needs Privileged Role Administrator or Global Administrator; you are eligible for Privileged Role Administrator",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("shortfalls %q\nmissing %q", got, w)
		}
	}
	if strings.Contains(got, "you have") {
		t.Errorf("says 'you have' instead of the eligible role: %q", got)
	}

	tn = admin()
	tn.activatedLater = []string{roleGlobalAdmin}
	if got := strings.Join(tn.Shortfalls(h2r), "\n"); !strings.Contains(got, "Global Administrator was activated after you signed in") || !strings.Contains(got, "sign in again") {
		t.Errorf("activated later: %q", got)
	}
	tn = admin()
	tn.eligibleUnread = "your PIM eligibility could not be read (Graph answered 403)"
	if got := strings.Join(tn.Shortfalls(h2r), "\n"); !strings.Contains(got, "you have Application Administrator (your PIM eligibility could not be read") {
		t.Errorf("unread eligibility: %q", got)
	}
}

// TestPortalSteps: a new app gets notes and its service principal the
// portal's tag in the requests that create them; an existing app gets
// them by an update, keeping its own notes; an app that has them keeps them.
func TestPortalSteps(t *testing.T) {
	s := spec(t, "entitle", profile.Request{ServiceManagementReference: "SNOW-42"})
	tn := tenantFor(nil, AppState{})
	tn.Identity.Name = "Deploy bot"
	p := mustPlan(t, s, tn, PlanOptions{Version: "1.2.3"})
	ac := p.Step("app").payload.(*appCreate)
	if ac.app.Notes != "Set up by entra-link 1.2.3 for Entitle (profile entitle) on 2026-11-21 by the app Deploy bot." || ac.app.ServiceManagementReference != "SNOW-42" {
		t.Errorf("new app notes %q, reference %q", ac.app.Notes, ac.app.ServiceManagementReference)
	}
	if sp := p.Step("sp").payload.(*spCreate); !strings.Contains(strings.Join(sp.tags, ","), PortalTag) {
		t.Errorf("new service principal tags %v", sp.tags)
	}
	if st := p.Step("sp-tags"); st.Action != ActCreate || st.PartOf != "sp" {
		t.Errorf("sp-tags %+v", st)
	}

	app, st := entitleApp(s)
	app.Notes = "Owned by the IAM team."
	st.SP.Tags = []string{"custom"}
	g := newFake()
	p = mustPlan(t, s, tenantFor(app, st), PlanOptions{Version: "1.2.3"})
	up := p.Step("app").payload.(*appUpdate).update
	if up.Notes == nil || !strings.HasPrefix(*up.Notes, "Owned by the IAM team.\nSet up by entra-link 1.2.3") || up.ServiceManagementReference == nil {
		t.Errorf("update %+v", up)
	}
	tags := p.Step("sp-tags")
	if tags.Action != ActUpdate || tags.payload == nil {
		t.Fatalf("sp-tags %+v", tags)
	}
	r := newRun(testEnv(g), p)
	if _, err := tags.payload.apply(context.Background(), r, tags); err != nil {
		t.Fatal(err)
	}
	if c := g.changes(); len(c) != 1 || c[0] != "UpdateServicePrincipalTags sp1 [custom "+PortalTag+"]" {
		t.Errorf("calls %v", c)
	}

	app, st = entitleApp(s)
	app.ServiceManagementReference = "SNOW-42"
	if p := mustPlan(t, s, tenantFor(app, st), PlanOptions{}); p.Changes() {
		t.Errorf("an app with notes, tag and reference changes:\n%s", strings.Join(p.Lines(), "\n"))
	}
}

// TestOwnersPlan: owners are added once; privileged apps refuse them
// unless asked (profile.Resolve).
func TestOwnersPlan(t *testing.T) {
	s := spec(t, "roger365", profile.Request{Owners: []string{"me", "Alex@Contoso.com"}})
	tn := tenantFor(nil, AppState{})
	tn.Owners = []Owner{{Given: "me", ID: "u-me", Name: "admin@contoso.com"}, {Given: "Alex@Contoso.com", ID: "u-alex", Name: "alex@contoso.com"}}
	p := mustPlan(t, s, tn, PlanOptions{})
	for _, id := range []string{"owner/u-me", "owner/u-alex"} {
		if st := p.Step(id); st == nil || st.Action != ActCreate || st.Round != 2 {
			t.Errorf("%s: %+v", id, st)
		}
	}
	app := &graph.Application{ID: "o1", AppID: "a1", DisplayName: "ROGER365.io Azure Entra replicator", Tags: s.Tags}
	tn = tenantFor(app, AppState{SP: &graph.ServicePrincipal{ID: "sp1", Tags: []string{PortalTag}}, Unread: map[Kind]string{}})
	tn.Owners = []Owner{{Given: "me", ID: "u-me", Name: "admin@contoso.com"}, {Given: "Alex@Contoso.com", ID: "u-alex", Name: "alex@contoso.com"}}
	tn.AppOwners = []graph.DirectoryObject{{ID: "u-me"}}
	p = mustPlan(t, s, tn, PlanOptions{})
	if p.Step("owner/u-me").Action != ActKeep || p.Step("owner/u-alex").Action != ActCreate {
		t.Errorf("owners:\n%s", strings.Join(p.Lines(), "\n"))
	}

	h2r, _ := profile.Builtin("hire2retire")
	_, err := profile.Resolve(h2r, profile.Request{CertificateFile: "x.cer", Owners: []string{"me"}}, now)
	if err == nil || !strings.Contains(err.Error(), "--owner") || !strings.Contains(err.Error(), "User Administrator") || !strings.Contains(err.Error(), "--allow-privileged-owners") {
		t.Errorf("hire2retire --owner: %v", err)
	}
	if _, err := profile.Resolve(h2r, profile.Request{CertificateFile: "x.cer", Owners: []string{"me"}, AllowPrivilegedOwners: true}, now); err != nil {
		t.Errorf("--allow-privileged-owners: %v", err)
	}
	ent, _ := profile.Builtin("entitle")
	if _, err := profile.Resolve(ent, profile.Request{Owners: []string{"me"}}, now); err == nil || !strings.Contains(err.Error(), "RoleManagement.ReadWrite.Directory") {
		t.Errorf("entitle --owner: %v", err)
	}
	if _, err := profile.Resolve(ent, profile.Request{Owners: []string{"not a user"}, AllowPrivilegedOwners: true}, now); err == nil || !strings.Contains(err.Error(), "is not a user") {
		t.Errorf("bad owner: %v", err)
	}
}

func (f *fakeGraph) UpdateServicePrincipalTags(_ context.Context, id string, tags []string) error {
	f.log("UpdateServicePrincipalTags %s %v", id, tags)
	return nil
}

// preflightGraph is fakeGraph with the signed-in user's roles.
type preflightGraph struct {
	*fakeGraph
	roles       []graph.DirectoryRole
	eligible    []graph.EligibleRole
	eligibleErr error
	// renewed is who a new token says the identity is (RenewToken); renewErr
	// its failure; renewals counts the calls.
	renewed  graph.Identity
	renewErr error
	renewals int
}

func (g *preflightGraph) RenewToken(context.Context) (graph.Identity, error) {
	g.renewals++
	if g.renewErr != nil {
		return graph.Identity{}, g.renewErr
	}
	g.id = g.renewed
	return g.renewed, nil
}

func (g *preflightGraph) MyDirectoryRoles(context.Context, graph.Identity) ([]graph.DirectoryRole, error) {
	return g.roles, nil
}

func (g *preflightGraph) MyEligibleRoles(context.Context) ([]graph.EligibleRole, error) {
	return g.eligible, g.eligibleErr
}

// TestPreflightRoles: preflight counts the roles the token carries; a role
// the directory shows active but the token lacks was activated after the
// sign-in; eligible roles are read for users, and only tenant-wide ones
// count; the policy is not requested without Policy.Read.All.
func TestPreflightRoles(t *testing.T) {
	s := spec(t, "hire2retire", profile.Request{CertificateFile: "x.cer"})
	f := newFake()
	f.sps[strings.ToLower(catalog.GraphAppID)] = graphSP()
	f.id = graph.Identity{TenantID: "tenant-1", ObjectID: "u1", Name: "pia@contoso.com", Scopes: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement},
		RoleIDs: []string{roleAppAdmin}}
	g := &preflightGraph{fakeGraph: f,
		roles:    []graph.DirectoryRole{{RoleTemplateID: roleAppAdmin}, {RoleTemplateID: rolePrivilegedRole}},
		eligible: []graph.EligibleRole{{RoleTemplateID: roleGlobalAdmin, DirectoryScopeID: "/administrativeUnits/au1"}},
		renewErr: errors.New("the Azure CLI cannot answer a claims challenge")}
	tn, err := Preflight(context.Background(), testEnv(g), s)
	if err != nil {
		t.Fatal(err)
	}
	if tn.Can.AssignRoles || len(tn.RoleNames) != 1 || tn.RoleNames[0] != "Application Administrator" || len(tn.EligibleNames) != 0 || g.renewals != 1 {
		t.Errorf("roles %v, eligible %v, can %+v after %d renewals", tn.RoleNames, tn.EligibleNames, tn.Can, g.renewals)
	}
	if got := strings.Join(tn.Shortfalls(s), "\n"); !strings.Contains(got, "Privileged Role Administrator was activated after you signed in, and Entra counts it only in a new token (your sign-in could not be renewed here): sign in again") {
		t.Errorf("shortfalls %q", got)
	}

	// Where the sign-in can renew its token, preflight gets a new one and
	// reads again with it: the role counts, and the run says so.
	g.renewErr, g.renewals = nil, 0
	before := f.id
	g.renewed = f.id
	g.renewed.RoleIDs = []string{roleAppAdmin, rolePrivilegedRole}
	if tn, err = Preflight(context.Background(), testEnv(g), s); err != nil {
		t.Fatal(err)
	}
	if !tn.Can.AssignRoles || !tn.Can.ConsentGraph || len(tn.Shortfalls(s)) != 0 || g.renewals != 1 || len(tn.RoleNames) != 2 {
		t.Errorf("after renewal: roles %v, can %+v, shortfalls %q, %d renewals", tn.RoleNames, tn.Can, tn.Shortfalls(s), g.renewals)
	}
	if !slices.Contains(tn.Warnings, "Privileged Role Administrator was activated after you signed in: entra-link got a new token that carries it") {
		t.Errorf("warnings %q", tn.Warnings)
	}
	// The token carries every role: no renewal.
	if tn, err = Preflight(context.Background(), testEnv(g), s); err != nil || g.renewals != 1 || !tn.Can.AssignRoles {
		t.Errorf("renewals %d, can %+v: %v", g.renewals, tn.Can, err)
	}
	f.id = before
	if tn.Policy.Unread != "the sign-in does not carry Policy.Read.All (entra-link does not ask for it)" {
		t.Errorf("policy %+v", tn.Policy)
	}

	g.roles = []graph.DirectoryRole{{RoleTemplateID: roleAppAdmin}}
	g.eligible = []graph.EligibleRole{{RoleTemplateID: rolePrivilegedRole, DirectoryScopeID: "/"}}
	if tn, err = Preflight(context.Background(), testEnv(g), s); err != nil || len(tn.EligibleNames) != 1 || tn.EligibleNames[0] != "Privileged Role Administrator" {
		t.Fatalf("eligible %v: %v", tn.EligibleNames, err)
	}
	g.eligible, g.eligibleErr = nil, &graph.Error{Status: 403, Code: "Authorization_RequestDenied"}
	if tn, err = Preflight(context.Background(), testEnv(g), s); err != nil || !strings.Contains(tn.eligibleUnread, "Graph answered 403 Authorization_RequestDenied") {
		t.Errorf("unread eligibility %q: %v", tn.eligibleUnread, err)
	}
}
