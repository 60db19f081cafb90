// Package setup plans and applies an app registration for a product
// profile: preflight, find-or-create the app, its service principal, the
// credential, admin consent and directory roles — idempotently — and the
// day-2 operations on such apps.
//
// Everything a run does is first a Plan: a value computed from the desired
// profile.Spec and what preflight read from the tenant (or, offline, from
// nothing). The dry run, the wizard's review, the flag path's confirmation
// and verify render it; Apply executes it and nothing else.
package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Action is what a step does to its target: the "action" of design.md §4's
// plan.
type Action string

// Step actions.
const (
	// ActCreate adds something the app (or the tenant) lacks.
	ActCreate Action = "create"
	// ActUpdate changes something that exists; the step's Detail says how.
	ActUpdate Action = "update"
	// ActKeep leaves something as it is; the Detail says why.
	ActKeep Action = "keep"
	// ActRemove deletes something (setup --prune, delete, retired secrets).
	ActRemove Action = "remove"
	// ActExtra is something the app has and its profile does not ask for;
	// it is left as it is (setup --prune removes it).
	ActExtra Action = "extra"
	// ActCheck is a precondition, checked before anything is written.
	ActCheck Action = "check"
	// ActCreateOrUpdate is an offline plan's step that depends on what the
	// tenant holds, which was not read.
	ActCreateOrUpdate Action = "create-or-update"
)

// Kind says what a step acts on. Every kind has one payload type that
// carries it out (see apply.go); new kinds add one.
type Kind string

// Step kinds.
const (
	// Round 0: on this machine, before the first write to the tenant.
	KindOutput          Kind = "output"           // --output can carry every value
	KindOutputFile      Kind = "output-file"      // --output-file can be written
	KindCertificateFile Kind = "certificate-file" // --certificate-file is a usable certificate
	KindCertificateOut  Kind = "certificate-out"  // --certificate-out can take the key files
	KindKeyPair         Kind = "key-pair"         // a key pair generated in memory
	KindVerifiedDomain  Kind = "verified-domain"  // a URL's host is a verified domain
	// What the tenant's app management policy allows (policy.go).
	KindCredentialPolicy Kind = "credential-policy"
	KindURIPolicy        Kind = "identifier-uri-policy"

	// The app registration and its lists (one request carries them).
	KindApp           Kind = "app"
	KindUniqueName    Kind = "unique-name" // the app's alternate key, which the upsert finds it by
	KindTags          Kind = "tags"
	KindIdentifierURI Kind = "identifier-uri"
	KindRedirectURI   Kind = "redirect-uri"
	KindPermission    Kind = "permission" // a requested API permission
	// The app's own properties (portal.go).
	KindNotes                      Kind = "notes"
	KindServiceManagementReference Kind = "service-management-reference"

	// Around the app.
	KindResource         Kind = "resource-service-principal"
	KindServicePrincipal Kind = "service-principal"
	KindClientSecret     Kind = "client-secret"
	KindKeyCredential    Kind = "certificate"
	KindConsent          Kind = "admin-consent"     // an application permission's app role assignment
	KindGrant            Kind = "delegated-consent" // a tenant-wide oauth2PermissionGrant
	KindRole             Kind = "directory-role"
	KindSPTags           Kind = "service-principal-tags" // the portal's tag (portal.go)
	KindOwner            Kind = "owner"

	// rotate-secret and delete.
	KindProof Kind = "secret-proof"
	// retire's checks: the newest credentials stay; the credential the
	// sign-in logs show the app uses.
	KindNewest    Kind = "newest-credential"
	KindSignInLog Kind = "sign-in-log"
)

// Step is one thing a run does, or leaves as it is.
type Step struct {
	// ID names the step within its plan ("app", "consent/<app>/<name>", …).
	ID     string
	Kind   Kind
	Action Action
	// Round: steps of one round run concurrently, after every step of the
	// rounds before. Round 0 runs on this machine before the first write to
	// the tenant; steps that change nothing (keep, extra, checks) are in it.
	Round  int
	Target string
	// Detail is the exact change (update), why (keep, extra), what is
	// checked (check), or what is made (create).
	Detail string
	// After lists the steps (by ID) that must have succeeded first.
	After []string
	// PartOf names the step whose request carries this one out (the app's
	// lists are one PATCH); its outcome is that step's.
	PartOf string
	// Pending says, when the signed-in identity may not do this step,
	// what an admin must do instead (exit 4); the step is not attempted.
	Pending string
	// Problem says why a check failed; "" when it passes.
	Problem string
	// Unknown says what could not be read from the tenant, when the step's
	// action could not be decided from it.
	Unknown string

	payload payload
}

// Executable reports whether Apply makes a request (or does local work) for s.
func (s *Step) Executable() bool {
	if s.PartOf != "" || s.payload == nil {
		return false
	}
	switch s.Action {
	case ActCreate, ActUpdate, ActRemove, ActCreateOrUpdate:
		return true
	}
	return false
}

// changes reports whether s would change the tenant (or this machine).
func (s *Step) changes() bool {
	switch s.Action {
	case ActKeep, ActExtra, ActCheck:
		return false
	}
	return true
}

// Plan is everything one run will do, in order.
type Plan struct {
	Spec *profile.Spec
	// Tenant is what preflight read; nil for an offline plan.
	Tenant  *Tenant
	Options PlanOptions
	Steps   []*Step
	// Warnings are things the user should know that do not stop the run.
	Warnings []string
	// KeptSecret is the app's valid client secret that the plan keeps.
	KeptSecret *CredentialInfo
	// KeptCertificate is the certificate the plan keeps (already on the app).
	KeptCertificate *CredentialInfo

	// Title heads the rendered plan and result ("" = "<name> is set up").
	Title string
	// Product names the product in messages.
	Product string

	// ids maps resourceAppId/type/name to the permission id the tenant uses.
	ids map[string]string
	// cert is the certificate from --certificate-file, loaded.
	cert   *certCandidate
	rounds int
	// stepPerms and stepRoles say which of the spec's permissions and roles
	// a consent, grant or role step provides.
	stepPerms map[string][]profile.Permission
	stepRoles map[string]profile.Role
	// stale are journal records with nothing left in the tenant: Apply
	// settles them (local housekeeping, no step).
	stale []*journal.Record
}

// PlanOptions are the choices of one run that are not part of the Spec.
type PlanOptions struct {
	Now time.Time
	// NewCredential adds a credential even when the app has a valid one.
	NewCredential bool
	// Prune removes what the app has and its profile does not ask for.
	Prune bool
	// Force lets --output-file and generated key files replace existing files.
	Force bool
	// OutputFormat and OutputFile are where the result goes (preconditions).
	OutputFormat string
	OutputFile   string
	// Verify plans read-only: no local preconditions, nothing pending.
	Verify bool
	// Cloud is the national cloud (for hand-over values and links).
	Cloud cloud.Cloud
	// Sandbox marks results as coming from the emulated tenant.
	Sandbox bool
	// PFXPassword protects the PFX of a generated key pair ("" for none).
	PFXPassword string
	// Version is entra-link's version, for the app's notes.
	Version string
}

// Offline reports whether the plan was made without reading the tenant.
func (p *Plan) Offline() bool { return p.Tenant == nil }

// Step returns the step with the given ID, or nil.
func (p *Plan) Step(id string) *Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Problems are the failed checks, in words: the run must not start.
func (p *Plan) Problems() []string {
	var out []string
	for _, s := range p.Steps {
		if s.Action == ActCheck && s.Problem != "" {
			out = append(out, s.Problem)
		}
	}
	return out
}

// Changes reports whether the plan changes anything.
func (p *Plan) Changes() bool {
	return slices.ContainsFunc(p.Steps, (*Step).changes)
}

// Rounds is the number of rounds of requests to the tenant.
func (p *Plan) Rounds() int { return p.rounds }

// Output renders the steps for results (design.md §4's "plan" and "steps").
func (p *Plan) Output() []output.Step {
	out := make([]output.Step, 0, len(p.Steps))
	for _, s := range p.Steps {
		o := output.Step{Action: string(s.Action), Kind: string(s.Kind), Target: s.Target, Detail: s.detail(), Round: s.Round}
		if s.Action == ActCheck && s.Round == 0 && s.Unknown == "" {
			o.Status = output.StepOK
			if s.Problem != "" {
				o.Status, o.Outcome = output.StepProblem, s.Problem
			}
		}
		out = append(out, o)
	}
	return out
}

// detail is Detail with what is pending or unknown.
func (s *Step) detail() string {
	parts := []string{}
	if s.Detail != "" {
		parts = append(parts, s.Detail)
	}
	if s.Unknown != "" {
		parts = append(parts, s.Unknown)
	}
	if s.Pending != "" {
		parts = append(parts, "needs an admin: "+s.Pending)
	}
	return strings.Join(parts, "; ")
}

// Lines renders the plan as plain text lines, one per step.
func (p *Plan) Lines() []string { return output.PlanLines(p.Output()) }

// Extras are the steps for what the app has and its profile does not ask for.
func (p *Plan) Extras() []*Step {
	var out []*Step
	for _, s := range p.Steps {
		if s.Action == ActExtra {
			out = append(out, s)
		}
	}
	return out
}

// Shortfalls say, in words, what the plan needs that the signed-in
// identity may not do.
func (p *Plan) Shortfalls() []string {
	if p.Tenant == nil || p.Options.Verify {
		return nil
	}
	return p.Tenant.Shortfalls(p.Spec)
}

// computeRounds gives every executable step the earliest round after the
// steps it waits for; parts follow their carrier.
func (p *Plan) computeRounds() {
	byID := map[string]*Step{}
	for _, s := range p.Steps {
		byID[s.ID] = s
	}
	var round func(s *Step, seen map[string]bool) int
	round = func(s *Step, seen map[string]bool) int {
		if s.Round > 0 || s.Kind == KindKeyPair || !s.Executable() {
			return s.Round
		}
		if seen[s.ID] {
			panic("setup: plan steps wait for each other: " + s.ID)
		}
		seen[s.ID] = true
		r := 1
		for _, id := range s.After {
			if d := byID[id]; d != nil && d.Executable() {
				r = max(r, round(d, seen)+1)
			}
		}
		s.Round = r
		return r
	}
	p.rounds = 0
	for _, s := range p.Steps {
		if s.Executable() {
			p.rounds = max(p.rounds, round(s, map[string]bool{}))
		}
	}
	for _, s := range p.Steps {
		if s.PartOf != "" {
			if c := byID[s.PartOf]; c != nil {
				s.Round = c.Round
			}
		}
	}
}

// PermissionTarget names a permission: "Microsoft Graph · application · User.Read.All".
func PermissionTarget(p profile.Permission) string {
	return fmt.Sprintf("%s · %s · %s", p.Resource, p.Type, p.Name)
}

// DryRunResult is the design.md §4 object for a dry run: ids omitted,
// nothing consented or assigned, plus the plan.
func DryRunResult(p *Plan) *output.Result {
	s := p.Spec
	r := &output.Result{
		DryRun:       true,
		Sandbox:      p.Options.Sandbox,
		Profile:      s.Profile.ID,
		Product:      s.Profile.Product,
		Cloud:        p.Options.Cloud.Name,
		DisplayName:  p.displayName(),
		ClientID:     s.AppID,
		Plan:         p.Output(),
		Placeholders: append([]string(nil), s.Placeholders...),
		Warnings:     append([]string(nil), p.Warnings...),
	}
	if t := p.Tenant; t != nil {
		r.TenantName, r.TenantDomain = t.Org.DisplayName, t.Org.InitialDomain()
		if t.App != nil {
			r.ClientID = t.App.AppID
		}
	}
	if k := p.KeptSecret; k != nil {
		r.KeptSecret = &output.KeptSecret{KeyID: k.KeyID, Hint: k.Hint, ExpiresAt: k.End.UTC()}
	}
	r.Permissions, r.DirectoryRoles = Statuses(s)
	return r
}

// displayName is the name the app will have.
func (p *Plan) displayName() string {
	if t := p.Tenant; t != nil && t.App != nil && !p.Spec.DisplayNameSet {
		return t.App.DisplayName
	}
	return p.Spec.DisplayName
}

// Statuses lists the spec's permissions and roles, none consented/assigned.
func Statuses(s *profile.Spec) ([]output.PermissionStatus, []output.RoleStatus) {
	perms := make([]output.PermissionStatus, 0, len(s.Permissions))
	for _, p := range s.Permissions {
		perms = append(perms, output.PermissionStatus{Resource: p.Resource, Type: string(p.Type), Name: p.Name, Description: p.DisplayName})
	}
	roles := make([]output.RoleStatus, 0, len(s.Roles))
	for _, r := range s.Roles {
		roles = append(roles, output.RoleStatus{Name: r.Name})
	}
	return perms, roles
}

// payload carries out one kind of step. apply returns what came of it in
// words (an id, an expiry), or an error.
type payload interface {
	apply(ctx context.Context, r *run, s *Step) (string, error)
}

// permKey identifies a permission across the spec and the tenant.
func permKey(appID, name string, typ catalog.PermissionType) string {
	return strings.ToLower(appID) + "/" + string(typ) + "/" + name
}
