package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Several tenants in one sandbox. The home tenant is the root of state.json
// and owns the bootstrap admin application; every further tenant holds a
// service principal of that (multi-tenant) application with the same Graph
// permissions and the Global Administrator role. The token endpoint serves
// the tenant named in its path and Graph the tenant of the token's tid:
// both make that tenant current for the request (enter), so every handler
// works on s.t without knowing there are others.

// ensureMaps creates the collections a tenant decoded from an older
// state.json (or built by newTenant) may lack.
func (t *tenant) ensureMaps() {
	if t.Applications == nil {
		t.Applications = map[string]*application{}
	}
	if t.ServicePrincipals == nil {
		t.ServicePrincipals = map[string]*servicePrincipal{}
	}
	if t.Users == nil {
		t.Users = map[string]*user{}
	}
	if t.AppRoleAssignments == nil {
		t.AppRoleAssignments = map[string]*appRoleAssignment{}
	}
	if t.Grants == nil {
		t.Grants = map[string]*permissionGrant{}
	}
	if t.RoleAssignments == nil {
		t.RoleAssignments = map[string]*roleAssignment{}
	}
	if t.DeletedApplications == nil {
		t.DeletedApplications = map[string]*application{}
	}
	if t.DeletedServicePrincipals == nil {
		t.DeletedServicePrincipals = map[string]*deletedPrincipal{}
	}
	if t.Groups == nil {
		t.Groups = map[string]*group{}
	}
	if t.Eligibilities == nil {
		t.Eligibilities = map[string]*roleEligibility{}
	}
	if t.AppPolicies == nil {
		t.AppPolicies = map[string]*appManagementPolicy{}
	}
	if t.DefaultAppPolicy == nil {
		t.DefaultAppPolicy = defaultAppManagementPolicy()
	}
}

// afterLoad completes a decoded home tenant and its further tenants
// (loadTenant restores the home tenant's builtin permission lists itself).
func (t *tenant) afterLoad() {
	t.ensureMaps()
	for _, o := range t.Tenants {
		o.ensureMaps()
		for _, sp := range o.ServicePrincipals {
			if sp.Builtin != "" {
				fillBuiltinPermissions(sp)
			}
		}
	}
}

// allTenants lists the home tenant first. Callers hold s.mu.
func (s *Server) allTenants() []*tenant {
	return append([]*tenant{s.home}, s.home.Tenants...)
}

// tenantByID finds a tenant by its id ("" is the home tenant). Callers hold s.mu.
func (s *Server) tenantByID(id string) *tenant {
	if id == "" {
		return s.home
	}
	for _, t := range s.allTenants() {
		if strings.EqualFold(t.TenantID, id) {
			return t
		}
	}
	return nil
}

// tenantNamed finds the tenant a login path segment names (id or verified
// domain); the home tenant when none does (the caller then reports the
// unknown tenant as before). Callers hold s.mu.
func (s *Server) tenantNamed(seg string) *tenant {
	for _, t := range s.allTenants() {
		if t.matchesTenant(seg) {
			return t
		}
	}
	return s.home
}

// tenantOf finds the tenant holding a directory object. Callers hold s.mu.
func (s *Server) tenantOf(objectID string) *tenant {
	id := strings.ToLower(objectID)
	for _, t := range s.allTenants() {
		if t.Applications[id] != nil || t.ServicePrincipals[id] != nil || t.Users[id] != nil || t.Groups[id] != nil {
			return t
		}
	}
	return nil
}

// enter makes t the current tenant until the returned function restores
// the previous one. Callers hold s.mu for the whole span.
func (s *Server) enter(t *tenant) (leave func()) {
	prev := s.t
	s.t = t
	return func() { s.t = prev }
}

// save persists every tenant (state.json holds them all). Callers hold s.mu.
func (s *Server) save() error { return saveTenant(s.dir, s.home) }

// multiTenantApp finds a multi-tenant application registered in another
// tenant whose service principal exists in the current one: its
// credentials live on the application object in its home tenant, as in
// Entra. Callers hold s.mu.
func (s *Server) multiTenantApp(appID string) *application {
	if s.t.spByAppID(appID) == nil {
		return nil
	}
	for _, t := range s.allTenants() {
		if t == s.t {
			continue
		}
		if app := t.appByAppID(appID); app != nil && str(app.Props, "signInAudience") != "AzureADMyOrg" {
			return app
		}
	}
	return nil
}

// provisionTenants makes the bootstrap admin multi-tenant and creates the
// further tenants Options asks for. Callers: Start, before serving.
func (s *Server) provisionTenants() error {
	if app := s.home.appByAppID(s.home.BootstrapAppID); app != nil && str(app.Props, "signInAudience") != "AzureADMultipleOrgs" {
		app.Props["signInAudience"] = "AzureADMultipleOrgs"
		if sp := s.home.spByAppID(s.home.BootstrapAppID); sp != nil {
			sp.Props["signInAudience"] = "AzureADMultipleOrgs"
		}
		if err := s.save(); err != nil {
			return err
		}
	}
	for _, spec := range s.opts.Tenants {
		exists := false
		for _, t := range s.allTenants() {
			if strings.EqualFold(t.DisplayName, spec.DisplayName) {
				exists = true
			}
		}
		if !exists {
			if _, err := s.addTenant(spec); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddTenant creates a further tenant: its own directory (Microsoft Graph
// and Exchange Online service principals, an admin@ user who is Global
// Administrator), and a service principal of the bootstrap admin
// application with the bootstrap's Graph permissions and Global
// Administrator. tenant.json is rewritten to list it.
func (s *Server) AddTenant(ctx context.Context, spec TenantSpec) (TenantInfo, error) {
	if err := ctx.Err(); err != nil {
		return TenantInfo{}, err
	}
	s.mu.Lock()
	t, err := s.addTenant(spec)
	var info TenantInfo
	if err == nil {
		info = s.tenantInfo(t)
	}
	s.mu.Unlock()
	if err != nil {
		return TenantInfo{}, err
	}
	return info, s.writeTenantFile()
}

// Tenants describes every tenant, the home tenant first.
func (s *Server) Tenants() []TenantInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TenantInfo
	for _, t := range s.allTenants() {
		out = append(out, s.tenantInfo(t))
	}
	return out
}

// addTenant builds a tenant with newTenant (the same seeding as the home
// tenant) and replaces its own bootstrap application by a service
// principal of the home tenant's. Callers hold s.mu.
func (s *Server) addTenant(spec TenantSpec) (*tenant, error) {
	name := strings.TrimSpace(spec.DisplayName)
	if name == "" {
		return nil, errors.New("sandbox: a tenant needs a display name")
	}
	for _, t := range s.allTenants() {
		if strings.EqualFold(t.DisplayName, name) {
			return nil, fmt.Errorf("sandbox: a tenant named %q exists already", name)
		}
	}
	t, _ := newTenant(spec.VerifiedDomains)
	t.DisplayName = name
	t.ensureMaps()
	// An initial domain after the name (newTenant's is Contoso's), the
	// seeded admin's user principal name with it.
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.ToLower(name))
	if slug == "" {
		slug = "tenant"
	}
	t.InitialDomain = slug + strings.ToLower(randString(6, "abcdefghijklmnopqrstuvwxyz0123456789")) + ".onmicrosoft.com"
	// A domain is verified in one tenant only: contoso.com is the home
	// tenant's.
	t.ExtraDomains = mergeDomains(nil, spec.VerifiedDomains)
	if u := t.Users[t.AdminUserID]; u != nil {
		u.Props["userPrincipalName"] = "admin@" + t.InitialDomain
		u.Props["mail"] = "admin@" + t.InitialDomain
	}
	if own := t.appByAppID(t.BootstrapAppID); own != nil {
		delete(t.Applications, str(own.Props, "id"))
	}
	if sp := t.spByAppID(t.BootstrapAppID); sp != nil {
		t.deleteServicePrincipal(str(sp.Props, "id"))
	}
	home := s.home
	app := home.appByAppID(home.BootstrapAppID)
	homeSP := home.spByAppID(home.BootstrapAppID)
	if app == nil || homeSP == nil {
		return nil, errors.New("sandbox: the bootstrap admin application is missing from the home tenant")
	}
	seeded := time.Now().Add(-24 * time.Hour)
	spID := newGUID()
	props := newServicePrincipalProps(t, spID, app.Props, seeded)
	props["appOwnerOrganizationId"] = home.TenantID
	t.ServicePrincipals[spID] = &servicePrincipal{Props: props, Created: seeded, Seq: t.seq()}
	homeGraph := home.ServicePrincipals[graphSPID(home)]
	graph := t.ServicePrincipals[graphSPID(t)]
	for _, a := range home.AppRoleAssignments {
		if a.PrincipalID != str(homeSP.Props, "id") || homeGraph == nil || a.ResourceID != str(homeGraph.Props, "id") || graph == nil {
			continue
		}
		na := &appRoleAssignment{ID: opaqueID(spID, newGUID()), PrincipalID: spID, PrincipalType: "ServicePrincipal",
			ResourceID: str(graph.Props, "id"), AppRoleID: a.AppRoleID, Created: seeded, Seq: t.seq()}
		t.AppRoleAssignments[na.ID] = na
	}
	t.addRoleAssignment(globalAdminRoleID, spID, "/", seeded)
	t.BootstrapAppID = home.BootstrapAppID
	home.Tenants = append(home.Tenants, t)
	if err := s.save(); err != nil {
		home.Tenants = home.Tenants[:len(home.Tenants)-1]
		return nil, err
	}
	return t, nil
}

// graphSPID is the object id of a tenant's Microsoft Graph service principal.
func graphSPID(t *tenant) string {
	for id, sp := range t.ServicePrincipals {
		if str(sp.Props, "appId") == graphAppID {
			return id
		}
	}
	return ""
}
