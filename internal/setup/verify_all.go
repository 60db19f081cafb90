package setup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/profile"
)

// VerifyAllRequest is verify --all: every app entra-link made, each checked
// against the profile recorded on it.
type VerifyAllRequest struct {
	// Profile, when set, is the profile for the apps that record its id: a
	// --profile-file profile, which is not built in.
	Profile *profile.Profile
	// ProfileFile is where Profile was read from, for fix commands.
	ProfileFile string
	// WarnDays flags credentials that expire within this many days.
	WarnDays int
	// FixArgs are appended to every fix command (tenant, cloud, sign-in).
	FixArgs []string
	Sandbox bool
}

// AppVerdict is one app of verify --all.
type AppVerdict struct {
	App      AppRef   `json:"app"`
	Profile  string   `json:"profile"`
	Product  string   `json:"product,omitempty"`
	Features []string `json:"features,omitempty"`
	Healthy  bool     `json:"healthy"`
	// Problems and Warnings are the checks that are not fine, each with the
	// command that fixes it.
	Problems []Check `json:"problems"`
	Warnings []Check `json:"warnings,omitempty"`
	// NearestExpiry is the credential to renew first (see AppSummary).
	NearestExpiry *CredentialExpiry `json:"nearestCredentialExpiry"`
	// Error says why the app could not be checked at all ("" if it was).
	Error string `json:"error,omitempty"`
}

// AllSummary counts what verify --all found.
type AllSummary struct {
	Apps         int `json:"apps"`
	Healthy      int `json:"healthy"`
	WithProblems int `json:"withProblems"`
	Problems     int `json:"problems"`
	// Expiring counts the apps with a credential problem: expired, or
	// expiring within --warn-days with nothing lasting longer.
	Expiring int `json:"expiring"`
	// Unchecked counts the apps that could not be read.
	Unchecked int `json:"unchecked"`
}

// AllReport is verify --all's outcome: JSON as is, text through the CLI.
type AllReport struct {
	Sandbox    bool         `json:"sandbox,omitempty"`
	Cloud      string       `json:"cloud"`
	TenantID   string       `json:"tenantId"`
	TenantName string       `json:"tenantName,omitempty"`
	WarnDays   int          `json:"warnDays"`
	Healthy    bool         `json:"healthy"`
	Apps       []AppVerdict `json:"apps"`
	Summary    AllSummary   `json:"summary"`
}

// VerifyAll is verify for every app entra-link tagged in the tenant: the
// same read-only plan per app (Evaluate), with the per-app reads batched so
// that the run costs the same three round trips whatever the number of
// apps (beyond paging): the apps and the tenant; every app's service
// principal and the resource APIs they use; what every service principal
// holds. It only reads.
func VerifyAll(ctx context.Context, env *Env, req VerifyAllRequest) (*AllReport, error) {
	apps, org, err := taggedApps(ctx, env)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(apps, func(i, j int) bool {
		a, b := strings.ToLower(apps[i].DisplayName), strings.ToLower(apps[j].DisplayName)
		if a != b {
			return a < b
		}
		return apps[i].CreatedDateTime.Before(apps[j].CreatedDateTime)
	})
	type work struct {
		found *FoundApp
		p     *profile.Profile
		why   string // no profile: why not
		ev    *Evaluation
		spec  *profile.Spec
		err   error
	}
	items := make([]*work, len(apps))
	lookup := map[string]bool{}
	var appIDs []string
	add := func(id string) {
		if k := strings.ToLower(id); !lookup[k] {
			lookup[k] = true
			appIDs = append(appIDs, k)
		}
	}
	for i, a := range apps {
		w := &work{found: newFoundApp(a)}
		items[i] = w
		add(a.AppID)
		for _, rra := range a.RequiredResourceAccess {
			add(rra.ResourceAppID)
		}
		override := req.Profile
		if override != nil && w.found.ProfileID != override.ID {
			override = nil
		}
		w.p, w.why = appProfile(w.found, override)
		if w.p == nil {
			continue
		}
		w.ev, w.spec, w.err = newEvaluation(env, w.found, w.p, nil)
		if w.err != nil {
			continue
		}
		for _, perm := range w.spec.Permissions {
			add(perm.ResourceAppID)
		}
	}

	sps, err := env.Graph.ServicePrincipalsByAppIDs(ctx, appIDs)
	if err != nil {
		if graph.IsForbidden(err) {
			return nil, &ForbiddenError{Msg: "the signed-in identity may not read enterprise applications (service principals), which verify must see: that needs Application.Read.All. Nothing was changed."}
		}
		return nil, fmt.Errorf("looking up the apps' service principals: %w", err)
	}
	var spIDs []string
	for _, w := range items {
		if sp, ok := sps[strings.ToLower(w.found.App.AppID)]; ok && w.ev != nil {
			spIDs = append(spIDs, sp.ID)
		}
	}
	held, err := env.Graph.HoldingsOf(ctx, spIDs)
	if err != nil {
		return nil, fmt.Errorf("reading what the apps' service principals hold: %w", err)
	}

	rep := &AllReport{Sandbox: req.Sandbox, Cloud: env.Cloud.Name, TenantID: org.ID, TenantName: org.DisplayName,
		WarnDays: req.WarnDays, Apps: make([]AppVerdict, 0, len(items))}
	now := env.Now().UTC()
	args := reportArgs{sandbox: req.Sandbox, warnDays: req.WarnDays, profileFile: req.ProfileFile, fixArgs: req.FixArgs}
	for _, w := range items {
		app := w.found.App
		v := AppVerdict{
			App:           AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
			Profile:       w.found.ProfileID,
			Features:      w.found.Features,
			Problems:      []Check{},
			NearestExpiry: nearestExpiry(Credentials(app), now),
		}
		if sp, ok := sps[strings.ToLower(app.AppID)]; ok {
			v.App.ServicePrincipalID = sp.ID
		}
		switch {
		case w.p == nil:
			v.Problems = append(v.Problems, Check{Name: "profile", Status: CheckProblem, Detail: w.why, Kind: "profile", Short: "profile unknown",
				Fix: strings.Join(append([]string{"entra-link", "verify", "--app-id", app.AppID, "--profile-file", "PROFILE.yaml"}, req.FixArgs...), " ")})
			// Its credentials expire all the same.
			for _, c := range credentialChecks(now, req, w.found) {
				switch c.Status {
				case CheckProblem:
					v.Problems = append(v.Problems, c)
				case CheckWarning:
					v.Warnings = append(v.Warnings, c)
				}
			}
		case w.err != nil:
			v.Error = w.err.Error()
		default:
			t := &Tenant{Org: org, App: &w.found.App, Resources: map[string]graph.ServicePrincipal{}}
			for _, perm := range w.spec.Permissions {
				if sp, ok := sps[strings.ToLower(perm.ResourceAppID)]; ok {
					t.Resources[strings.ToLower(perm.ResourceAppID)] = sp
				}
			}
			for _, rra := range app.RequiredResourceAccess {
				if sp, ok := sps[strings.ToLower(rra.ResourceAppID)]; ok {
					t.Resources[strings.ToLower(rra.ResourceAppID)] = sp
				}
			}
			st, err := heldState(sps, held, app.AppID)
			if err != nil {
				v.Error = err.Error()
				break
			}
			t.AppState = *st
			if err := w.ev.plan(env, w.spec, t); err != nil {
				v.Error = err.Error()
				break
			}
			r := newReport(env, args, w.found, w.p, w.ev)
			v.Profile, v.Product, v.Features = r.Profile, r.Product, r.Features
			for _, c := range r.Checks {
				switch c.Status {
				case CheckProblem:
					v.Problems = append(v.Problems, c)
				case CheckWarning:
					v.Warnings = append(v.Warnings, c)
				}
			}
		}
		v.Healthy = len(v.Problems) == 0 && v.Error == ""
		rep.Summary.Apps++
		switch {
		case v.Error != "":
			rep.Summary.Unchecked++
		case v.Healthy:
			rep.Summary.Healthy++
		default:
			rep.Summary.WithProblems++
			rep.Summary.Problems += len(v.Problems)
		}
		for _, c := range v.Problems {
			if c.Kind == "credential" {
				rep.Summary.Expiring++
				break
			}
		}
		rep.Apps = append(rep.Apps, v)
	}
	rep.Healthy = rep.Summary.Healthy == rep.Summary.Apps
	return rep, nil
}

// heldState is the AppState of appID from the batched reads: its service
// principal (none: nothing held) and what that holds; a read the identity
// may not make is recorded in Unread, as preflight does.
func heldState(sps map[string]graph.ServicePrincipal, held map[string]*graph.Holdings, appID string) (*AppState, error) {
	st := &AppState{Unread: map[Kind]string{}}
	sp, ok := sps[strings.ToLower(appID)]
	if !ok {
		return st, nil
	}
	st.SP = &sp
	h := held[strings.ToLower(sp.ID)]
	if h == nil {
		return nil, fmt.Errorf("what the service principal %s holds was not read", sp.ID)
	}
	for _, r := range []struct {
		kind Kind
		err  error
		what string
	}{
		{KindConsent, h.AppRoleAssignmentsErr, "the app's consented application permissions"},
		{KindGrant, h.PermissionGrantsErr, "the app's delegated permission grants"},
		{KindRole, h.RoleAssignmentsErr, "the app's directory roles"},
	} {
		switch {
		case r.err == nil:
		case graph.IsForbidden(r.err):
			st.Unread[r.kind] = unreadWords(r.kind)
		default:
			return nil, fmt.Errorf("reading %s: %w", r.what, r.err)
		}
	}
	st.Assignments, st.Grants, st.RoleAssignments = h.AppRoleAssignments, h.PermissionGrants, h.RoleAssignments
	return st, nil
}

// credentialChecks checks the credentials of an app whose profile is not
// known, as verify does, taking any kind of credential as usable.
func credentialChecks(now time.Time, req VerifyAllRequest, found *FoundApp) []Check {
	p := &profile.Profile{ID: found.ProfileID, Product: found.App.DisplayName}
	v := &verifier{now: now, warnDays: req.WarnDays, p: p, found: found}
	v.fix = fixer{p: p, profileFile: "PROFILE.yaml", app: found.App, args: req.FixArgs}
	v.checkCredentials()
	return v.checks
}
