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
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Built-in role template ids that decide what an identity may do.
const (
	roleGlobalAdmin      = "62e90394-69f5-4237-9190-012177145e10"
	rolePrivilegedRole   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	roleAppAdmin         = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleCloudAppAdmin    = "158c047a-c907-4556-b7ef-446551a6b5f7"
	roleAppDeveloper     = "cf1c38e5-3621-4004-a7cb-879624dced7c"
	scopeApplications    = "Application.ReadWrite.All"
	scopeAppOwnedBy      = "Application.ReadWrite.OwnedBy"
	scopeAppRoleAssign   = "AppRoleAssignment.ReadWrite.All"
	scopeDelegatedGrants = "DelegatedPermissionGrant.ReadWrite.All"
	scopeRoleManagement  = "RoleManagement.ReadWrite.Directory"
	scopeDirectoryRW     = "Directory.ReadWrite.All"
)

// Env is what the engine needs from outside.
type Env struct {
	Graph graph.API
	Cloud cloud.Cloud
	Now   func() time.Time
	// Progress receives each step as it starts and ends; nil = silent.
	Progress func(Event)
	// OnSecret is called as soon as a credential whose secret part exists
	// only in this process has been created (client secret), before any
	// further step runs, so the caller can persist it.
	OnSecret func(*output.Result)
	// Journal records the secrets this run adds and finds those earlier
	// runs on this machine added and never handed over; nil keeps none
	// (and a secret an interrupted run left behind is then not recognised).
	Journal *journal.Journal
	// StopWaiting ends when the user insists on stopping (a second
	// signal): a secret being added is no longer waited for then (its
	// journal record stays open). nil: never.
	StopWaiting context.Context
	// CommandFlags are the flags that make a command entra-link suggests
	// reach this same tenant and cloud the same way (--sandbox, --cloud,
	// --tenant, --auth): a suggestion copied as printed must not sign in
	// elsewhere.
	CommandFlags []string
}

// Command is the entra-link command args, with CommandFlags, as the user
// would type it.
func (e *Env) Command(args ...string) string {
	return strings.Join(append(append([]string{"entra-link"}, args...), e.CommandFlags...), " ")
}

// Event is one progress report.
type Event struct {
	// ID is the plan step's ID ("" for events outside a plan).
	ID     string
	Action string
	Target string
	// Status is "running" while the step runs, then one of the output.Step* statuses.
	Status string
	Detail string
}

// Progress statuses beyond the output.Step* ones.
const (
	// StatusRunning marks a step that has started.
	StatusRunning = "running"
	// StatusWaiting means a step is waiting out replication or throttling;
	// Detail says why, in words.
	StatusWaiting = "waiting"
)

func (e *Env) emit(ev Event) {
	if e.Progress != nil {
		e.Progress(ev)
	}
}

// Tenant is what preflight learned about the tenant, the signed-in
// identity and the app as it is: everything a plan is computed from.
type Tenant struct {
	Org      graph.Organization
	Identity graph.Identity
	// RoleNames are the identity's directory roles, by name.
	RoleNames []string
	roleIDs   []string
	// rolesUnread says why the identity's role assignments could not be
	// read ("" when they were): its roles are then only those its token
	// names, and no sentence may claim it has none.
	rolesUnread string
	// Resources are the resource APIs' service principals, by appId (lower
	// case): the ones the profile needs and the ones the app requests.
	Resources map[string]graph.ServicePrincipal
	// App is the existing app to configure, or nil.
	App *graph.Application
	// AppState is what the tenant holds for App.
	AppState
	// Lookalikes are apps with the same display name that entra-link did not create.
	Lookalikes []graph.Application
	// Interrupted are the journal's records of ended runs that added
	// secrets to App (Env.Journal), taken over by this run.
	Interrupted []*journal.Record
	Can         Capabilities
	// Warnings are things the user should know that do not stop the run.
	Warnings   []string
	orgUnknown bool

	// Policy is what preflight read of the app management policy.
	Policy PolicyRead
	// EligibleNames are the directory roles the signed-in user may
	// activate in PIM; eligibleUnread says why they could not be read.
	EligibleNames  []string
	eligibleIDs    []string
	eligibleUnread string
	// activatedLater are roles the directory shows active that the
	// token's wids claim lacks: activated after the sign-in, they count
	// only from the next one.
	activatedLater []string
	// renewFailed says why no new token could be got for activatedLater.
	renewFailed string
	// Owners are the requested owners (Spec.Owners), resolved; AppOwners
	// the existing app's owners (ownersUnread: why they are not known).
	Owners       []Owner
	AppOwners    []graph.DirectoryObject
	ownersUnread string
	cloud        cloud.Cloud
}

// AppState is what the tenant holds for one app: its service principal and
// the consents, grants and directory roles that holds. What the signed-in
// identity may not read is named in Unread instead of failing the read.
type AppState struct {
	SP              *graph.ServicePrincipal
	Assignments     []graph.AppRoleAssignment
	Grants          []graph.PermissionGrant
	RoleAssignments []graph.RoleAssignment
	// Unread says, by step kind, what could not be read and why, in words.
	Unread map[Kind]string
}

// Managed reports whether entra-link manages the app: it carries the tag.
func (t *Tenant) Managed() bool {
	return t.App != nil && slices.Contains(t.App.Tags, profile.Tag)
}

// resource returns the service principal of a resource API.
func (t *Tenant) resource(appID string) (graph.ServicePrincipal, bool) {
	sp, ok := t.Resources[strings.ToLower(appID)]
	return sp, ok
}

// Capabilities says what the signed-in identity may do.
type Capabilities struct {
	CreateApps     bool
	ConsentGraph   bool // application permissions of Microsoft Graph
	ConsentOther   bool // application permissions of other resources
	GrantDelegated bool
	AssignRoles    bool
}

func hasAny(have []string, want ...string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// capabilities derives what id may do from its token claims and roles.
func capabilities(id graph.Identity, roleIDs []string) Capabilities {
	var c Capabilities
	if id.AppOnly {
		// App-only: application permissions, or directory roles held by the
		// service principal itself.
		c.CreateApps = hasAny(id.Roles, scopeApplications, scopeAppOwnedBy, scopeDirectoryRW) || hasAny(roleIDs, roleGlobalAdmin, roleAppAdmin, roleCloudAppAdmin)
		c.ConsentGraph = hasAny(id.Roles, scopeAppRoleAssign) || hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole)
		c.ConsentOther = c.ConsentGraph || hasAny(roleIDs, roleAppAdmin, roleCloudAppAdmin)
		c.GrantDelegated = hasAny(id.Roles, scopeDelegatedGrants, scopeDirectoryRW) || hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole, roleAppAdmin, roleCloudAppAdmin)
		c.AssignRoles = hasAny(id.Roles, scopeRoleManagement) || hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole)
		return c
	}
	// Delegated: the scope must have been consented for the sign-in client,
	// and the user must hold a role that allows the action.
	c.CreateApps = hasAny(id.Scopes, scopeApplications, scopeDirectoryRW)
	c.ConsentGraph = hasAny(id.Scopes, scopeAppRoleAssign) && hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole)
	c.ConsentOther = hasAny(id.Scopes, scopeAppRoleAssign) && hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole, roleAppAdmin, roleCloudAppAdmin)
	c.GrantDelegated = hasAny(id.Scopes, scopeDelegatedGrants, scopeDirectoryRW) && hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole, roleAppAdmin, roleCloudAppAdmin)
	c.AssignRoles = hasAny(id.Scopes, scopeRoleManagement) && hasAny(roleIDs, roleGlobalAdmin, rolePrivilegedRole)
	return c
}

// Shortfalls lists, in words, what the plan needs that the identity lacks:
// the consent matrix of endpoints.md §13. A role the user is only eligible
// for in PIM, or activated after signing in, is named as such.
func (t *Tenant) Shortfalls(s *profile.Spec) []string {
	var out []string
	needGraph, needOther, needDelegated := false, false, false
	for _, p := range s.Permissions {
		switch {
		case p.Type == catalog.Delegated:
			needDelegated = true
		case p.ResourceAppID == catalog.GraphAppID:
			needGraph = true
		default:
			needOther = true
		}
	}
	if needGraph && !t.Can.ConsentGraph {
		out = append(out, "consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator"+appOnlyHint(t, scopeAppRoleAssign)+"; "+t.lacks(rolePrivilegedRole, roleGlobalAdmin))
	}
	if needOther && !t.Can.ConsentOther {
		out = append(out, "consent to application permissions needs Cloud Application Administrator, Application Administrator, Privileged Role Administrator or Global Administrator"+appOnlyHint(t, scopeAppRoleAssign)+"; "+t.lacks(roleCloudAppAdmin, roleAppAdmin, rolePrivilegedRole, roleGlobalAdmin))
	}
	if needDelegated && !t.Can.GrantDelegated {
		out = append(out, "tenant-wide consent to delegated permissions needs Cloud Application Administrator, Application Administrator, Privileged Role Administrator or Global Administrator"+appOnlyHint(t, scopeDelegatedGrants)+"; "+t.lacks(roleCloudAppAdmin, roleAppAdmin, rolePrivilegedRole, roleGlobalAdmin))
	}
	if len(s.Roles) > 0 && !t.Can.AssignRoles {
		out = append(out, "assigning directory roles needs Privileged Role Administrator or Global Administrator"+appOnlyHint(t, scopeRoleManagement)+"; "+t.lacks(rolePrivilegedRole, roleGlobalAdmin))
	}
	return out
}

// lacks says what the identity has instead of one of roles (the least
// privileged first): a role it may activate in PIM, one it activated
// after signing in, or the roles it holds.
func (t *Tenant) lacks(roles ...string) string {
	if t.Identity.AppOnly {
		return t.has()
	}
	// A role activated since the sign-in is still listed as eligible:
	// it is active, so activating it again is not the advice.
	for _, r := range roles {
		if hasAny(t.activatedLater, r) {
			why := ""
			if t.renewFailed != "" {
				why = " (" + t.renewFailed + ")"
			}
			return fmt.Sprintf("%s was activated after you signed in, and Entra counts it only in a new token%s: sign in again and run again", roleName(r, ""), why)
		}
	}
	for _, r := range roles {
		if hasAny(t.eligibleIDs, r) {
			return fmt.Sprintf("you are eligible for %s: activate it in PIM (%s) and run again", roleName(r, ""), t.pimURL())
		}
	}
	if t.eligibleUnread != "" {
		return fmt.Sprintf("%s (%s: if you are eligible for one of these roles, activate it in PIM (%s) and run again)", t.has(), t.eligibleUnread, t.pimURL())
	}
	return t.has()
}

func (t *Tenant) pimURL() string {
	c := t.cloud
	if c.Portal == "" {
		c = cloud.Global
	}
	return c.PIMActivationURL()
}

// roleName names a directory role by its template id.
func roleName(templateID, displayName string) string {
	if cr, ok := catalog.RoleByTemplateID(templateID); ok {
		return cr.Name
	}
	if displayName != "" {
		return displayName
	}
	return "a custom directory role"
}

func tenantWideScope(directoryScopeID string) bool {
	return directoryScopeID == "/" || directoryScopeID == ""
}

func appOnlyHint(t *Tenant, perm string) string {
	if t.Identity.AppOnly {
		return " (or, for an app, the " + perm + " application permission)"
	}
	return ""
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, ", ")
}

// UsageError is a problem with the user's input discovered against the
// tenant (e.g. an unverified domain, an ambiguous app name): nothing was changed.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ForbiddenError means the identity may not do what the plan needs at all
// (it cannot create or change the app): nothing was changed. Msg says so
// in words; Err is Graph's refusal, when there was one.
type ForbiddenError struct {
	Msg string
	Err error
}

func (e *ForbiddenError) Error() string { return e.Msg }

func (e *ForbiddenError) Unwrap() error { return e.Err }

// Preflight reads everything a plan needs before anything changes: in one
// round of concurrent requests the tenant, the identity's roles, the app
// (by --app-id, or by its entra-link tags) and the resource APIs; then,
// for an existing app, its service principal and what that holds. A fresh
// setup costs one round trip.
func Preflight(ctx context.Context, env *Env, s *profile.Spec) (*Tenant, error) {
	id, err := env.Graph.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	env.emit(Event{Action: "preflight", Target: "tenant, your roles, existing app", Status: StatusRunning})
	r := firstReads(ctx, env, s, id)
	if late := r.t.activatedLaterNeeded(); len(late) > 0 {
		// A role activated in PIM since the sign-in counts only in a new
		// token: get one (no interaction where the sign-in can be
		// renewed), and read again what the old token decided.
		id2, err := env.Graph.RenewToken(ctx)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			r.t.renewFailed = "your sign-in could not be renewed here"
		default:
			r2 := firstReads(ctx, env, s, id2)
			if still := r2.t.activatedLaterNeeded(); len(still) < len(late) {
				r = r2
				r.t.Warnings = append(r.t.Warnings, fmt.Sprintf("%s was activated after you signed in: entra-link got a new token that carries it", roleNames(late)))
			}
		}
	}
	t, tagged, named, spByAppID := r.t, r.tagged, r.named, r.spByAppID
	if err := readErrors(t, r.errs); err != nil {
		return nil, err
	}

	if s.AppID == "" {
		var mine []graph.Application
		for _, a := range tagged {
			if strings.EqualFold(a.DisplayName, s.DisplayName) {
				mine = append(mine, a)
			}
		}
		switch len(mine) {
		case 0:
		case 1:
			t.App = &mine[0]
		default:
			ids := make([]string, 0, len(mine))
			for _, a := range mine {
				ids = append(ids, a.AppID)
			}
			return nil, &UsageError{Msg: fmt.Sprintf("%d apps named %q were made by entra-link for profile %s (%s); say which one with --app-id (nothing was changed)",
				len(mine), s.DisplayName, s.Profile.ID, strings.Join(ids, ", "))}
		}
		for _, a := range named {
			if !slices.Contains(a.Tags, profile.Tag) {
				t.Lookalikes = append(t.Lookalikes, a)
			}
		}
	}

	if t.App != nil {
		// The app's service principal and what it holds, and the resource
		// APIs it requests (to name its permissions in words).
		var l2 lookups
		var more []string
		for _, rra := range t.App.RequiredResourceAccess {
			more = append(more, rra.ResourceAppID)
		}
		r.readResources(&l2, more)
		l2.do(func() {
			pr := t.Policy
			readAppPolicy(ctx, env.Graph, &pr, t.App)
			l2.mu.Lock()
			t.Policy = pr
			l2.mu.Unlock()
		})
		if len(s.Owners) > 0 {
			l2.do(func() {
				owners, err := env.Graph.ApplicationOwners(ctx, t.App.ID)
				l2.mu.Lock()
				defer l2.mu.Unlock()
				if err != nil {
					t.ownersUnread = "the app's owners could not be read (" + briefly(err) + ")"
					return
				}
				t.AppOwners = owners
			})
		}
		st, err := readAppState(ctx, env.Graph, t.App.AppID, spByAppID)
		if err := readErrors(t, append(l2.wait(), errOrNil(err)...)); err != nil {
			return nil, err
		}
		t.AppState = *st
		t.Interrupted = env.interrupted(t.Org.ID, t.App.ID, &t.Warnings)
	}

	t.Can = capabilities(t.Identity, t.roleIDs)
	if !t.Can.CreateApps {
		what := "create or change app registrations"
		need := "Application Administrator, Cloud Application Administrator or Global Administrator, signed in with the Application.ReadWrite.All scope"
		if t.Identity.AppOnly {
			need = "the Application.ReadWrite.All application permission"
		}
		return nil, &ForbiddenError{Msg: fmt.Sprintf("the signed-in identity cannot %s: that needs %s; %s. Nothing was changed.", what, need, t.lacks(roleCloudAppAdmin, roleAppAdmin, roleGlobalAdmin))}
	}
	env.emit(Event{Action: "preflight", Target: fmt.Sprintf("signed in as %s to %s", identityLabel(t.Identity), tenantLabel(t.Org)), Status: "done"})
	return t, nil
}

// interrupted reads the journal's records of ended runs for this app.
func (e *Env) interrupted(tenantID, appObjectID string, warnings *[]string) []*journal.Record {
	if e.Journal == nil {
		return nil
	}
	recs, err := e.Journal.Interrupted(tenantID, appObjectID)
	if err != nil {
		*warnings = append(*warnings, fmt.Sprintf("entra-link could not read all of its journal in %s (%v); a secret an interrupted run left behind may not be recognised", e.Journal.Dir(), err))
	}
	return recs
}

func errOrNil(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
}

// setRoles records the identity's directory roles as MyDirectoryRoles
// read them; when they could not be read, the roles its token names
// (wids) stand in, and rolesUnread says why the rest is not known.
func (t *Tenant) setRoles(roles []graph.DirectoryRole, err error) {
	id := t.Identity
	if err != nil {
		// Not knowing the roles must not block a run the token allows.
		t.rolesUnread = "reading them needs RoleManagement.Read.Directory"
		if !graph.IsForbidden(err) {
			t.rolesUnread = briefly(err)
		}
		roles = nil
		for _, w := range id.RoleIDs {
			if _, builtin := catalog.RoleByTemplateID(w); builtin {
				roles = append(roles, graph.DirectoryRole{ID: w, RoleTemplateID: w})
			}
		}
	}
	for _, r := range roles {
		if _, builtin := catalog.RoleByTemplateID(r.RoleTemplateID); builtin && !id.AppOnly && len(id.RoleIDs) > 0 && !hasAny(id.RoleIDs, r.RoleTemplateID) {
			// Active in the directory, not in this token: Graph goes
			// by the token (endpoints.md §13) until the next sign-in.
			// (wids lists built-in roles only; custom ones stay.)
			t.activatedLater = append(t.activatedLater, r.RoleTemplateID)
			continue
		}
		t.roleIDs = append(t.roleIDs, r.RoleTemplateID)
		t.RoleNames = append(t.RoleNames, roleName(r.RoleTemplateID, r.DisplayName))
	}
}

// has says what the signed-in identity holds, in words. Roles that could
// not be read are said to be unknown, never to be none, with what follows:
// entra-link counts only what the token shows.
func (t *Tenant) has() string {
	perms := "no application permissions"
	if len(t.Identity.Roles) > 0 {
		perms = "the application permissions " + listOrNone(t.Identity.Roles)
	}
	if t.rolesUnread != "" {
		counted := "so a directory role it may hold is not counted"
		if len(t.RoleNames) > 0 {
			counted = "so only " + strings.Join(t.RoleNames, ", ") + ", which its token names, is counted"
		}
		if t.Identity.AppOnly {
			return fmt.Sprintf("the signed-in app has %s, and its directory roles could not be read (%s), %s", perms, t.rolesUnread, counted)
		}
		return fmt.Sprintf("your directory roles could not be read (%s), so only the roles your sign-in names are counted (%s)", t.rolesUnread, listOrNone(t.RoleNames))
	}
	roles := "no directory role"
	if len(t.RoleNames) > 0 {
		roles = strings.Join(t.RoleNames, ", ")
	}
	if t.Identity.AppOnly {
		return fmt.Sprintf("the signed-in app has %s and %s", roles, perms)
	}
	return "you have " + roles
}

// readErrors turns the errors of a round of reads into one: a usage
// problem as it is, reads the identity may not make as one sentence in
// words (never a stack of raw 403s), anything else joined.
func readErrors(t *Tenant, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		var ue *UsageError
		if errors.As(e, &ue) {
			return ue
		}
	}
	forbidden := 0
	for _, e := range errs {
		if graph.IsForbidden(e) {
			forbidden++
		}
	}
	if forbidden > 0 {
		return &ForbiddenError{Msg: t.cannotRead("setup must see before it changes anything", true)}
	}
	return errors.Join(errs...)
}

// readAppState reads, concurrently, the app's service principal (sp, when
// already being read, else looked up) and, once it is known, its app role
// assignments, delegated grants and directory role assignments. A read
// the identity may not make is recorded in Unread, not failed.
func readAppState(ctx context.Context, g graph.API, appID string, sp *future[*graph.ServicePrincipal]) (*AppState, error) {
	var principal *graph.ServicePrincipal
	var err error
	if sp != nil {
		principal, err = sp.get()
	} else {
		principal, err = lookupSP(ctx, g, appID)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up the app's service principal: %w", err)
	}
	return readHoldings(ctx, g, principal)
}

// readHoldings reads what principal holds (nothing when it is nil).
func readHoldings(ctx context.Context, g graph.API, principal *graph.ServicePrincipal) (*AppState, error) {
	st := &AppState{SP: principal, Unread: map[Kind]string{}}
	if principal == nil {
		return st, nil
	}
	var l lookups
	unread := func(k Kind) {
		l.mu.Lock()
		defer l.mu.Unlock()
		st.Unread[k] = unreadWords(k)
	}
	l.do(func() {
		a, err := g.AppRoleAssignments(ctx, principal.ID)
		switch {
		case graph.IsForbidden(err):
			unread(KindConsent)
		case err != nil:
			l.fail("reading the app's consented application permissions", err)
		default:
			l.mu.Lock()
			st.Assignments = a
			l.mu.Unlock()
		}
	})
	l.do(func() {
		gr, err := g.PermissionGrants(ctx, principal.ID)
		switch {
		case graph.IsForbidden(err):
			unread(KindGrant)
		case err != nil:
			l.fail("reading the app's delegated permission grants", err)
		default:
			l.mu.Lock()
			st.Grants = gr
			l.mu.Unlock()
		}
	})
	l.do(func() {
		ra, err := g.RoleAssignments(ctx, principal.ID)
		switch {
		case graph.IsForbidden(err):
			unread(KindRole)
		case err != nil:
			l.fail("reading the app's directory roles", err)
		default:
			l.mu.Lock()
			st.RoleAssignments = ra
			l.mu.Unlock()
		}
	})
	if errs := l.wait(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return st, nil
}

// unreadWords says, in words, that the app's holdings of kind k could not
// be read and what reading them needs.
func unreadWords(k Kind) string {
	w := map[Kind][2]string{
		KindConsent: {"admin consents", "Application.Read.All or AppRoleAssignment.ReadWrite.All"},
		KindGrant:   {"delegated permission grants", "DelegatedPermissionGrant.Read.All"},
		KindRole:    {"directory role assignments", "RoleManagement.Read.Directory"},
	}[k]
	return fmt.Sprintf("the signed-in identity may not read the app's %s (that needs %s)", w[0], w[1])
}

// verifiedHost reports whether host is a verified domain of org or a subdomain of one.
func verifiedHost(org graph.Organization, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range org.VerifiedDomains {
		n := strings.ToLower(d.Name)
		if host == n || strings.HasSuffix(host, "."+n) {
			return true
		}
	}
	return false
}

func tenantLabel(org graph.Organization) string {
	if d := org.InitialDomain(); d != "" {
		return fmt.Sprintf("%s (%s)", org.DisplayName, d)
	}
	return org.DisplayName
}

func identityLabel(id graph.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return id.ObjectID
}

func resourceName(appID string) string {
	if r := catalog.ResourceByAppID(appID); r != nil {
		return r.DisplayName
	}
	return appID
}

// preflightReads is the first round of preflight's reads: what the
// signed-in identity's token decides (its roles, what it may read).
type preflightReads struct {
	ctx           context.Context
	env           *Env
	t             *Tenant
	read          map[string]bool // resource APIs read or being read
	tagged, named []graph.Application
	spByAppID     *future[*graph.ServicePrincipal]
	errs          []error
}

// firstReads reads, in one round of concurrent requests, the tenant, the
// identity's roles, the policy, the owners, the resource APIs and the app
// (by --app-id, or by its entra-link tags and its name).
func firstReads(ctx context.Context, env *Env, s *profile.Spec, id graph.Identity) *preflightReads {
	t := &Tenant{Identity: id, Resources: map[string]graph.ServicePrincipal{}, cloud: env.Cloud}
	r := &preflightReads{ctx: ctx, env: env, t: t, read: map[string]bool{}}
	var l lookups
	l.do(func() {
		org, err := env.Graph.Organization(ctx)
		if graph.IsForbidden(err) {
			// Reading the tenant needs Organization.Read.All, which a
			// narrowly privileged app may lack: the token names the tenant.
			l.mu.Lock()
			t.Org = graph.Organization{ID: id.TenantID, DisplayName: "tenant " + id.TenantID}
			t.orgUnknown = true
			t.Warnings = append(t.Warnings, "the signed-in identity may not read the tenant's details (Organization.Read.All), so its name and verified domains are unknown")
			l.mu.Unlock()
			return
		}
		if err != nil {
			l.fail("reading the tenant (/organization)", err)
			return
		}
		l.mu.Lock()
		t.Org = org
		l.mu.Unlock()
	})
	l.do(func() {
		roles, err := env.Graph.MyDirectoryRoles(ctx, id)
		l.mu.Lock()
		defer l.mu.Unlock()
		t.setRoles(roles, err)
	})
	if !id.AppOnly {
		l.do(func() {
			el, err := env.Graph.MyEligibleRoles(ctx)
			l.mu.Lock()
			defer l.mu.Unlock()
			if err != nil {
				// No PIM licence, or no permission: not known, never fatal.
				t.eligibleUnread = "your PIM eligibility could not be read (" + briefly(err) + ")"
				return
			}
			for _, e := range el {
				if tenantWideScope(e.DirectoryScopeID) && !hasAny(t.eligibleIDs, e.RoleTemplateID) {
					t.eligibleIDs = append(t.eligibleIDs, e.RoleTemplateID)
					t.EligibleNames = append(t.EligibleNames, roleName(e.RoleTemplateID, ""))
				}
			}
		})
	}
	l.do(func() {
		pr := readDefaultPolicy(ctx, env.Graph, id)
		l.mu.Lock()
		t.Policy = pr
		l.mu.Unlock()
	})
	t.Owners = make([]Owner, len(s.Owners))
	for i, o := range s.Owners {
		l.do(func() {
			ow, err := resolveOwner(ctx, env.Graph, id, o)
			if err != nil {
				l.fail("--owner "+o, err)
				return
			}
			l.mu.Lock()
			t.Owners[i] = ow
			l.mu.Unlock()
		})
	}
	var specResources []string
	for _, p := range s.Permissions {
		specResources = append(specResources, p.ResourceAppID)
	}
	r.readResources(&l, specResources)
	if s.AppID != "" {
		r.spByAppID = goFuture(func() (*graph.ServicePrincipal, error) { return lookupSP(ctx, env.Graph, s.AppID) })
		l.do(func() {
			app, err := env.Graph.ApplicationByAppID(ctx, s.AppID)
			if err != nil {
				if graph.IsNotFound(err) {
					l.fail("--app-id", &UsageError{Msg: fmt.Sprintf("--app-id %s: no application with this application (client) ID exists in the tenant (nothing was changed)", s.AppID)})
					return
				}
				l.fail("looking up --app-id "+s.AppID, err)
				return
			}
			l.mu.Lock()
			t.App = &app
			l.mu.Unlock()
		})
	} else {
		l.do(func() {
			apps, err := env.Graph.ApplicationsByTag(ctx, profile.TagProfilePrefix+s.Profile.ID)
			if err != nil {
				l.fail("looking for the app entra-link made", err)
				return
			}
			l.mu.Lock()
			r.tagged = apps
			l.mu.Unlock()
		})
		l.do(func() {
			apps, err := env.Graph.ApplicationsByName(ctx, s.DisplayName)
			if err != nil {
				l.fail("looking for apps named "+s.DisplayName, err)
				return
			}
			l.mu.Lock()
			r.named = apps
			l.mu.Unlock()
		})
	}
	r.errs = l.wait()
	return r
}

// readResources reads the service principals of the resource APIs
// appIDs (each once) in l.
func (r *preflightReads) readResources(l *lookups, appIDs []string) {
	for _, appID := range appIDs {
		appID = strings.ToLower(appID)
		if r.read[appID] {
			continue
		}
		r.read[appID] = true
		l.do(func() {
			sp, err := lookupSP(r.ctx, r.env.Graph, appID)
			if err != nil {
				l.fail("looking up the "+resourceName(appID)+" service principal", err)
				return
			}
			if sp != nil {
				l.mu.Lock()
				r.t.Resources[appID] = *sp
				l.mu.Unlock()
			}
		})
	}
}

// activatedLaterNeeded are the roles activated after the token was issued
// that would let the identity do more than the token does.
func (t *Tenant) activatedLaterNeeded() []string {
	if len(t.activatedLater) == 0 {
		return nil
	}
	now := capabilities(t.Identity, t.roleIDs)
	var out []string
	for _, r := range t.activatedLater {
		if capabilities(t.Identity, append(slices.Clip(t.roleIDs), r)) != now {
			out = append(out, r)
		}
	}
	return out
}

// roleNames names directory roles by their template ids, in words.
func roleNames(templateIDs []string) string {
	names := make([]string, len(templateIDs))
	for i, id := range templateIDs {
		names[i] = roleName(id, "")
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
