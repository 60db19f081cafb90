package graph_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// appClient signs in as a new sandbox principal holding these Microsoft
// Graph application permissions.
func appClient(t *testing.T, s *sandbox.Server, roles ...string) *graph.Client {
	t.Helper()
	id, secret := sandboxtest.Principal(t, s, "", "policy reader", roles, nil)
	cred, err := azidentity.NewClientSecretCredential(s.Tenant().TenantID, id, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: sandboxtest.Client(s)}})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := graph.New(cred, graph.Options{Endpoint: cloud.Global.GraphEndpoint, HTTPClient: sandboxtest.Client(s)})
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

// TestSandboxAppManagementPolicies: the tenant default and a per-app
// policy decode into restrictions; a refused secret is IsCredentialPolicy;
// without Policy.Read.All the read is a 403.
func TestSandboxAppManagementPolicies(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sandboxtest.DefaultAppManagementPolicy(t, s, "", `{"isEnabled": true, "applicationRestrictions": {
		"passwordCredentials": [{"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": "2024-01-01T00:00:00Z"}],
		"keyCredentials": [{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P1Y", "restrictForAppsCreatedAfterDateTime": null}],
		"identifierUris": {"nonDefaultUriAddition": {"restrictForAppsCreatedAfterDateTime": null, "excludeAppsReceivingV2Tokens": true}}}}`)
	gc := appClient(t, s, "Policy.Read.All", "Application.ReadWrite.All")
	p, err := gc.DefaultAppManagementPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Default || !p.Enabled || len(p.Passwords) != 1 || p.Passwords[0].Type != "passwordLifetime" || p.Passwords[0].MaxLifetime != "P90D" ||
		!p.Passwords[0].Since.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || len(p.Keys) != 1 || p.Keys[0].MaxLifetime != "P1Y" ||
		p.NonDefaultURIs == nil || p.NonDefaultURIs.ExemptV2 == nil || !*p.NonDefaultURIs.ExemptV2 || p.URIsWithoutTenantID != nil {
		t.Errorf("default policy %+v", p)
	}

	app, _, err := gc.UpsertApplication(ctx, "policy-target", graph.Application{DisplayName: "policy target", Notes: "Set up by entra-link", ServiceManagementReference: "SNOW-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := gc.ApplicationByID(ctx, app.ID)
	if err != nil || got.Notes != "Set up by entra-link" || got.ServiceManagementReference != "SNOW-1" {
		t.Errorf("notes %q reference %q: %v", got.Notes, got.ServiceManagementReference, err)
	}
	if _, err := gc.AddPassword(ctx, app.ID, "too long", time.Now().AddDate(1, 0, 0)); !graph.IsCredentialPolicy(err) || graph.CodeOf(err) != graph.CodeCredentialLifetime {
		t.Errorf("a one-year secret under a 90-day policy: %v", err)
	}
	sandboxtest.AppManagementPolicy(t, s, app.ID, `{"displayName": "No secrets", "description": "d", "restrictions": {
		"passwordCredentials": [{"restrictionType": "passwordAddition", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": null}]}}`)
	ps, err := gc.AppManagementPolicies(ctx, app.ID)
	if err != nil || len(ps) != 1 || ps[0].Default || !ps[0].Enabled || ps[0].DisplayName != "No secrets" || len(ps[0].Passwords) != 1 || ps[0].Passwords[0].Type != "passwordAddition" {
		t.Errorf("per-app policies %+v: %v", ps, err)
	}
	if _, err := gc.AddPassword(ctx, app.ID, "any", time.Now().AddDate(0, 1, 0)); graph.CodeOf(err) != graph.CodeCredentialType {
		t.Errorf("a secret under passwordAddition: %v", err)
	}

	noPolicy := appClient(t, s, "Application.ReadWrite.All")
	if _, err := noPolicy.DefaultAppManagementPolicy(ctx); !graph.IsForbidden(err) {
		t.Errorf("without Policy.Read.All: %v", err)
	}
}

// TestSandboxOwnersTagsUsers: owners are added once (a second add is a
// conflict), a service principal's tags are replaced, users are found by
// name, and an unknown owner is a 404 at once.
func TestSandboxOwnersTagsUsers(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gc := appClient(t, s, "Application.ReadWrite.All", "User.Read.All")
	userID, upn := sandboxtest.User(t, s, sandbox.UserSpec{Name: "alex"})
	u, err := gc.User(ctx, upn)
	if err != nil || u.ID != userID || u.UserPrincipalName != upn {
		t.Fatalf("User(%s) = %+v, %v", upn, u, err)
	}
	if _, err := gc.User(ctx, "nobody@"+s.Tenant().TenantDomain); !graph.IsNotFound(err) {
		t.Errorf("unknown user: %v", err)
	}
	app, _, err := gc.UpsertApplication(ctx, "owned", graph.Application{DisplayName: "owned"})
	if err != nil {
		t.Fatal(err)
	}
	if err := gc.AddApplicationOwner(ctx, app.ID, userID); err != nil {
		t.Fatal(err)
	}
	if err := gc.AddApplicationOwner(ctx, app.ID, userID); !graph.IsConflict(err) {
		t.Errorf("second add: %v", err)
	}
	var ge *graph.Error
	if err := gc.AddApplicationOwner(ctx, app.ID, "00000000-1111-2222-3333-444444444444"); !graph.IsNotFound(err) || !errors.As(err, &ge) || ge.Attempts != 1 {
		t.Errorf("unknown owner: %v", err)
	}
	owners, err := gc.ApplicationOwners(ctx, app.ID)
	if err != nil || !slices.ContainsFunc(owners, func(o graph.DirectoryObject) bool { return o.ID == userID && o.Type == "#microsoft.graph.user" }) {
		t.Errorf("owners %+v: %v", owners, err)
	}
	sp, err := gc.CreateServicePrincipal(ctx, app.AppID, []string{"entra-link"})
	if err != nil {
		t.Fatal(err)
	}
	if err := gc.UpdateServicePrincipalTags(ctx, sp.ID, []string{"entra-link", "WindowsAzureActiveDirectoryIntegratedApp"}); err != nil {
		t.Fatal(err)
	}
	if sp, err = gc.ServicePrincipalByAppID(ctx, app.AppID); err != nil || !slices.Contains(sp.Tags, "WindowsAzureActiveDirectoryIntegratedApp") {
		t.Errorf("tags %v: %v", sp.Tags, err)
	}
}

// TestSandboxEligibleRoles: a user's PIM eligibility is listed by
// filterByCurrentUser(on='principal') with the delegated scopes entra-link
// signs in with, and the eligible role is not among the active ones.
func TestSandboxEligibleRoles(t *testing.T) {
	s := sandboxtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, upn := sandboxtest.User(t, s, sandbox.UserSpec{Name: "pia", Roles: []string{"Application Administrator"}, EligibleRoles: []string{"Privileged Role Administrator"}})
	if err := s.SignInAs(upn); err != nil {
		t.Fatal(err)
	}
	cred, err := auth.NewCredential(auth.Options{
		Method: auth.MethodDeviceCode, Tenant: s.Tenant().TenantID, Cloud: cloud.Global,
		HTTPClient: sandboxtest.Client(s), Getenv: func(string) string { return "" },
		DeviceCodePrompt: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := graph.New(cred, graph.Options{Endpoint: cloud.Global.GraphEndpoint, HTTPClient: sandboxtest.Client(s)})
	if err != nil {
		t.Fatal(err)
	}
	const pra = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	el, err := gc.MyEligibleRoles(ctx)
	if err != nil || len(el) != 1 || !strings.EqualFold(el[0].RoleTemplateID, pra) || el[0].DirectoryScopeID != "/" {
		t.Fatalf("eligible %+v: %v", el, err)
	}
	me, err := gc.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := gc.MyDirectoryRoles(ctx, me)
	if err != nil || slices.ContainsFunc(roles, func(r graph.DirectoryRole) bool { return strings.EqualFold(r.RoleTemplateID, pra) }) {
		t.Errorf("active roles %+v: %v", roles, err)
	}
}
