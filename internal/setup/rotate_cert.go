package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Certificate rotation is setup's credential step alone, on an existing
// app: the same planner rules (--certificate-file checked and refused by
// the tenant's app management policy when it is valid too long; a key
// pair generated here, shortened to what the policy allows, its files
// written before the upload) and the same payloads. The app's other
// certificates are kept, so the product can be switched without downtime;
// `retire` removes them afterwards.

// CertRotateRequest is what rotate-certificate was asked to do.
type CertRotateRequest struct {
	Selector
	// CertificateFile is a certificate to upload; CertificateOut a
	// directory for a key pair generated here. Exactly one is set.
	CertificateFile string
	CertificateOut  string
	// PFXPassword protects the generated PFX ("" for none).
	PFXPassword string
	// Force lets generated key files and OutputFile replace existing files.
	Force bool
	// OutputFormat and OutputFile are where the result goes (checked first).
	OutputFormat string
	OutputFile   string
	Sandbox      bool
	// Signer, when entra-link is signed in as the app itself with a
	// certificate, proves possession to addKey (nil otherwise).
	Signer *certs.Signer
}

// CertRotation is a planned rotate-certificate: everything read, nothing
// changed.
type CertRotation struct {
	Found   *FoundApp
	Profile *profile.Profile
	Org     graph.Organization
	// Others are the app's certificates, which keep working until retired.
	Others   []graph.KeyCredential
	Warnings []string

	plan *Plan
}

// genericCertificateProfile hands a certificate over for an app that
// records no profile.
func genericCertificateProfile(app graph.Application) *profile.Profile {
	return &profile.Profile{
		Product:     app.DisplayName,
		DisplayName: app.DisplayName,
		Credential:  profile.CredentialPolicy{Default: profile.CredentialCertificate, Allowed: []string{profile.CredentialCertificate}},
		Handover: profile.Handover{
			Format: "text",
			Fields: []profile.HandoverField{
				{Label: "Application (client) ID", Value: "{{clientId}}"},
				{Label: "Directory (tenant) ID", Value: "{{tenantId}}"},
			},
			NextSteps: []string{"Give the new certificate (thumbprint {{certificateThumbprint}}, expires {{certificateExpiresAt}}) to the product that uses this app."},
		},
	}
}

// PrepareCertificateRotation finds the app, reads what the plan needs (its
// service principal, the tenant, the app management policy where the
// identity may) and plans the new certificate. It changes nothing. Input
// problems are *UsageError; failed checks are the plan's Problems.
func PrepareCertificateRotation(ctx context.Context, env *Env, req CertRotateRequest) (*CertRotation, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	cr := &CertRotation{Found: found}
	p, why := appProfile(found, nil)
	switch {
	case p == nil:
		p = genericCertificateProfile(found.App)
		cr.Warnings = append(cr.Warnings, why+"; the hand-over uses generic labels")
	case !p.AllowsCredential(profile.CredentialCertificate):
		return nil, &UsageError{Msg: fmt.Sprintf("%s uses profile %s, and %s authenticates with a %s, not a certificate; nothing was changed. For a new client secret run: %s",
			found.Label(), p.ID, p.Product, p.Credential.Default, env.Command("rotate-secret", "--app-id", found.App.AppID))}
	}
	cr.Profile = p
	id, err := env.Graph.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	app := found.App
	t := &Tenant{Identity: id, App: &app, Resources: map[string]graph.ServicePrincipal{}, cloud: env.Cloud}
	var spErr, orgErr error
	var wg crash.Group
	wg.Go(func() { t.SP, spErr = pre.servicePrincipal(ctx, env.Graph, app.AppID) })
	wg.Go(func() { t.Org, orgErr = pre.tenant(ctx, env.Graph) })
	wg.Go(func() {
		t.Policy = readDefaultPolicy(ctx, env.Graph, id)
		readAppPolicy(ctx, env.Graph, &t.Policy, &app)
	})
	wg.Wait()
	if spErr != nil {
		return nil, fmt.Errorf("looking up the app's service principal: %w", spErr)
	}
	if orgErr != nil {
		return nil, fmt.Errorf("reading the tenant: %w", orgErr)
	}
	cr.Org = t.Org
	cr.Others = app.KeyCredentials
	if t.SP == nil {
		cr.Warnings = append(cr.Warnings, "the app has no service principal in this tenant, so no certificate of it can sign in here until one exists (run setup for the app)")
	}
	asItself := id.AppOnly && strings.EqualFold(id.ClientAppID, app.AppID) && !hasAny(id.Roles, scopeApplications)
	if asItself && req.Signer == nil {
		return nil, &UsageError{Msg: fmt.Sprintf("entra-link is signed in as %s itself, which may not update its own registration: it can add a certificate only with addKey, proven by a certificate it holds. Sign in with that certificate (--auth env with AZURE_CLIENT_CERTIFICATE_PATH), or as an admin (nothing was changed)", found.Label())}
	}
	if asItself && len(app.KeyCredentials) == 0 {
		return nil, &UsageError{Msg: fmt.Sprintf("%s has no certificate yet; addKey needs a valid one to prove possession. Sign in as an admin to add the first certificate (nothing was changed)", found.Label())}
	}
	cr.plan = cr.makePlan(env, t, req, asItself)
	return cr, nil
}

// makePlan runs setup's planner for the credential alone.
func (cr *CertRotation) makePlan(env *Env, t *Tenant, req CertRotateRequest, asItself bool) *Plan {
	app := cr.Found.App
	p := cr.Profile
	spec := &profile.Spec{Profile: p, DisplayName: app.DisplayName, Credential: profile.CredentialCertificate,
		CertificateFile: req.CertificateFile, CertificateOut: req.CertificateOut, Values: map[string][]string{}}
	if p.ID != "" {
		spec.Values, _ = appliedValues(p, app)
	}
	opt := PlanOptions{Now: env.Now().UTC(), NewCredential: true, Force: req.Force, OutputFormat: req.OutputFormat,
		OutputFile: req.OutputFile, Cloud: env.Cloud, Sandbox: req.Sandbox, PFXPassword: req.PFXPassword}
	plan := &Plan{Spec: spec, Tenant: t, Options: opt, Product: p.Product, Title: "New certificate for " + app.DisplayName,
		ids: map[string]string{}, stepPerms: map[string][]profile.Permission{}, stepRoles: map[string]profile.Role{}}
	b := &planner{p: plan, s: spec, t: t, opt: opt, resNew: map[string]bool{}}
	b.certificateFile()
	b.credential()
	b.credentialPolicy()
	b.outputs()
	if req.CertificateFile != "" && b.p.cert == nil {
		// The file's own check says what is wrong with it; "the app has
		// no valid certificate" would be setup's words, and untrue here.
		b.checks = slices.DeleteFunc(b.checks, func(st *Step) bool { return st.ID == "check/certificate" })
	}
	if chk := b.checkByID("check/credential-policy"); chk != nil && chk.Unknown != "" {
		// setup's words are about consents; a rotation adds nothing else.
		chk.Unknown = "could not be read: " + t.Policy.Unread + "; Entra refuses a certificate valid longer than the policy allows, and then nothing is changed"
	}
	if chk := b.checkByID("check/output"); chk != nil {
		chk.Problem = strings.ReplaceAll(chk.Problem, " --new-credential", "")
	}
	cred := b.stepByID("credential")
	if up, ok := cred.payload.(*certUpload); ok && cred.Action == ActCreate {
		if asItself {
			up.signer = req.Signer
			cred.Detail += "; added with addKey, proven by the certificate entra-link signed in with"
		} else if len(app.KeyCredentials) > 0 {
			cred.Detail += " (read, merged and written back in one update)"
		}
	}
	for _, k := range app.KeyCredentials {
		c := CredentialInfo{Kind: KindCertificate, KeyID: k.KeyID, Name: k.DisplayName, Start: k.StartDateTime, End: k.EndDateTime, Thumbprint: keyThumbprint(k)}
		if cred.Action == ActKeep && b.p.cert != nil && strings.EqualFold(c.Thumbprint, b.p.cert.cert.Thumbprint) {
			continue // the credential step says it
		}
		b.add(&Step{ID: credentialStepID(c), Kind: KindKeyCredential, Action: ActKeep, Target: c.Label(),
			Detail: fmt.Sprintf("expires %s; keeps working until retired (%s)", k.EndDateTime.UTC().Format("2006-01-02"), env.Command("retire", "--app-id", app.AppID))})
	}
	plan.Steps = append(b.checks, b.steps...)
	plan.computeRounds()
	return plan
}

// checkByID is the planned check with this ID, or nil.
func (b *planner) checkByID(id string) *Step {
	for _, st := range b.checks {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// Plan is what the rotation does: the checks, the key pair (when one is
// generated), the new certificate and the old ones kept.
func (cr *CertRotation) Plan() *Plan { return cr.plan }

// Problems are the failed checks, in words: nothing may change.
func (cr *CertRotation) Problems() []string { return cr.plan.Problems() }

// Summary says what the rotation does, for the lines printed before it.
func (cr *CertRotation) Summary() []string {
	cred := cr.plan.Step("credential")
	if cred.Action == ActKeep {
		return []string{fmt.Sprintf("%s already trusts %s; nothing to add.", cr.Found.Label(), cred.Target)}
	}
	lines := []string{fmt.Sprintf("Add a new certificate to %s in %s: %s.", cr.Found.Label(), tenantLabel(cr.Org), cred.Detail)}
	if kp := cr.plan.Step("key-pair"); kp != nil {
		lines = append(lines, "Make the "+kp.Target+" on this machine first.")
	}
	if n := len(cr.Others); n > 0 {
		lines = append(lines, fmt.Sprintf("The app's %d other certificate(s) will be kept: they keep working until retired (entra-link retire).", n))
	}
	return lines
}

// DryRunResult is the rotation's plan as a result (nothing changed).
func (cr *CertRotation) DryRunResult(c cloud.Cloud) *output.Result {
	res := DryRunResult(cr.plan)
	res.Cloud = c.Name
	res.Permissions, res.DirectoryRoles = nil, nil
	res.Warnings = append(append([]string(nil), cr.Warnings...), res.Warnings...)
	return res
}

// Apply carries out the plan with setup's executor: the key pair, its
// files (before the upload), the upload. The old certificates stay.
func (cr *CertRotation) Apply(ctx context.Context, env *Env) (*output.Result, error) {
	res, err := Apply(ctx, env, cr.plan)
	if res != nil {
		res.Permissions, res.DirectoryRoles = nil, nil
		res.Warnings = append(append([]string(nil), cr.Warnings...), res.Warnings...)
		if err == nil && len(cr.Others) > 0 && res.CertificateThumbprint != "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("The app's %d other certificate(s) were kept and still work. Once %s uses the new certificate, retire them: %s",
				len(cr.Others), cr.Profile.Product, env.Command("retire", "--app-id", cr.Found.App.AppID)))
		}
	}
	return res, err
}
