package setup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/output"
)

// Step actions of delete.
const (
	ActRemoveAppRole   = "remove-admin-consent"
	ActRemoveGrant     = "remove-delegated-consent"
	ActRemoveRole      = "remove-directory-role"
	ActDeleteSP        = "delete-service-principal"
	ActDeleteApp       = "delete-app"
	recycleBinDays     = 30
	deletedAppsPortal  = "Entra admin center > Identity > Applications > App registrations > Deleted applications"
	restoreRequestTmpl = "POST %s/v1.0/directory/deletedItems/%s/restore"
)

// DeleteRequest is what delete was asked to remove.
type DeleteRequest struct {
	Selector
	Sandbox bool
}

// Deletion is a planned delete: what exists, nothing changed yet.
type Deletion struct {
	Found *FoundApp
	Org   graph.Organization
	SP    *graph.ServicePrincipal
	// What the service principal holds; removed explicitly before it is
	// deleted, so that no consent or directory role outlives the app
	// whatever Entra does with a deleted principal's assignments.
	Assignments     []graph.AppRoleAssignment
	Grants          []graph.PermissionGrant
	RoleAssignments []graph.RoleAssignment
	Warnings        []string

	req   DeleteRequest
	names map[string]string // assignment/grant/role assignment id → words
}

// RecycleBin says how to undo a delete.
type RecycleBin struct {
	RetentionDays  int    `json:"retentionDays"`
	Portal         string `json:"portal"`
	RestoreRequest string `json:"restoreRequest"`
	AfterRestore   string `json:"afterRestore"`
}

// Removed counts what a delete removed.
type Removed struct {
	AppRoleAssignments int `json:"appRoleAssignments"`
	PermissionGrants   int `json:"permissionGrants"`
	RoleAssignments    int `json:"roleAssignments"`
	Secrets            int `json:"secrets"`
	Certificates       int `json:"certificates"`
}

// DeleteResult is delete's outcome: JSON as is, text through the CLI.
type DeleteResult struct {
	Sandbox    bool   `json:"sandbox,omitempty"`
	Deleted    bool   `json:"deleted"`
	Cloud      string `json:"cloud"`
	TenantID   string `json:"tenantId,omitempty"`
	TenantName string `json:"tenantName,omitempty"`
	App        AppRef `json:"app"`
	Profile    string `json:"profile"`
	// CreatedByEntraLink is false for an app named by --app-id that
	// entra-link did not create.
	CreatedByEntraLink bool          `json:"createdByEntraLink"`
	Removed            Removed       `json:"removed"`
	Steps              []output.Step `json:"steps"`
	RecycleBin         *RecycleBin   `json:"recycleBin,omitempty"`
	Warnings           []string      `json:"warnings,omitempty"`
	Error              string        `json:"error,omitempty"`
}

// PrepareDeletion finds the app and everything that goes with it; it
// changes nothing. An app is found by --name only among the apps
// entra-link made, so a foreign app can be deleted only by --app-id.
func PrepareDeletion(ctx context.Context, env *Env, req DeleteRequest) (*Deletion, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	if id, err := env.Graph.WhoAmI(ctx); err == nil && id.AppOnly && strings.EqualFold(id.ClientAppID, found.App.AppID) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is the app entra-link is signed in as; it cannot delete itself (nothing was changed)", found.Label())}
	}
	st, err := readTenantState(ctx, env, found.App, nil, pre)
	if err != nil {
		return nil, err
	}
	d := &Deletion{Found: found, Org: st.org, SP: st.sp, Assignments: st.assignments, Grants: st.grants, RoleAssignments: st.roleAssigns,
		req: req, names: map[string]string{}}
	if !found.Tagged {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s was not made by entra-link (it carries no entra-link tags); it is deleted because --app-id names it", found.Label()))
	}
	byObjectID := map[string]string{}
	for appID, sp := range st.resources {
		byObjectID[strings.ToLower(sp.ID)] = appID
	}
	v := &verifier{st: st}
	for _, a := range d.Assignments {
		name := "app role " + a.AppRoleID
		if appID, ok := byObjectID[strings.ToLower(a.ResourceID)]; ok {
			name = strings.Replace(v.permissionName(appID, "Role", a.AppRoleID), " · application · ", " · ", 1)
		}
		d.names[a.ID] = name
	}
	for _, g := range d.Grants {
		res := "resource " + g.ResourceID
		if appID, ok := byObjectID[strings.ToLower(g.ResourceID)]; ok {
			res = resourceName(appID)
		}
		who := "all users"
		if g.ConsentType != "AllPrincipals" {
			who = "user " + g.PrincipalID
		}
		d.names[g.ID] = fmt.Sprintf("%s · %s (for %s)", res, g.Scope, who)
	}
	for _, r := range d.RoleAssignments {
		d.names[r.ID] = roleName(r)
	}
	return d, nil
}

func roleName(r graph.RoleAssignment) string {
	name := r.RoleDefinitionID
	if cr, ok := catalog.RoleByTemplateID(r.RoleDefinitionID); ok {
		name = cr.Name
	}
	if r.DirectoryScopeID != "" && r.DirectoryScopeID != "/" {
		name += " (scope " + r.DirectoryScopeID + ")"
	}
	return name
}

func (d *Deletion) sortedNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.names[id])
	}
	sort.Strings(out)
	return out
}

// Summary lists what will be deleted, for the confirmation prompt.
func (d *Deletion) Summary() []string {
	app := d.Found.App
	about := []string{"client ID " + app.AppID}
	if d.Found.ProfileID != "" {
		about = append(about, "profile "+d.Found.ProfileID)
	}
	if !app.CreatedDateTime.IsZero() {
		about = append(about, "created "+app.CreatedDateTime.UTC().Format("2006-01-02"))
	}
	lines := []string{fmt.Sprintf("app registration %q (%s)", app.DisplayName, strings.Join(about, ", "))}
	if d.SP != nil {
		lines = append(lines, "its service principal (enterprise application) "+d.SP.ID)
	} else {
		lines = append(lines, "(it has no service principal)")
	}
	var ids []string
	for _, a := range d.Assignments {
		ids = append(ids, a.ID)
	}
	lines = append(lines, countLine(len(d.Assignments), "application permission consent", d.sortedNames(ids)))
	ids = ids[:0]
	for _, g := range d.Grants {
		ids = append(ids, g.ID)
	}
	lines = append(lines, countLine(len(d.Grants), "delegated permission grant", d.sortedNames(ids)))
	ids = ids[:0]
	for _, r := range d.RoleAssignments {
		ids = append(ids, r.ID)
	}
	lines = append(lines, countLine(len(d.RoleAssignments), "directory role assignment", d.sortedNames(ids)))
	lines = append(lines, fmt.Sprintf("%d client secret(s) and %d certificate(s) of the app, which stop working at once",
		len(app.PasswordCredentials), len(app.KeyCredentials)))
	return lines
}

func countLine(n int, what string, names []string) string {
	s := fmt.Sprintf("%d %s", n, what)
	if n != 1 {
		s += "s"
	}
	if len(names) > 0 {
		s += ": " + strings.Join(names, ", ")
	}
	return s
}

// Apply deletes, in three rounds: the service principal's consents, grants
// and directory roles (concurrently), then the service principal, then
// the app. It stops at the first round that fails, so the app is never
// deleted while something it held is left behind unreported.
func (d *Deletion) Apply(ctx context.Context, env *Env) (*DeleteResult, error) {
	app := d.Found.App
	res := &DeleteResult{
		Sandbox: d.req.Sandbox, Cloud: env.Cloud.Name, TenantID: d.Org.ID, TenantName: d.Org.DisplayName,
		App:     AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
		Profile: d.Found.ProfileID, CreatedByEntraLink: d.Found.Tagged, Steps: []output.Step{},
		Warnings: append([]string(nil), d.Warnings...),
	}
	if d.SP != nil {
		res.App.ServicePrincipalID = d.SP.ID
	}
	var mu sync.Mutex
	var failed []error
	step := func(action, target, status, detail string) {
		mu.Lock()
		res.Steps = append(res.Steps, output.Step{Action: action, Target: target, Status: status, Detail: detail})
		mu.Unlock()
		env.emit(Event{Action: action, Target: target, Status: status, Detail: detail})
	}
	do := func(action, target string, counter *int, fn func() error) {
		env.emit(Event{Action: action, Target: target, Status: StatusRunning})
		err := fn()
		switch {
		case err == nil || graph.IsNotFound(err):
			// Gone already (a retried request, or someone else) is as good.
			mu.Lock()
			if counter != nil {
				*counter++
			}
			mu.Unlock()
			step(action, target, output.StepDone, "")
		default:
			step(action, target, output.StepFailed, err.Error())
			mu.Lock()
			failed = append(failed, fmt.Errorf("%s %s: %w", action, target, err))
			mu.Unlock()
		}
	}
	stop := func(what string) (*DeleteResult, error) {
		sortDeleteSteps(res.Steps)
		if ctx.Err() != nil {
			res.Error = "interrupted: " + what
			return res, ctx.Err()
		}
		se := &StepsError{Failed: failed}
		res.Error = se.Error() + ". " + what
		return res, se
	}

	// Round 1: consents, grants and directory roles.
	var wg crash.Group
	run := func(action, target string, counter *int, fn func(context.Context) error) {
		wg.Go(func() {
			if ctx.Err() != nil {
				step(action, target, output.StepNotRun, "")
				return
			}
			do(action, target, counter, func() error { return fn(ctx) })
		})
	}
	for _, a := range d.Assignments {
		run(ActRemoveAppRole, d.names[a.ID], &res.Removed.AppRoleAssignments, func(ctx context.Context) error {
			return env.Graph.DeleteAppRoleAssignment(ctx, a.ResourceID, a.ID)
		})
	}
	for _, g := range d.Grants {
		run(ActRemoveGrant, d.names[g.ID], &res.Removed.PermissionGrants, func(ctx context.Context) error {
			return env.Graph.DeletePermissionGrant(ctx, g.ID)
		})
	}
	for _, r := range d.RoleAssignments {
		run(ActRemoveRole, d.names[r.ID], &res.Removed.RoleAssignments, func(ctx context.Context) error {
			return env.Graph.DeleteRoleAssignment(ctx, r.ID)
		})
	}
	wg.Wait()
	if len(failed) > 0 || ctx.Err() != nil {
		return stop(fmt.Sprintf("The app %q and its service principal were not deleted; the steps marked done were. Run the same command again (signed in as a Global Administrator or Privileged Role Administrator if access was denied).", app.DisplayName))
	}

	// Round 2: the service principal.
	if d.SP != nil {
		do(ActDeleteSP, d.SP.ID, nil, func() error { return env.Graph.DeleteServicePrincipal(ctx, d.SP.ID) })
		if len(failed) > 0 || ctx.Err() != nil {
			return stop(fmt.Sprintf("The app %q was not deleted; run the same command again.", app.DisplayName))
		}
	}

	// Round 3: the app (to the recycle bin).
	do(ActDeleteApp, fmt.Sprintf("%q (client ID %s)", app.DisplayName, app.AppID), nil, func() error {
		return env.Graph.DeleteApplication(ctx, app.ID)
	})
	if len(failed) > 0 {
		return stop(fmt.Sprintf("The service principal was deleted but the app %q was not; run the same command again.", app.DisplayName))
	}
	res.Deleted = true
	res.Removed.Secrets = len(app.PasswordCredentials)
	res.Removed.Certificates = len(app.KeyCredentials)
	after := "run entra-link setup for it again (with --app-id " + app.AppID + ") to recreate its service principal, consent and directory roles"
	if d.Found.ProfileID != "" {
		after = fmt.Sprintf("run entra-link setup --profile %s --app-id %s to recreate its service principal, consent and directory roles", d.Found.ProfileID, app.AppID)
	}
	res.RecycleBin = &RecycleBin{
		RetentionDays:  recycleBinDays,
		Portal:         deletedAppsPortal + " > " + app.DisplayName + " > Restore app registration",
		RestoreRequest: fmt.Sprintf(restoreRequestTmpl, strings.TrimRight(env.Cloud.GraphEndpoint, "/"), app.ID),
		AfterRestore:   "restoring brings back the app registration only: " + after,
	}
	sortDeleteSteps(res.Steps)
	return res, nil
}

var deleteRank = map[string]int{ActRemoveAppRole: 0, ActRemoveGrant: 1, ActRemoveRole: 2, ActDeleteSP: 3, ActDeleteApp: 4}

// sortDeleteSteps puts concurrent steps in a stable order.
func sortDeleteSteps(steps []output.Step) {
	sort.SliceStable(steps, func(i, j int) bool {
		ri, rj := deleteRank[steps[i].Action], deleteRank[steps[j].Action]
		if ri != rj {
			return ri < rj
		}
		return steps[i].Target < steps[j].Target
	})
}
