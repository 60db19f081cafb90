package setup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/crash"
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
func PrepareDeletion(ctx context.Context, env *Env, req DeleteRequest) (*Deletion, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	if id, err := env.Graph.WhoAmI(ctx); err == nil && id.AppOnly && strings.EqualFold(id.ClientAppID, found.App.AppID) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is the app entra-link is signed in as; it cannot delete itself (nothing was changed)", found.Label())}
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

// Plan is what the delete does, step by step: consents, grants and
// directory roles (round 1), the service principal (round 2), the app
// (round 3).
func (d *Deletion) Plan() *Plan {
	app := d.Found.App
	p := &Plan{Title: "Delete " + app.DisplayName, Product: app.DisplayName}
	add := func(id string, kind Kind, round int, target string, after ...string) {
		p.Steps = append(p.Steps, &Step{ID: id, Kind: kind, Action: ActRemove, Round: round, Target: target, After: after})
	}
	var first []string
	for _, a := range d.Assignments {
		add("consent/"+a.ID, KindConsent, 1, "admin consent "+d.names[a.ID])
		first = append(first, "consent/"+a.ID)
	}
	for _, g := range d.Grants {
		add("grant/"+g.ID, KindGrant, 1, "delegated consent "+d.names[g.ID])
		first = append(first, "grant/"+g.ID)
	}
	for _, r := range d.RoleAssignments {
		add("role/"+r.ID, KindRole, 1, "directory role "+d.names[r.ID])
		first = append(first, "role/"+r.ID)
	}
	sort.SliceStable(p.Steps, func(i, j int) bool {
		if p.Steps[i].Kind != p.Steps[j].Kind {
			return false
		}
		return p.Steps[i].Target < p.Steps[j].Target
	})
	round := 1
	if len(first) > 0 {
		round = 2
	}
	appAfter := first
	if d.SP != nil {
		add("sp", KindServicePrincipal, round, fmt.Sprintf("enterprise application (service principal) of %q", app.DisplayName), first...)
		appAfter = []string{"sp"}
		round++
	}
	add("app", KindApp, round, fmt.Sprintf("app registration %q (client ID %s)", app.DisplayName, app.AppID), appAfter...)
	last := p.Step("app")
	last.Detail = fmt.Sprintf("to the recycle bin (restorable for %d days); its %d client secret(s) and %d certificate(s) stop working at once",
		recycleBinDays, len(app.PasswordCredentials), len(app.KeyCredentials))
	p.rounds = round
	return p
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

// Apply carries out the delete's plan, round by round: the service
// principal's consents, grants and directory roles (concurrently), then the
// service principal, then the app. It stops after the first round that
// fails, so the app is never deleted while something it held is left
// behind unreported.
func (d *Deletion) Apply(ctx context.Context, env *Env) (*DeleteResult, error) {
	app := d.Found.App
	plan := d.Plan()
	res := &DeleteResult{
		Sandbox: d.req.Sandbox, Cloud: env.Cloud.Name, TenantID: d.Org.ID, TenantName: d.Org.DisplayName,
		App:     AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
		Profile: d.Found.ProfileID, CreatedByEntraLink: d.Found.Tagged, Steps: []output.Step{},
		Warnings: append([]string(nil), d.Warnings...),
	}
	if d.SP != nil {
		res.App.ServicePrincipalID = d.SP.ID
	}
	type action struct {
		do      func(context.Context) error
		counter *int
	}
	actions := map[string]action{}
	for _, a := range d.Assignments {
		actions["consent/"+a.ID] = action{func(ctx context.Context) error { return env.Graph.DeleteAppRoleAssignment(ctx, a.ResourceID, a.ID) }, &res.Removed.AppRoleAssignments}
	}
	for _, g := range d.Grants {
		actions["grant/"+g.ID] = action{func(ctx context.Context) error { return env.Graph.DeletePermissionGrant(ctx, g.ID) }, &res.Removed.PermissionGrants}
	}
	for _, r := range d.RoleAssignments {
		actions["role/"+r.ID] = action{func(ctx context.Context) error { return env.Graph.DeleteRoleAssignment(ctx, r.ID) }, &res.Removed.RoleAssignments}
	}
	if d.SP != nil {
		actions["sp"] = action{func(ctx context.Context) error { return env.Graph.DeleteServicePrincipal(ctx, d.SP.ID) }, nil}
	}
	actions["app"] = action{func(ctx context.Context) error { return env.Graph.DeleteApplication(ctx, app.ID) }, nil}

	var mu sync.Mutex
	var failed []error
	status := map[string][2]string{}
	set := func(s *Step, st, outcome string) {
		mu.Lock()
		status[s.ID] = [2]string{st, outcome}
		mu.Unlock()
		env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: st, Detail: outcome})
	}
	stoppedAt := 0
	for round := 1; round <= plan.rounds; round++ {
		if ctx.Err() != nil {
			stoppedAt = round
			break
		}
		var g crash.Group // errgroup would let a panic end the process before the secret is delivered
		for _, s := range plan.Steps {
			if s.Round != round {
				continue
			}
			g.Go(func() {
				a := actions[s.ID]
				env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
				err := a.do(ctx)
				switch {
				case err == nil || graph.IsNotFound(err):
					// Gone already (a retried request, or someone else) is as good.
					mu.Lock()
					if a.counter != nil {
						*a.counter++
					}
					mu.Unlock()
					set(s, output.StepDone, "")
				case ctx.Err() != nil:
					set(s, output.StepInterrupted, "the run was stopped while this step was in flight")
				default:
					set(s, output.StepFailed, err.Error())
					mu.Lock()
					failed = append(failed, fmt.Errorf("removing %s: %w", s.Target, err))
					mu.Unlock()
				}
			})
		}
		g.Wait()
		if len(failed) > 0 || ctx.Err() != nil {
			stoppedAt = round
			break
		}
	}
	res.Steps = plan.Output()
	for i, s := range plan.Steps {
		if st, ok := status[s.ID]; ok {
			res.Steps[i].Status, res.Steps[i].Outcome = st[0], st[1]
		} else {
			res.Steps[i].Status = output.StepNotRun
		}
	}
	if stoppedAt > 0 {
		what := fmt.Sprintf("The app %q and its service principal were not deleted; the steps marked done were. Run the same command again (signed in as a Global Administrator or Privileged Role Administrator if access was denied).", app.DisplayName)
		switch plan.Step(stoppedStep(plan, stoppedAt)).Kind {
		case KindServicePrincipal:
			what = fmt.Sprintf("The app %q was not deleted; run the same command again.", app.DisplayName)
		case KindApp:
			what = fmt.Sprintf("The service principal was deleted but the app %q was not; run the same command again.", app.DisplayName)
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
	return res, nil
}

// stoppedStep is a step of the round where the delete stopped.
func stoppedStep(p *Plan, round int) string {
	for _, s := range p.Steps {
		if s.Round == round {
			return s.ID
		}
	}
	return "app"
}
