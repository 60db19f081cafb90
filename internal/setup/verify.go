package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/profile"
)

// Check statuses of verify.
const (
	CheckOK      = "ok"
	CheckProblem = "problem"
	CheckWarning = "warning"
)

// Check is one line of verify's checklist.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fix is the command (or, where no command can, the portal path) that
	// resolves a problem or warning.
	Fix string `json:"fix,omitempty"`
}

// VerifyRequest is what verify was asked to check.
type VerifyRequest struct {
	Selector
	// Profile, when set, replaces the profile recorded on the app.
	Profile *profile.Profile
	// ProfileFile is where Profile was read from ("" for a built-in), so
	// that fix commands name it.
	ProfileFile string
	// WarnDays flags credentials that expire within this many days.
	WarnDays int
	// FixArgs are appended to every fix command: the flags that select
	// this run's tenant and cloud.
	FixArgs []string
	Sandbox bool
}

// AppRef identifies the checked app in the report.
type AppRef struct {
	DisplayName         string   `json:"displayName"`
	ClientID            string   `json:"clientId"`
	ApplicationObjectID string   `json:"applicationObjectId"`
	ServicePrincipalID  string   `json:"servicePrincipalId,omitempty"`
	Tags                []string `json:"tags"`
}

// Report is verify's outcome: JSON as is, text through the CLI's renderer.
type Report struct {
	Sandbox    bool     `json:"sandbox,omitempty"`
	Cloud      string   `json:"cloud"`
	TenantID   string   `json:"tenantId,omitempty"`
	TenantName string   `json:"tenantName,omitempty"`
	App        AppRef   `json:"app"`
	Profile    string   `json:"profile"`
	Product    string   `json:"product,omitempty"`
	Features   []string `json:"features,omitempty"`
	WarnDays   int      `json:"warnDays"`
	Healthy    bool     `json:"healthy"`
	Checks     []Check  `json:"checks"`
	// Problems are the failed checks as "name: detail".
	Problems []string `json:"problems"`
	// Warnings are the checks to look at that do not make the app unhealthy.
	Warnings []string `json:"warnings,omitempty"`
}

// appProfile returns the profile an app is checked or handed over with:
// override, else the built-in profile its tags record. The string is a
// sentence for the user when there is none.
func appProfile(f *FoundApp, override *profile.Profile) (*profile.Profile, string) {
	if override != nil {
		return override, ""
	}
	if f.ProfileID == "" {
		if f.Tagged {
			return nil, fmt.Sprintf("%s carries the entra-link tag but records no profile", f.Label())
		}
		return nil, fmt.Sprintf("%s was not made by entra-link: it carries no entra-link tags, so its product profile is unknown", f.Label())
	}
	p, err := profile.Builtin(f.ProfileID)
	if err != nil {
		return nil, fmt.Sprintf("%s was made with profile %q, which is not a built-in profile (a --profile-file one)", f.Label(), f.ProfileID)
	}
	return p, ""
}

// profileFeatures are the app's recorded features that p knows.
func profileFeatures(p *profile.Profile, recorded []string) (known, unknown []string) {
	for _, f := range recorded {
		if _, ok := p.Feature(f); ok {
			if !slices.Contains(known, f) {
				known = append(known, f)
			}
		} else {
			unknown = append(unknown, f)
		}
	}
	sort.Strings(known)
	return known, unknown
}

// expectedGrants are the permissions and roles p asks for with features on.
func expectedGrants(p *profile.Profile, features []string) ([]profile.Permission, []profile.Role) {
	var perms []profile.Permission
	for _, x := range p.Permissions {
		if x.Feature == "" || slices.Contains(features, x.Feature) {
			perms = append(perms, x)
		}
	}
	var roles []profile.Role
	for _, r := range p.DirectoryRoles {
		if r.Feature == "" || slices.Contains(features, r.Feature) {
			roles = append(roles, r)
		}
	}
	return perms, roles
}

func templateRef(id string) string { return "{{" + id + "}}" }

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSuffix(x, "/"), strings.TrimSuffix(v, "/")) {
			return true
		}
	}
	return false
}

// inferValues recovers the profile inputs that went into the app's URIs
// (Relution's server URL is its identifier and redirect URI, Unify's
// redirect URIs are its web redirect URIs), for checks, fix commands and
// hand-over templates.
func inferValues(p *profile.Profile, app graph.Application) map[string][]string {
	out := map[string][]string{}
	for _, in := range p.Inputs {
		ref := templateRef(in.ID)
		idRef := slices.Contains(p.IdentifierURIs, ref)
		rdRef := slices.Contains(p.Web.RedirectURIs, ref)
		var cands []string
		switch {
		case idRef && rdRef:
			// Both come from the same value: prefer one that is in both lists.
			for _, u := range app.IdentifierURIs {
				if containsFold(app.Web.RedirectURIs, u) {
					cands = append(cands, u)
				}
			}
			if len(cands) == 0 {
				cands = app.IdentifierURIs
			}
			if len(cands) == 0 {
				cands = app.Web.RedirectURIs
			}
		case idRef:
			cands = app.IdentifierURIs
		case rdRef:
			cands = app.Web.RedirectURIs
		}
		if in.Type != profile.InputURLList && len(cands) > 1 {
			cands = cands[:1]
		}
		if len(cands) > 0 {
			out[in.ID] = append([]string(nil), cands...)
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./:@%+,=", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// fixer builds the commands verify suggests.
type fixer struct {
	p           *profile.Profile
	profileFile string
	app         graph.Application
	features    []string
	values      map[string][]string
	args        []string
}

// setup is the `entra-link setup` run that brings the app back to its
// profile without changing anything else about it: same name, same
// audience, same inputs, same features.
func (f fixer) setup(extra ...string) string {
	parts := []string{"entra-link", "setup"}
	if f.profileFile != "" {
		parts = append(parts, "--profile-file", shellQuote(f.profileFile))
	} else {
		parts = append(parts, "--profile", f.p.ID)
	}
	parts = append(parts, "--app-id", f.app.AppID)
	if f.app.DisplayName != f.p.DisplayName && f.app.DisplayName != "" {
		// setup --app-id renames the app to the profile's name otherwise.
		parts = append(parts, "--name", shellQuote(f.app.DisplayName))
	}
	for aud, sia := range profile.SignInAudience {
		if sia == f.app.SignInAudience && aud != f.p.Audience.Default && f.p.AllowsAudience(aud) {
			parts = append(parts, "--audience", aud)
		}
	}
	for _, in := range f.p.Inputs {
		vals := f.values[in.ID]
		if len(vals) == 0 && in.Required {
			vals = []string{"URL"}
			if in.Type == profile.InputString {
				vals = []string{"VALUE"}
			}
		}
		for _, v := range vals {
			switch in.ID {
			case "server-url", "redirect-uri":
				parts = append(parts, "--"+in.ID, shellQuote(v))
			default:
				parts = append(parts, "--input", shellQuote(in.ID+"="+v))
			}
		}
	}
	for _, feat := range f.features {
		parts = append(parts, "--with", feat)
	}
	if f.p.Credential.Default == profile.CredentialCertificate && !slices.Contains(extra, "--certificate-file") {
		// setup needs to know which certificate; one already on the app is
		// recognised by its thumbprint and not uploaded twice.
		parts = append(parts, "--certificate-file", "CERTIFICATE.cer")
	}
	parts = append(parts, extra...)
	parts = append(parts, "--yes")
	parts = append(parts, f.args...)
	return strings.Join(parts, " ")
}

func (f fixer) rotate() string {
	return strings.Join(append([]string{"entra-link", "rotate-secret", "--app-id", f.app.AppID}, f.args...), " ")
}

func (f fixer) newCertificate() string {
	return f.setup("--certificate-file", "NEW-CERTIFICATE.cer")
}

// tenantState is what verify reads about the app besides the app itself.
type tenantState struct {
	org         graph.Organization
	sp          *graph.ServicePrincipal
	resources   map[string]graph.ServicePrincipal // by appId
	assignments []graph.AppRoleAssignment
	grants      []graph.PermissionGrant
	roleAssigns []graph.RoleAssignment
}

// Verify compares the app with its profile and returns the checklist. It
// only reads. Problems with the request (unknown app, no profile) are
// *UsageError; a healthy app has Report.Healthy.
func Verify(ctx context.Context, env *Env, req VerifyRequest) (*Report, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	p, why := appProfile(found, req.Profile)
	if p == nil {
		return nil, &UsageError{Msg: why + ": say which product it is for with --profile ID or --profile-file PATH"}
	}
	features, unknown := profileFeatures(p, found.Features)
	perms, roles := expectedGrants(p, features)

	st, err := readTenantState(ctx, env, found.App, perms, pre)
	if err != nil {
		return nil, err
	}
	v := &verifier{
		now: env.Now().UTC(), warnDays: req.WarnDays, p: p, found: found, features: features,
		perms: perms, roles: roles, st: st,
	}
	v.fix = fixer{p: p, profileFile: req.ProfileFile, app: found.App, features: features, values: inferValues(p, found.App), args: req.FixArgs}
	for _, f := range unknown {
		v.warn("feature "+f, fmt.Sprintf("the app records feature %q, which profile %s does not have; it was not checked", f, p.ID), "")
	}
	v.run()

	rep := &Report{
		Sandbox:  req.Sandbox,
		Cloud:    env.Cloud.Name,
		TenantID: st.org.ID, TenantName: st.org.DisplayName,
		App: AppRef{DisplayName: found.App.DisplayName, ClientID: found.App.AppID, ApplicationObjectID: found.App.ID,
			Tags: append([]string{}, found.App.Tags...)},
		Profile: p.ID, Product: p.Product, Features: features, WarnDays: req.WarnDays,
		Checks: v.checks, Problems: []string{},
	}
	if st.sp != nil {
		rep.App.ServicePrincipalID = st.sp.ID
	}
	for _, c := range v.checks {
		switch c.Status {
		case CheckProblem:
			rep.Problems = append(rep.Problems, c.Name+": "+c.Detail)
		case CheckWarning:
			rep.Warnings = append(rep.Warnings, c.Name+": "+c.Detail)
		}
	}
	rep.Healthy = len(rep.Problems) == 0
	return rep, nil
}

// readTenantState reads, concurrently, the service principal (then, as
// soon as it is known, what it holds), the tenant and the resource APIs.
func readTenantState(ctx context.Context, env *Env, app graph.Application, perms []profile.Permission, pre *prefetch) (*tenantState, error) {
	st := &tenantState{resources: map[string]graph.ServicePrincipal{}}
	var l lookups
	l.do(func() {
		sp, err := pre.servicePrincipal(ctx, env.Graph, app.AppID)
		if err != nil {
			l.fail("looking up the app's service principal", err)
			return
		}
		if sp == nil {
			return
		}
		l.mu.Lock()
		st.sp = sp
		l.mu.Unlock()
		l.do(func() {
			a, err := env.Graph.AppRoleAssignments(ctx, sp.ID)
			if err != nil {
				l.fail("reading the app's consented application permissions", err)
				return
			}
			l.mu.Lock()
			st.assignments = a
			l.mu.Unlock()
		})
		l.do(func() {
			g, err := env.Graph.PermissionGrants(ctx, sp.ID)
			if err != nil {
				l.fail("reading the app's delegated permission grants", err)
				return
			}
			l.mu.Lock()
			st.grants = g
			l.mu.Unlock()
		})
		l.do(func() {
			r, err := env.Graph.RoleAssignments(ctx, sp.ID)
			if err != nil {
				l.fail("reading the app's directory roles", err)
				return
			}
			l.mu.Lock()
			st.roleAssigns = r
			l.mu.Unlock()
		})
	})
	l.do(func() {
		org, err := pre.tenant(ctx, env.Graph)
		if err != nil {
			l.fail("reading the tenant", err)
			return
		}
		l.mu.Lock()
		st.org = org
		l.mu.Unlock()
	})
	resourceIDs := map[string]bool{}
	for _, p := range perms {
		resourceIDs[strings.ToLower(p.ResourceAppID)] = true
	}
	for _, rra := range app.RequiredResourceAccess {
		resourceIDs[strings.ToLower(rra.ResourceAppID)] = true
	}
	for appID := range resourceIDs {
		l.do(func() {
			sp, err := lookupSP(ctx, env.Graph, appID)
			if err != nil {
				l.fail("looking up the "+resourceName(appID)+" service principal", err)
				return
			}
			if sp != nil {
				l.mu.Lock()
				st.resources[appID] = *sp
				l.mu.Unlock()
			}
		})
	}
	errs := l.wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return st, nil
}

// tenantOf reads the tenant; an identity that may not read it
// (Organization.Read.All) still gets its id from the token.
func tenantOf(ctx context.Context, g graph.API) (graph.Organization, error) {
	org, err := g.Organization(ctx)
	if err == nil {
		return org, nil
	}
	if !graph.IsForbidden(err) {
		return graph.Organization{}, err
	}
	id, werr := g.WhoAmI(ctx)
	if werr != nil {
		return graph.Organization{}, werr
	}
	return graph.Organization{ID: id.TenantID, DisplayName: "tenant " + id.TenantID}, nil
}

// verifier evaluates the checks on what was read; it makes no requests.
type verifier struct {
	now      time.Time
	warnDays int
	p        *profile.Profile
	found    *FoundApp
	features []string
	perms    []profile.Permission
	roles    []profile.Role
	st       *tenantState
	fix      fixer
	checks   []Check
}

func (v *verifier) add(status, name, detail, fix string) {
	if status == CheckOK {
		fix = ""
	}
	v.checks = append(v.checks, Check{Name: name, Status: status, Detail: detail, Fix: fix})
}

func (v *verifier) ok(name, detail string)           { v.add(CheckOK, name, detail, "") }
func (v *verifier) problem(name, detail, fix string) { v.add(CheckProblem, name, detail, fix) }
func (v *verifier) warn(name, detail, fix string)    { v.add(CheckWarning, name, detail, fix) }

func (v *verifier) run() {
	app := v.found.App
	v.ok("app registration", fmt.Sprintf("%q exists (client ID %s)", app.DisplayName, app.AppID))
	v.checkTags()
	if v.st.sp != nil {
		v.ok("service principal", "the enterprise application exists")
	} else {
		v.problem("service principal", "the app has no service principal (enterprise application), so nothing can be consented or assigned to it and it cannot sign in", v.fix.setup())
	}
	v.checkAudience()
	v.checkPermissions()
	v.checkExtras()
	v.checkRoles()
	v.checkURIs()
	v.checkCredentials()
}

func (v *verifier) checkTags() {
	tags := v.found.App.Tags
	switch {
	case !v.found.Tagged:
		v.warn("entra-link tags", "the app carries no entra-link tags, so entra-link finds it only by --app-id", v.fix.setup())
	case v.found.ProfileID != v.p.ID:
		recorded := v.found.ProfileID
		if recorded == "" {
			recorded = "none"
		}
		v.warn("entra-link tags", fmt.Sprintf("the app records profile %s, but was checked against %s", recorded, v.p.ID), v.fix.setup())
	default:
		v.ok("entra-link tags", strings.Join(tags, ", "))
	}
}

func (v *verifier) checkAudience() {
	var allowed []string
	for _, c := range v.p.Audience.Choices {
		allowed = append(allowed, profile.SignInAudience[c])
	}
	if len(allowed) == 0 {
		allowed = []string{profile.SignInAudience[v.p.Audience.Default]}
	}
	got := v.found.App.SignInAudience
	if slices.Contains(allowed, got) {
		v.ok("account type", got)
		return
	}
	v.problem("account type", fmt.Sprintf("the app's sign-in audience is %s; %s needs %s", orNone(got), v.p.Product, strings.Join(allowed, " or ")), v.fix.setup())
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// permissionID is the id a resource publishes for a permission: the
// tenant's resource service principal decides, the catalogue otherwise.
func (v *verifier) permissionID(p profile.Permission) string {
	if sp, ok := v.st.resources[strings.ToLower(p.ResourceAppID)]; ok {
		if p.Type == catalog.Application {
			for _, r := range sp.AppRoles {
				if r.Value == p.Name {
					return r.ID
				}
			}
		} else {
			for _, s := range sp.Scopes {
				if s.Value == p.Name {
					return s.ID
				}
			}
		}
	}
	return p.ID
}

func (v *verifier) requested(resourceAppID, typ, id string) bool {
	for _, rra := range v.found.App.RequiredResourceAccess {
		if !strings.EqualFold(rra.ResourceAppID, resourceAppID) {
			continue
		}
		for _, ra := range rra.ResourceAccess {
			if strings.EqualFold(ra.ID, id) && strings.EqualFold(ra.Type, typ) {
				return true
			}
		}
	}
	return false
}

// allPrincipalsGrant is the tenant-wide delegated grant on a resource.
func (v *verifier) allPrincipalsGrant(resourceID string) *graph.PermissionGrant {
	for i, g := range v.st.grants {
		if strings.EqualFold(g.ResourceID, resourceID) && g.ConsentType == "AllPrincipals" {
			return &v.st.grants[i]
		}
	}
	return nil
}

func (v *verifier) consented(p profile.Permission, id string) bool {
	res, ok := v.st.resources[strings.ToLower(p.ResourceAppID)]
	if !ok || v.st.sp == nil {
		return false
	}
	if p.Type == catalog.Application {
		for _, a := range v.st.assignments {
			if strings.EqualFold(a.ResourceID, res.ID) && strings.EqualFold(a.AppRoleID, id) {
				return true
			}
		}
		return false
	}
	if g := v.allPrincipalsGrant(res.ID); g != nil {
		return containsFold(strings.Fields(g.Scope), p.Name)
	}
	return false
}

func (v *verifier) checkPermissions() {
	for _, p := range v.perms {
		name := "permission " + PermissionTarget(p)
		id := v.permissionID(p)
		req := v.requested(p.ResourceAppID, p.Type.GraphType(), id)
		_, resOK := v.st.resources[strings.ToLower(p.ResourceAppID)]
		con := v.consented(p, id)
		consent := "admin consent"
		if p.Type == catalog.Delegated {
			consent = "tenant-wide admin consent"
		}
		switch {
		case req && con:
			v.ok(name, "requested and consented")
		case !resOK:
			v.problem(name, fmt.Sprintf("the tenant has no %s service principal, so the permission cannot be consented", p.Resource), v.fix.setup())
		case v.st.sp == nil:
			v.problem(name, "not consented: the app has no service principal", v.fix.setup())
		case req:
			v.problem(name, "requested, but "+consent+" is missing", v.fix.setup())
		case con:
			v.problem(name, "consented, but missing from the app's requested API permissions", v.fix.setup())
		default:
			v.problem(name, "neither requested by the app nor consented", v.fix.setup())
		}
	}
}

// permissionName names a permission id of a resource for messages.
func (v *verifier) permissionName(resourceAppID, typ, id string) string {
	res := resourceName(resourceAppID)
	if sp, ok := v.st.resources[strings.ToLower(resourceAppID)]; ok {
		if sp.DisplayName != "" && catalog.ResourceByAppID(resourceAppID) == nil {
			res = sp.DisplayName
		}
		if strings.EqualFold(typ, "Role") {
			for _, r := range sp.AppRoles {
				if strings.EqualFold(r.ID, id) {
					return res + " · application · " + r.Value
				}
			}
		} else {
			for _, s := range sp.Scopes {
				if strings.EqualFold(s.ID, id) {
					return res + " · delegated · " + s.Value
				}
			}
		}
	}
	if cr := catalog.ResourceByAppID(resourceAppID); cr != nil {
		if strings.EqualFold(typ, "Role") {
			for _, r := range cr.AppRoles {
				if strings.EqualFold(r.ID, id) {
					return res + " · application · " + r.Value
				}
			}
		} else {
			for _, s := range cr.Scopes {
				if strings.EqualFold(s.ID, id) {
					return res + " · delegated · " + s.Value
				}
			}
		}
	}
	kind := "delegated"
	if strings.EqualFold(typ, "Role") {
		kind = "application"
	}
	return fmt.Sprintf("%s · %s · %s", res, kind, id)
}

// checkExtras looks for permissions and roles the profile does not ask for:
// requested, consented as app roles, or granted tenant-wide.
func (v *verifier) checkExtras() {
	want := map[string]bool{}   // resourceAppId/type/id
	scopes := map[string]bool{} // resourceAppId/scope value
	for _, p := range v.perms {
		want[strings.ToLower(p.ResourceAppID+"/"+p.Type.GraphType()+"/"+v.permissionID(p))] = true
		if p.Type == catalog.Delegated {
			scopes[strings.ToLower(p.ResourceAppID+"/"+p.Name)] = true
		}
	}
	var requested, consented []string
	for _, rra := range v.found.App.RequiredResourceAccess {
		for _, ra := range rra.ResourceAccess {
			if !want[strings.ToLower(rra.ResourceAppID+"/"+ra.Type+"/"+ra.ID)] {
				requested = append(requested, v.permissionName(rra.ResourceAppID, ra.Type, ra.ID))
			}
		}
	}
	byObjectID := map[string]string{} // resource SP object id → appId
	for appID, sp := range v.st.resources {
		byObjectID[strings.ToLower(sp.ID)] = appID
	}
	for _, a := range v.st.assignments {
		appID, known := byObjectID[strings.ToLower(a.ResourceID)]
		if !known {
			consented = append(consented, fmt.Sprintf("app role %s of the resource service principal %s", a.AppRoleID, a.ResourceID))
			continue
		}
		if !want[strings.ToLower(appID+"/Role/"+a.AppRoleID)] {
			consented = append(consented, v.permissionName(appID, "Role", a.AppRoleID))
		}
	}
	for _, g := range v.st.grants {
		if g.ConsentType != "AllPrincipals" {
			continue
		}
		appID, known := byObjectID[strings.ToLower(g.ResourceID)]
		for _, sc := range strings.Fields(g.Scope) {
			if !known {
				consented = append(consented, fmt.Sprintf("delegated %s on the resource service principal %s", sc, g.ResourceID))
				continue
			}
			if !scopes[strings.ToLower(appID+"/"+sc)] {
				consented = append(consented, resourceName(appID)+" · delegated · "+sc)
			}
		}
	}
	switch {
	case len(requested) == 0 && len(consented) == 0:
		v.ok("no unexpected permissions", "the app requests and holds only the profile's permissions")
	default:
		var parts []string
		if len(requested) > 0 {
			parts = append(parts, "requested: "+strings.Join(requested, ", "))
		}
		if len(consented) > 0 {
			parts = append(parts, "consented: "+strings.Join(consented, ", "))
		}
		fix := v.fix.setup()
		if len(consented) > 0 {
			fix += fmt.Sprintf(" (sets the requested permissions to exactly the profile's); revoke the extra consent in the Entra admin center: Enterprise applications > %s > Permissions", v.found.App.DisplayName)
		}
		v.problem("no unexpected permissions", fmt.Sprintf("%s does not need %s", v.p.Product, strings.Join(parts, "; ")), fix)
	}
}

func (v *verifier) checkRoles() {
	assigned := map[string]bool{}
	for _, a := range v.st.roleAssigns {
		if a.DirectoryScopeID == "/" || a.DirectoryScopeID == "" {
			assigned[strings.ToLower(a.RoleDefinitionID)] = true
		}
	}
	want := map[string]bool{}
	for _, r := range v.roles {
		want[strings.ToLower(r.TemplateID)] = true
		name := "directory role " + r.Name
		switch {
		case assigned[strings.ToLower(r.TemplateID)]:
			v.ok(name, "assigned to the app (tenant-wide)")
		case v.st.sp == nil:
			v.problem(name, "not assigned: the app has no service principal", v.fix.setup())
		default:
			v.problem(name, "not assigned to the app", v.fix.setup())
		}
	}
	var extra []string
	for _, a := range v.st.roleAssigns {
		if want[strings.ToLower(a.RoleDefinitionID)] && (a.DirectoryScopeID == "/" || a.DirectoryScopeID == "") {
			continue
		}
		name := a.RoleDefinitionID
		if r, ok := catalog.RoleByTemplateID(a.RoleDefinitionID); ok {
			name = r.Name
		}
		if a.DirectoryScopeID != "/" && a.DirectoryScopeID != "" {
			name += " (scope " + a.DirectoryScopeID + ")"
		}
		extra = append(extra, name)
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		v.problem("no unexpected directory roles", fmt.Sprintf("%s does not need %s", v.p.Product, strings.Join(extra, ", ")),
			"remove the assignment in the Entra admin center: Roles and administrators > ROLE > Assignments")
	}
}

// httpsOK accepts https URLs and, where allowed, http://localhost.
func httpsOK(u string, localhost bool) bool {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") {
		return true
	}
	return localhost && (strings.HasPrefix(l, "http://localhost") || strings.HasPrefix(l, "http://127.0.0.1"))
}

func (v *verifier) checkURIs() {
	app := v.found.App
	values := v.fix.values
	lookup := func(name string) (string, bool) {
		switch name {
		case "clientId":
			return app.AppID, true
		case "tenantId":
			return v.st.org.ID, v.st.org.ID != ""
		}
		if vals := values[name]; len(vals) > 0 {
			return vals[0], true
		}
		return "", false
	}
	checked := map[string]bool{}
	for _, in := range v.p.Inputs {
		ref := templateRef(in.ID)
		idRef := slices.Contains(v.p.IdentifierURIs, ref)
		rdRef := slices.Contains(v.p.Web.RedirectURIs, ref)
		if !idRef && !rdRef {
			continue
		}
		checked[ref] = true
		vals := values[in.ID]
		name := in.Label
		if len(vals) == 0 {
			where := "identifier URI (Application ID URI)"
			if !idRef {
				where = "web redirect URI"
			}
			v.problem(name, fmt.Sprintf("the app has no %s; %s needs the %s there", where, v.p.Product, name), v.fix.setup())
			continue
		}
		var bad []string
		for _, u := range vals {
			if !httpsOK(u, in.Type == profile.InputURLList && !in.VerifiedDomain) {
				bad = append(bad, u)
			}
		}
		if len(bad) > 0 {
			v.problem(name, fmt.Sprintf("%s must be https: %s", name, strings.Join(bad, ", ")), v.fix.setup())
			continue
		}
		var missing []string
		if idRef && !containsFold(app.IdentifierURIs, vals[0]) {
			missing = append(missing, "the identifier URI")
		}
		if rdRef {
			for _, u := range vals {
				if !containsFold(app.Web.RedirectURIs, u) {
					missing = append(missing, "a web redirect URI")
					break
				}
			}
		}
		if len(missing) > 0 {
			v.problem(name, fmt.Sprintf("%s is not %s (identifier URIs: %s; redirect URIs: %s)", vals[0], strings.Join(missing, " or "),
				listOrNone(app.IdentifierURIs), listOrNone(app.Web.RedirectURIs)), v.fix.setup())
			continue
		}
		switch {
		case idRef && rdRef:
			v.ok(name, vals[0]+" is the identifier URI and a web redirect URI")
		case idRef:
			v.ok(name, vals[0]+" is the identifier URI")
		default:
			v.ok(name, "web redirect URIs: "+strings.Join(vals, ", "))
		}
	}
	// Fixed (or otherwise templated) URIs must be there as rendered.
	check := func(kind string, templates, have []string) {
		for _, t := range templates {
			if checked[t] {
				continue
			}
			unknown := false
			u := profile.Render(t, func(n string) string {
				s, ok := lookup(n)
				if !ok {
					unknown = true
				}
				return s
			})
			if unknown {
				v.warn(kind+" "+t, "cannot be checked: the value it is made from is not on the app", "")
				continue
			}
			if containsFold(have, u) {
				v.ok(kind+" "+u, "present")
			} else {
				v.problem(kind+" "+u, "missing from the app", v.fix.setup())
			}
		}
	}
	check("identifier URI", v.p.IdentifierURIs, app.IdentifierURIs)
	check("redirect URI", v.p.Web.RedirectURIs, app.Web.RedirectURIs)
	if want := v.p.Web.IDTokenIssuance; want != nil {
		state := map[bool]string{true: "on", false: "off"}
		if app.Web.EnableIDTokenIssuance == *want {
			v.ok("ID token issuance", state[*want])
		} else {
			v.problem("ID token issuance", fmt.Sprintf("is %s; %s needs it %s", state[app.Web.EnableIDTokenIssuance], v.p.Product, state[*want]), v.fix.setup())
		}
	}
}

func (v *verifier) credentialFix(kind string) string {
	if kind == KindCertificate {
		return v.fix.newCertificate()
	}
	return v.fix.rotate()
}

func (v *verifier) checkCredentials() {
	creds := Credentials(v.found.App)
	window := v.now.AddDate(0, 0, v.warnDays)
	usable := func(c CredentialInfo) bool {
		return v.p.AllowsCredential(c.Kind) || len(v.p.Credential.Allowed) == 0
	}
	// lasting: a usable credential that outlives the warning window, i.e.
	// the product has (or can switch to) something that keeps working.
	var lasting *CredentialInfo
	valid := 0
	for i, c := range creds {
		if !usable(c) {
			continue
		}
		if c.End.After(v.now) {
			valid++
		}
		if c.End.After(window) && (lasting == nil || c.End.After(lasting.End)) {
			lasting = &creds[i]
		}
	}
	for _, c := range creds {
		name := c.Label()
		days := DaysUntil(v.now, c.End)
		date := c.End.UTC().Format("2006-01-02")
		switch {
		case !c.End.After(v.now):
			detail := fmt.Sprintf("expired on %s", date)
			if valid > 0 {
				v.warn(name, detail+"; it no longer works and can be removed", fmt.Sprintf("remove it in the Entra admin center: App registrations > %s > Certificates & secrets", v.found.App.DisplayName))
			} else {
				v.problem(name, detail, v.credentialFix(c.Kind))
			}
		case !c.End.After(window):
			detail := fmt.Sprintf("expires on %s (in %d days, within --warn-days %d)", date, days, v.warnDays)
			if lasting != nil && lasting.KeyID != c.KeyID {
				v.warn(name, fmt.Sprintf("%s; %s is valid until %s — make sure %s uses it", detail, lasting.Label(), lasting.End.UTC().Format("2006-01-02"), v.p.Product), "")
			} else {
				v.problem(name, detail, v.credentialFix(c.Kind))
			}
		default:
			v.ok(name, fmt.Sprintf("expires on %s (in %d days)", date, days))
		}
	}
	if len(v.p.Credential.Allowed) == 0 || v.p.Credential.Default == profile.CredentialNone {
		return
	}
	if valid == 0 {
		kind := KindSecret
		what := "client secret"
		if v.p.Credential.Default == profile.CredentialCertificate {
			kind, what = KindCertificate, "certificate"
		}
		v.problem("valid credential", fmt.Sprintf("the app has no valid %s, so %s cannot sign in", what, v.p.Product), v.credentialFix(kind))
	}
}
