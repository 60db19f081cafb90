package setup

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/output"
)

const (
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
	// What the service principal holds. Deleting the service principal
	// takes all of it along (to the recycle bin, where restoring the
	// service principal brings it back); it is read so that the preview
	// and the result can name it.
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
	// RestoreServicePrincipalRequest restores the service principal, with
	// the consents, grants and directory roles it held, once the app is back.
	RestoreServicePrincipalRequest string `json:"restoreServicePrincipalRequest,omitempty"`
	AfterRestore                   string `json:"afterRestore"`
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
	DryRun     bool   `json:"dryRun,omitempty"`
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
	// Plan is the plan of a dry run.
	Plan       []output.Step `json:"plan,omitempty"`
	RecycleBin *RecycleBin   `json:"recycleBin,omitempty"`
	Warnings   []string      `json:"warnings,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// PrepareDeletion finds the app and everything that goes with it; it
// changes nothing. An app is found by --name only among the apps
// entra-link made, so a foreign app can be deleted only by --app-id.
//
// Two round trips: the app with its service principal and the tenant
// (--app-id: the service principal by appId; --name: among the service
// principals carrying the name, which in its home tenant an app's service
// principal does), then what the service principal holds and the resource
// APIs that name it. (A service principal renamed apart from its app
// costs one more.)
func PrepareDeletion(ctx context.Context, env *Env, req DeleteRequest) (*Deletion, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	var named *future[[]graph.ServicePrincipal]
	if name := strings.TrimSpace(req.Name); req.AppID == "" && name != "" {
		named = goFuture(func() ([]graph.ServicePrincipal, error) { return env.Graph.ServicePrincipalsByName(ctx, name) })
	}
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	if id, err := env.Graph.WhoAmI(ctx); err == nil && id.AppOnly && strings.EqualFold(id.ClientAppID, found.App.AppID) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is the app entra-link is signed in as; it cannot delete itself (nothing was changed)", found.Label())}
	}
	if named != nil {
		// A failed read by name only costs the lookup by appId.
		if cands, err := named.get(); err == nil {
			for _, sp := range cands {
				if strings.EqualFold(sp.AppID, found.App.AppID) {
					pre.knownSP(found.App.AppID, sp)
				}
			}
		}
	}
	t, err := readTenantFor(ctx, env, found.App, nil, pre)
	if err != nil {
		return nil, err
	}
	for _, k := range []Kind{KindConsent, KindGrant, KindRole} {
		if u := t.Unread[k]; u != "" {
			return nil, &ForbiddenError{Msg: u + "; delete removes what the app holds before the app itself, so it must see it. Nothing was changed."}
		}
	}
	d := &Deletion{Found: found, Org: t.Org, SP: t.SP, Assignments: t.Assignments, Grants: t.Grants, RoleAssignments: t.RoleAssignments,
		req: req, names: map[string]string{}}
	if !found.Tagged {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s was not made by entra-link (it carries no entra-link tags); it is deleted because --app-id names it", found.Label()))
	}
	b := &planner{p: &Plan{}, t: t}
	for _, a := range d.Assignments {
		resAppID, resName := b.resourceByObjectID(a.ResourceID)
		d.names[a.ID] = b.appRoleName(resAppID, resName, a.AppRoleID)
	}
	for _, g := range d.Grants {
		_, res := b.resourceByObjectID(g.ResourceID)
		who := "all users"
		if g.ConsentType != "AllPrincipals" {
			who = "one user"
		}
		d.names[g.ID] = fmt.Sprintf("%s · %s (for %s)", res, g.Scope, who)
	}
	for _, r := range d.RoleAssignments {
		d.names[r.ID] = roleWords(r)
	}
	return d, nil
}

// Plan is what the delete does: the service principal, carrying with it
// the consents, grants and directory roles it holds (steps PartOf "sp"),
// then the app. Both go in one request (a $batch in which the app's
// delete depends on the service principal's), so the app is never deleted
// while its service principal stays.
func (d *Deletion) Plan() *Plan {
	app := d.Found.App
	p := &Plan{Title: "Delete " + app.DisplayName, Product: app.DisplayName}
	round := 1
	var appAfter []string
	if d.SP != nil {
		sp := &Step{ID: "sp", Kind: KindServicePrincipal, Action: ActRemove, Round: 1,
			Target: fmt.Sprintf("enterprise application (service principal) of %q", app.DisplayName),
			Detail: "to the recycle bin, with " + d.heldWords()}
		p.Steps = append(p.Steps, sp)
		var held []*Step
		part := func(id string, kind Kind, target string) {
			held = append(held, &Step{ID: id, Kind: kind, Action: ActRemove, Round: 1, Target: target, PartOf: "sp",
				Detail: "with the service principal"})
		}
		for _, a := range d.Assignments {
			part("consent/"+a.ID, KindConsent, "admin consent "+d.names[a.ID])
		}
		for _, g := range d.Grants {
			part("grant/"+g.ID, KindGrant, "delegated consent "+d.names[g.ID])
		}
		for _, r := range d.RoleAssignments {
			part("role/"+r.ID, KindRole, "directory role "+d.names[r.ID])
		}
		sort.SliceStable(held, func(i, j int) bool {
			if held[i].Kind != held[j].Kind {
				return false
			}
			return held[i].Target < held[j].Target
		})
		p.Steps = append(p.Steps, held...)
		appAfter = []string{"sp"}
		round = 2
	}
	p.Steps = append(p.Steps, &Step{ID: "app", Kind: KindApp, Action: ActRemove, Round: round, After: appAfter,
		Target: fmt.Sprintf("app registration %q (client ID %s)", app.DisplayName, app.AppID),
		Detail: fmt.Sprintf("to the recycle bin (restorable for %d days); its %d client secret(s) and %d certificate(s) stop working at once",
			recycleBinDays, len(app.PasswordCredentials), len(app.KeyCredentials))})
	p.rounds = round
	return p
}

// heldWords counts what the service principal holds, in words.
func (d *Deletion) heldWords() string {
	return fmt.Sprintf("its %s, %s and %s",
		plural(len(d.Assignments), "admin consent"), plural(len(d.Grants), "delegated grant"), plural(len(d.RoleAssignments), "directory role"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// DryRunResult is what delete --dry-run reports: the plan, nothing changed.
func (d *Deletion) DryRunResult(c cloud.Cloud) *DeleteResult {
	app := d.Found.App
	res := &DeleteResult{
		DryRun: true, Sandbox: d.req.Sandbox, Cloud: c.Name, TenantID: d.Org.ID, TenantName: d.Org.DisplayName,
		App:     AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
		Profile: d.Found.ProfileID, CreatedByEntraLink: d.Found.Tagged, Steps: []output.Step{}, Plan: d.Plan().Output(),
		Warnings: append([]string(nil), d.Warnings...),
	}
	if d.SP != nil {
		res.App.ServicePrincipalID = d.SP.ID
	}
	return res
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

// Apply carries out the delete's plan in one round trip: the service
// principal (with what it holds) and then the app, in one $batch. If the
// service principal cannot be deleted, Graph does not delete the app
// either, and the result says so.
func (d *Deletion) Apply(ctx context.Context, env *Env) (*DeleteResult, error) {
	app := d.Found.App
	plan := d.Plan()
	res := &DeleteResult{
		Sandbox: d.req.Sandbox, Cloud: env.Cloud.Name, TenantID: d.Org.ID, TenantName: d.Org.DisplayName,
		App:     AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
		Profile: d.Found.ProfileID, CreatedByEntraLink: d.Found.Tagged, Steps: []output.Step{},
		Warnings: append([]string(nil), d.Warnings...),
	}
	spID := ""
	if d.SP != nil {
		res.App.ServicePrincipalID = d.SP.ID
		spID = d.SP.ID
	}
	for _, s := range plan.Steps {
		if s.PartOf == "" {
			env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
		}
	}
	spErr, appErr := env.Graph.DeleteServicePrincipalAndApplication(ctx, spID, app.ID)
	gone := func(err error) bool { return err == nil || graph.IsNotFound(err) }
	status := map[string][2]string{}
	var failed []error
	outcome := func(id string, err error) {
		s := plan.Step(id)
		switch {
		case gone(err):
			status[id] = [2]string{output.StepDone, ""}
		case ctx.Err() != nil:
			status[id] = [2]string{output.StepInterrupted, "the run was stopped while this step was in flight"}
		case id == "app" && graph.StatusOf(err) == http.StatusFailedDependency:
			status[id] = [2]string{output.StepNotRun, "the service principal was not deleted, so the app was kept"}
		default:
			status[id] = [2]string{output.StepFailed, err.Error()}
			failed = append(failed, fmt.Errorf("removing %s: %w", s.Target, err))
		}
		env.emit(Event{ID: id, Action: string(s.Action), Target: s.Target, Status: status[id][0], Detail: status[id][1]})
	}
	if d.SP != nil {
		outcome("sp", spErr)
	}
	outcome("app", appErr)

	res.Steps = plan.Output()
	for i, s := range plan.Steps {
		id := s.ID
		if s.PartOf != "" {
			id = s.PartOf
		}
		st := status[id]
		res.Steps[i].Status, res.Steps[i].Outcome = st[0], st[1]
		if s.PartOf != "" && st[0] == output.StepDone {
			res.Steps[i].Outcome = "with the service principal"
		}
	}
	if d.SP == nil || gone(spErr) {
		res.Removed.AppRoleAssignments = len(d.Assignments)
		res.Removed.PermissionGrants = len(d.Grants)
		res.Removed.RoleAssignments = len(d.RoleAssignments)
	}
	if !gone(appErr) {
		what := fmt.Sprintf("The app %q and its service principal were not deleted. Run the same command again (signed in as a Global Administrator, Application Administrator or Cloud Application Administrator if access was denied).", app.DisplayName)
		if d.SP != nil && gone(spErr) {
			what = fmt.Sprintf("The service principal was deleted, with the consents and directory roles it held, but the app %q was not; run the same command again.", app.DisplayName)
		}
		if ctx.Err() != nil {
			res.Error = "interrupted: " + what
			return res, ctx.Err()
		}
		se := &StepsError{Failed: failed}
		res.Error = se.Error() + ". " + what
		return res, se
	}
	res.Deleted = true
	res.Removed.Secrets = len(app.PasswordCredentials)
	res.Removed.Certificates = len(app.KeyCredentials)
	graphBase := strings.TrimRight(env.Cloud.GraphEndpoint, "/")
	res.RecycleBin = &RecycleBin{
		RetentionDays:  recycleBinDays,
		Portal:         deletedAppsPortal + " > " + app.DisplayName + " > Restore app registration",
		RestoreRequest: fmt.Sprintf(restoreRequestTmpl, graphBase, app.ID),
	}
	setupAgain := "entra-link setup again (with --app-id " + app.AppID + ")"
	if d.Found.ProfileID != "" {
		setupAgain = env.Command("setup", "--profile", d.Found.ProfileID, "--app-id", app.AppID)
	}
	if d.SP != nil {
		res.RecycleBin.RestoreServicePrincipalRequest = fmt.Sprintf(restoreRequestTmpl, graphBase, d.SP.ID)
		res.RecycleBin.AfterRestore = "restoring the app registration does not restore its service principal: restore that too, after the app, and it comes back with its consents and directory roles (or run " + setupAgain + ", which recreates them)"
	} else {
		res.RecycleBin.AfterRestore = "restoring brings back the app registration; it had no service principal (run " + setupAgain + " to create one with its consents and directory roles)"
	}
	return res, nil
}
