package setup

import (
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/profile"
)

func spec(t *testing.T, id string, req profile.Request) *profile.Spec {
	t.Helper()
	p, err := profile.Builtin(id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := profile.Resolve(p, req, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		name  string
		id    graph.Identity
		roles []string
		want  Capabilities
	}{
		{"app with all permissions", graph.Identity{AppOnly: true, Roles: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement}}, nil,
			Capabilities{CreateApps: true, ConsentGraph: true, ConsentOther: true, GrantDelegated: true, AssignRoles: true}},
		{"app that can only manage apps", graph.Identity{AppOnly: true, Roles: []string{scopeApplications}}, nil,
			Capabilities{CreateApps: true}},
		{"app holding Global Administrator", graph.Identity{AppOnly: true}, []string{roleGlobalAdmin},
			Capabilities{CreateApps: true, ConsentGraph: true, ConsentOther: true, GrantDelegated: true, AssignRoles: true}},
		{"global admin user", graph.Identity{Scopes: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement}}, []string{roleGlobalAdmin},
			Capabilities{CreateApps: true, ConsentGraph: true, ConsentOther: true, GrantDelegated: true, AssignRoles: true}},
		{"application administrator user", graph.Identity{Scopes: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement}}, []string{roleAppAdmin},
			Capabilities{CreateApps: true, ConsentOther: true, GrantDelegated: true}},
		{"privileged role admin without the scopes", graph.Identity{Scopes: []string{scopeApplications}}, []string{rolePrivilegedRole},
			Capabilities{CreateApps: true}},
		{"plain user", graph.Identity{Scopes: []string{"User.Read"}}, nil, Capabilities{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capabilities(tt.id, tt.roles); got != tt.want {
				t.Errorf("capabilities = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestShortfallsInWords(t *testing.T) {
	h2r := spec(t, "hire2retire", profile.Request{CertificateFile: "x.cer"})
	appAdmin := &Tenant{
		Identity:  graph.Identity{Scopes: []string{scopeApplications, scopeAppRoleAssign, scopeDelegatedGrants, scopeRoleManagement}},
		RoleNames: []string{"Application Administrator"},
	}
	appAdmin.Can = capabilities(appAdmin.Identity, []string{roleAppAdmin})
	got := strings.Join(appAdmin.Shortfalls(h2r), "\n")
	for _, w := range []string{
		"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator; you have Application Administrator",
		"assigning directory roles needs Privileged Role Administrator or Global Administrator; you have Application Administrator",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("shortfalls %q missing %q", got, w)
		}
	}
	unify := spec(t, "unify", profile.Request{Values: map[string][]string{"redirect-uri": {"https://u.example.com/cb"}}})
	if s := appAdmin.Shortfalls(unify); len(s) != 0 {
		t.Errorf("an Application Administrator may grant delegated consent and Unify needs no roles; got %v", s)
	}
	app := &Tenant{Identity: graph.Identity{AppOnly: true, Roles: []string{scopeApplications}}}
	app.Can = capabilities(app.Identity, nil)
	got = strings.Join(app.Shortfalls(unify), "\n")
	if !strings.Contains(got, "DelegatedPermissionGrant.ReadWrite.All application permission") || !strings.Contains(got, "the signed-in app has no directory role") {
		t.Errorf("app-only shortfalls: %q", got)
	}
}

func TestVerifiedHost(t *testing.T) {
	org := graph.Organization{VerifiedDomains: []graph.VerifiedDomain{{Name: "contoso.onmicrosoft.com", IsInitial: true}, {Name: "Contoso.com"}}}
	for host, want := range map[string]bool{
		"contoso.com": true, "relution.contoso.com": true, "a.b.contoso.com": true, "contoso.com.": true,
		"evilcontoso.com": false, "fabrikam.com": false, "contoso.onmicrosoft.com": true,
	} {
		if got := verifiedHost(org, host); got != want {
			t.Errorf("verifiedHost(%q) = %v, want %v", host, got, want)
		}
	}
}
