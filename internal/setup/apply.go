package setup

import (
	"context"
	"crypto/sha1" //nolint:gosec // certificate thumbprints are SHA-1 by definition
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// ApplyOptions tune one run.
type ApplyOptions struct {
	// NewCredential adds a credential even when the app has a valid one.
	NewCredential bool
	// Force lets generated certificate files replace existing ones.
	Force bool
	// Sandbox marks the result as coming from the emulated tenant.
	Sandbox bool
}

// PendingError means the run did everything it could, but an admin must
// still act (consent, role assignment): exit code 4.
type PendingError struct{ Reasons []string }

func (e *PendingError) Error() string {
	return "an admin action is still needed: " + strings.Join(e.Reasons, "; ")
}

// StepsError means some steps failed; the result says which.
type StepsError struct{ Failed []error }

func (e *StepsError) Error() string {
	msgs := make([]string, 0, len(e.Failed))
	for _, f := range e.Failed {
		msgs = append(msgs, f.Error())
	}
	return strings.Join(msgs, "; ")
}

func (e *StepsError) Unwrap() []error { return e.Failed }

// secretGrace is how long a secret must still be valid to count as "valid"
// on a re-run; one that expires sooner is replaced.
const secretGrace = 24 * time.Hour

// certificateLifetime is the validity of a generated certificate.
var certificateLifetime = profile.Lifetime{N: 1, Unit: 'y'}

type applyRun struct {
	env  *Env
	spec *profile.Spec
	t    *Tenant
	opt  ApplyOptions
	now  time.Time

	mu      sync.Mutex
	res     *output.Result
	failed  []error
	pending []string
	// consentPending is true when some consent could not be granted.
	consentPending bool

	app   graph.Application
	sp    graph.ServicePrincipal
	spNew bool
	// resolved permission ids: resourceAppId/name/type → id
	ids map[string]string

	assignments []graph.AppRoleAssignment
	grants      []graph.PermissionGrant
	roleAssigns []graph.RoleAssignment

	secretExpiry *time.Time
}

func permKey(appID, name string, typ catalog.PermissionType) string {
	return appID + "/" + string(typ) + "/" + name
}

// Apply makes the tenant match the spec. It always returns a result
// describing what was done, also together with an error. A created secret
// is in the result (and was handed to Env.OnSecret) whatever happens after.
func Apply(ctx context.Context, env *Env, s *profile.Spec, t *Tenant, opt ApplyOptions) (*output.Result, error) {
	r := &applyRun{env: env, spec: s, t: t, opt: opt, now: env.Now().UTC(), ids: map[string]string{}}
	r.res = &output.Result{
		Sandbox:      opt.Sandbox,
		Profile:      s.Profile.ID,
		Product:      s.Profile.Product,
		Cloud:        env.Cloud.Name,
		TenantID:     t.Org.ID,
		TenantName:   t.Org.DisplayName,
		TenantDomain: t.Org.InitialDomain(),
		DisplayName:  s.DisplayName,
	}
	if env.Cloud.Name != "global" {
		r.res.AuthorityHost = env.Cloud.AuthorityHost
	}
	r.res.Permissions, r.res.DirectoryRoles = Statuses(s)
	r.res.Warnings = append(r.res.Warnings, t.Warnings...)
	if err := r.resolvePermissionIDs(); err != nil {
		return r.finish(err)
	}
	if len(t.Lookalikes) > 0 && t.App == nil {
		ids := make([]string, 0, len(t.Lookalikes))
		for _, a := range t.Lookalikes {
			ids = append(ids, a.AppID)
		}
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("an app named %q that entra-link did not create already exists (%s); entra-link made its own. To configure that app instead, run setup with --app-id.",
			s.DisplayName, strings.Join(ids, ", ")))
	}

	// Round 1: the app (and, for an existing app, its service principal).
	var spLookupErr error
	r.parallel(ctx,
		func(ctx context.Context) { r.ensureApp(ctx) },
		func(ctx context.Context) {
			if t.App == nil {
				return
			}
			sp, err := env.Graph.ServicePrincipalByAppID(ctx, t.App.AppID)
			switch {
			case err == nil:
				r.sp = sp
			case graph.IsNotFound(err):
			default:
				spLookupErr = err
			}
		},
	)
	if spLookupErr != nil {
		r.fail(fmt.Errorf("looking up the service principal: %w", spLookupErr))
	}
	if r.app.ID == "" || ctx.Err() != nil {
		return r.finish(ctx.Err())
	}
	r.res.ClientID = r.app.AppID
	r.res.ApplicationObjectID = r.app.ID
	r.res.PortalURL = env.Cloud.PortalAppURL(r.app.AppID)

	// Round 2: service principal, credential, missing resource service
	// principals, and what an existing service principal already has.
	tasks := []func(context.Context){
		func(ctx context.Context) { r.ensureServicePrincipal(ctx) },
		func(ctx context.Context) { r.ensureCredential(ctx) },
	}
	for _, appID := range r.resourceAppIDs() {
		if _, ok := t.Resources[appID]; !ok {
			tasks = append(tasks, func(ctx context.Context) { r.ensureResource(ctx, appID) })
		}
	}
	r.parallel(ctx, tasks...)
	if r.sp.ID == "" || ctx.Err() != nil {
		return r.finish(ctx.Err())
	}
	r.res.ServicePrincipalID = r.sp.ID

	// Round 3: consent and directory roles.
	tasks = nil
	for _, p := range s.Permissions {
		if p.Type == catalog.Application {
			tasks = append(tasks, func(ctx context.Context) { r.ensureAppRole(ctx, p) })
		}
	}
	for _, appID := range r.resourceAppIDs() {
		if scopes := r.delegatedScopes(appID); len(scopes) > 0 {
			tasks = append(tasks, func(ctx context.Context) { r.ensureGrant(ctx, appID, scopes) })
		}
	}
	for _, role := range s.Roles {
		tasks = append(tasks, func(ctx context.Context) { r.ensureRole(ctx, role) })
	}
	r.parallel(ctx, tasks...)
	return r.finish(ctx.Err())
}

// parallel runs fns concurrently and waits for all of them; a panic in
// one is raised here once the others are done (crash.Group).
func (r *applyRun) parallel(ctx context.Context, fns ...func(context.Context)) {
	var g crash.Group
	for _, fn := range fns {
		g.Go(func() {
			if ctx.Err() != nil {
				return
			}
			fn(ctx)
		})
	}
	g.Wait()
}

func (r *applyRun) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, err)
}

// step records a step's outcome in the result and reports progress.
func (r *applyRun) step(action, target, status, detail string) {
	r.mu.Lock()
	r.res.Steps = append(r.res.Steps, output.Step{Action: action, Target: target, Status: status, Detail: detail})
	r.mu.Unlock()
	r.env.emit(Event{Action: action, Target: target, Status: status, Detail: detail})
}

func (r *applyRun) running(action, target string) {
	r.env.emit(Event{Action: action, Target: target, Status: StatusRunning})
}

func (r *applyRun) resourceAppIDs() []string {
	var out []string
	for _, p := range r.spec.Permissions {
		if !slices.Contains(out, p.ResourceAppID) {
			out = append(out, p.ResourceAppID)
		}
	}
	return out
}

func (r *applyRun) delegatedScopes(appID string) []string {
	var out []string
	for _, p := range r.spec.Permissions {
		if p.ResourceAppID == appID && p.Type == catalog.Delegated {
			out = append(out, p.Name)
		}
	}
	return out
}

// resolvePermissionIDs maps permission names to the ids the tenant's
// resource service principals publish (the catalogue's ids otherwise).
func (r *applyRun) resolvePermissionIDs() error {
	for _, p := range r.spec.Permissions {
		id := p.ID
		if sp, ok := r.t.Resources[p.ResourceAppID]; ok {
			found := false
			if p.Type == catalog.Application {
				for _, ar := range sp.AppRoles {
					if ar.Value == p.Name && ar.IsEnabled {
						id, found = ar.ID, true
					}
				}
			} else {
				for _, sc := range sp.Scopes {
					if sc.Value == p.Name && sc.IsEnabled {
						id, found = sc.ID, true
					}
				}
			}
			if !found {
				return &UsageError{Msg: fmt.Sprintf("the tenant's %s service principal publishes no enabled %s permission %q; the profile cannot be applied in this tenant (nothing was changed)",
					p.Resource, p.Type, p.Name)}
			}
		}
		r.ids[permKey(p.ResourceAppID, p.Name, p.Type)] = id
	}
	return nil
}

// requiredResourceAccess is exactly the spec's permissions, grouped by resource.
func (r *applyRun) requiredResourceAccess() []graph.RequiredResourceAccess {
	var out []graph.RequiredResourceAccess
	for _, appID := range r.resourceAppIDs() {
		rra := graph.RequiredResourceAccess{ResourceAppID: appID}
		for _, p := range r.spec.Permissions {
			if p.ResourceAppID == appID {
				rra.ResourceAccess = append(rra.ResourceAccess, graph.ResourceAccess{ID: r.ids[permKey(appID, p.Name, p.Type)], Type: p.Type.GraphType()})
			}
		}
		out = append(out, rra)
	}
	return out
}

func (r *applyRun) desiredTags(existing []string) []string {
	var out []string
	for _, tag := range existing {
		// Our own tags are rewritten below; other tags are kept.
		if tag == profile.Tag || strings.HasPrefix(tag, profile.Tag+":") {
			continue
		}
		out = append(out, tag)
	}
	return append(out, r.spec.Tags...)
}

func (r *applyRun) ensureApp(ctx context.Context) {
	s := r.spec
	idToken := false
	if s.IDTokenIssuance != nil {
		idToken = *s.IDTokenIssuance
	}
	if r.t.App == nil {
		target := fmt.Sprintf("%q (%s)", s.DisplayName, s.Audience)
		r.running(ActCreateApp, target)
		app, err := r.env.Graph.CreateApplication(ctx, graph.Application{
			DisplayName:            s.DisplayName,
			SignInAudience:         s.SignInAudience,
			Tags:                   r.desiredTags(nil),
			IdentifierURIs:         s.IdentifierURIs,
			Web:                    graph.Web{RedirectURIs: s.RedirectURIs, EnableIDTokenIssuance: idToken},
			RequiredResourceAccess: r.requiredResourceAccess(),
		})
		if err != nil {
			r.step(ActCreateApp, target, output.StepFailed, err.Error())
			r.fail(fmt.Errorf("creating the app registration: %w", err))
			return
		}
		r.app = app
		r.step(ActCreateApp, target, output.StepDone, "client ID "+app.AppID)
		return
	}

	cur := *r.t.App
	r.app = cur
	var u graph.ApplicationUpdate
	var changes []string
	if cur.DisplayName != s.DisplayName && s.AppID != "" {
		u.DisplayName = &s.DisplayName
		changes = append(changes, "display name")
	}
	if cur.SignInAudience != s.SignInAudience {
		u.SignInAudience = &s.SignInAudience
		changes = append(changes, "account type")
	}
	if tags := r.desiredTags(cur.Tags); !sameSet(tags, cur.Tags) {
		u.Tags = &tags
		changes = append(changes, "tags")
	}
	if uris := union(cur.IdentifierURIs, s.IdentifierURIs); len(uris) != len(cur.IdentifierURIs) {
		u.IdentifierURIs = &uris
		changes = append(changes, "identifier URIs")
	}
	web := cur.Web
	web.RedirectURIs = union(cur.Web.RedirectURIs, s.RedirectURIs)
	if s.IDTokenIssuance != nil {
		web.EnableIDTokenIssuance = *s.IDTokenIssuance
	}
	if len(web.RedirectURIs) != len(cur.Web.RedirectURIs) || web.EnableIDTokenIssuance != cur.Web.EnableIDTokenIssuance {
		u.Web = &web
		changes = append(changes, "web redirect URIs")
	}
	if rra := r.requiredResourceAccess(); !sameAccess(rra, cur.RequiredResourceAccess) {
		u.RequiredResourceAccess = &rra
		changes = append(changes, "API permissions")
	}
	target := fmt.Sprintf("%q (client ID %s)", cur.DisplayName, cur.AppID)
	if len(changes) == 0 {
		r.step(ActUpdateApp, target, output.StepSkipped, "already as the profile says")
		return
	}
	r.running(ActUpdateApp, target)
	if err := r.env.Graph.UpdateApplication(ctx, cur.ID, u); err != nil {
		r.step(ActUpdateApp, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("updating the app registration: %w", err))
		return
	}
	r.step(ActUpdateApp, target, output.StepDone, "updated "+strings.Join(changes, ", "))
}

func (r *applyRun) ensureServicePrincipal(ctx context.Context) {
	target := fmt.Sprintf("enterprise application for %q", r.spec.DisplayName)
	if r.sp.ID != "" {
		r.step(ActServicePrincipal, target, output.StepSkipped, "exists")
		r.listExisting(ctx)
		return
	}
	r.running(ActServicePrincipal, target)
	sp, err := r.env.Graph.CreateServicePrincipal(ctx, r.app.AppID, r.spec.Tags)
	if graph.IsConflict(err) {
		// Created by a retried request, or by someone else in the meantime.
		sp, err = r.env.Graph.ServicePrincipalByAppID(ctx, r.app.AppID)
		if err == nil {
			r.sp = sp
			r.step(ActServicePrincipal, target, output.StepSkipped, "exists")
			r.listExisting(ctx)
			return
		}
	}
	if err != nil {
		r.step(ActServicePrincipal, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("creating the service principal: %w", err))
		return
	}
	r.sp = sp
	r.spNew = true
	r.step(ActServicePrincipal, target, output.StepDone, "")
}

// listExisting reads what an existing service principal already has, so
// that only the missing assignments are made.
func (r *applyRun) listExisting(ctx context.Context) {
	r.parallel(ctx,
		func(ctx context.Context) {
			a, err := r.env.Graph.AppRoleAssignments(ctx, r.sp.ID)
			if err != nil {
				r.fail(fmt.Errorf("reading the app's consented permissions: %w", err))
				return
			}
			r.mu.Lock()
			r.assignments = a
			r.mu.Unlock()
		},
		func(ctx context.Context) {
			if len(r.delegatedAll()) == 0 {
				return
			}
			g, err := r.env.Graph.PermissionGrants(ctx, r.sp.ID)
			if err != nil {
				r.fail(fmt.Errorf("reading the app's delegated permission grants: %w", err))
				return
			}
			r.mu.Lock()
			r.grants = g
			r.mu.Unlock()
		},
		func(ctx context.Context) {
			if len(r.spec.Roles) == 0 {
				return
			}
			ra, err := r.env.Graph.RoleAssignments(ctx, r.sp.ID)
			if err != nil {
				r.fail(fmt.Errorf("reading the app's directory roles: %w", err))
				return
			}
			r.mu.Lock()
			r.roleAssigns = ra
			r.mu.Unlock()
		},
	)
}

func (r *applyRun) delegatedAll() []profile.Permission {
	var out []profile.Permission
	for _, p := range r.spec.Permissions {
		if p.Type == catalog.Delegated {
			out = append(out, p)
		}
	}
	return out
}

func (r *applyRun) ensureResource(ctx context.Context, appID string) {
	name := resourceName(appID)
	r.running(ActServicePrincipal, name)
	sp, err := r.env.Graph.CreateServicePrincipal(ctx, appID, nil)
	if graph.IsConflict(err) {
		sp, err = r.env.Graph.ServicePrincipalByAppID(ctx, appID)
	}
	if err != nil {
		r.step(ActServicePrincipal, name, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("adding the %s service principal to the tenant: %w", name, err))
		return
	}
	r.mu.Lock()
	r.t.Resources[appID] = sp
	r.mu.Unlock()
	r.step(ActServicePrincipal, name, output.StepDone, "added Microsoft's "+name+" to the tenant")
}

func (r *applyRun) ensureCredential(ctx context.Context) {
	switch r.spec.Credential {
	case profile.CredentialSecret:
		r.ensureSecret(ctx)
	case profile.CredentialCertificate:
		r.ensureCertificate(ctx)
	}
}

func (r *applyRun) ensureSecret(ctx context.Context) {
	target := "client secret"
	if !r.opt.NewCredential {
		for _, pc := range r.app.PasswordCredentials {
			if pc.EndDateTime.After(r.now.Add(secretGrace)) {
				end := pc.EndDateTime
				r.secretExpiry = &end
				r.step(ActAddSecret, target, output.StepSkipped,
					fmt.Sprintf("a valid secret exists (…%s, expires %s); not shown again — use rotate-secret for a new one", pc.Hint, end.Format("2006-01-02")))
				return
			}
		}
	}
	end := r.spec.SecretExpiry.AddTo(r.now)
	name := fmt.Sprintf("entra-link %s %s", r.spec.Profile.ID, r.now.Format("2006-01-02"))
	r.running(ActAddSecret, target)
	// Once requested, the secret must reach the user: the request is not
	// cancelled by Ctrl-C, only bounded in time.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	pc, err := r.env.Graph.AddPassword(sctx, r.app.ID, name, end)
	if err != nil {
		r.step(ActAddSecret, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("adding the client secret: %w", err))
		return
	}
	exp := pc.EndDateTime.UTC()
	r.mu.Lock()
	r.res.ClientSecret = pc.SecretText
	r.res.ClientSecretKeyID = pc.KeyID
	r.res.ClientSecretExpiresAt = &exp
	r.secretExpiry = &exp
	r.mu.Unlock()
	if r.env.OnSecret != nil {
		r.env.OnSecret(r.snapshot())
	}
	r.step(ActAddSecret, target, output.StepDone, "expires "+exp.Format("2006-01-02"))
}

// snapshot renders the result as it stands, for early delivery.
func (r *applyRun) snapshot() *output.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *r.res
	c.Steps = append([]output.Step(nil), r.res.Steps...)
	r.fillHandover(&c)
	return &c
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // the thumbprint is defined as SHA-1
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func keyThumbprint(k graph.KeyCredential) string {
	if len(k.Key) > 0 {
		return thumbprint(k.Key)
	}
	return strings.ToUpper(hex.EncodeToString(k.CustomKeyIdentifier))
}

func (r *applyRun) ensureCertificate(ctx context.Context) {
	s := r.spec
	var cert *certs.Certificate
	action := ActUploadCertificate
	if s.CertificateFile != "" {
		c, err := certs.Load(s.CertificateFile, r.now)
		if err != nil {
			r.step(action, s.CertificateFile, output.StepFailed, err.Error())
			r.fail(err)
			return
		}
		cert = c
		for _, k := range r.app.KeyCredentials {
			if strings.EqualFold(keyThumbprint(k), cert.Thumbprint) {
				r.recordCert(cert)
				r.step(action, s.CertificateFile, output.StepSkipped, "already on the app (thumbprint "+cert.Thumbprint+")")
				return
			}
		}
	} else {
		action = ActGenerateCert
		if !r.opt.NewCredential {
			for _, k := range r.app.KeyCredentials {
				if k.EndDateTime.After(r.now.Add(secretGrace)) {
					r.step(action, s.CertificateOut, output.StepSkipped,
						fmt.Sprintf("a valid certificate exists (thumbprint %s, expires %s); use --new-credential for another", keyThumbprint(k), k.EndDateTime.Format("2006-01-02")))
					return
				}
			}
		}
		r.running(action, s.CertificateOut)
		kp, err := certs.Generate("CN="+s.DisplayName+" (entra-link)", certificateLifetime.AddTo(r.now).Sub(r.now), r.now)
		if err != nil {
			r.step(action, s.CertificateOut, output.StepFailed, err.Error())
			r.fail(fmt.Errorf("generating a key pair: %w", err))
			return
		}
		// The private key is written before the certificate is uploaded, so
		// the app never trusts a key nobody has.
		w, err := kp.WriteFiles(s.CertificateOut, s.Profile.ID, r.opt.Force)
		if err != nil {
			r.step(action, s.CertificateOut, output.StepFailed, err.Error())
			r.fail(fmt.Errorf("writing the key pair: %w", err))
			return
		}
		r.mu.Lock()
		r.res.CertificateKeyPath, r.res.CertificateCertPath, r.res.CertificatePFXPath = w.KeyPath, w.CertPath, w.PFXPath
		r.res.CertificateBundlePath = w.BundlePath
		r.mu.Unlock()
		cert = &kp.Certificate
		r.step(action, s.CertificateOut, output.StepDone, "wrote "+w.KeyPath+" (0600), "+w.CertPath+", "+w.PFXPath+", "+w.BundlePath)
		action = ActUploadCertificate
	}

	target := "certificate " + cert.Thumbprint
	r.running(action, target)
	keys := r.app.KeyCredentials
	if len(keys) > 0 {
		// PATCH replaces the collection: read the existing certificates with
		// their keys so that none is dropped.
		full, err := r.env.Graph.ApplicationByID(ctx, r.app.ID)
		if err != nil {
			r.step(action, target, output.StepFailed, err.Error())
			r.fail(fmt.Errorf("reading the app's certificates: %w", err))
			return
		}
		keys = full.KeyCredentials
	}
	newKey := graph.KeyCredential{
		DisplayName:         fmt.Sprintf("entra-link %s %s", r.spec.Profile.ID, r.now.Format("2006-01-02")),
		Type:                "AsymmetricX509Cert",
		Usage:               "Verify",
		Key:                 cert.DER,
		CustomKeyIdentifier: cert.CustomKeyIdentifier(),
		StartDateTime:       cert.NotBefore,
		EndDateTime:         cert.NotAfter,
	}
	all := append(append([]graph.KeyCredential(nil), keys...), newKey)
	if err := r.env.Graph.UpdateApplication(ctx, r.app.ID, graph.ApplicationUpdate{KeyCredentials: &all}); err != nil {
		r.step(action, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("uploading the certificate: %w", err))
		return
	}
	r.recordCert(cert)
	r.step(action, target, output.StepDone, fmt.Sprintf("expires %s; %d other certificate(s) kept", cert.NotAfter.Format("2006-01-02"), len(keys)))
}

func (r *applyRun) recordCert(c *certs.Certificate) {
	end := c.NotAfter.UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.CertificateThumbprint = c.Thumbprint
	r.res.CertificateExpiresAt = &end
}

func (r *applyRun) markConsented(p profile.Permission) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.res.Permissions {
		ps := &r.res.Permissions[i]
		if ps.Resource == p.Resource && ps.Name == p.Name && ps.Type == string(p.Type) {
			ps.Consented = true
		}
	}
}

func (r *applyRun) addPending(reason string, consent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.pending, reason) {
		r.pending = append(r.pending, reason)
	}
	if consent {
		r.consentPending = true
	}
}

func (r *applyRun) ensureAppRole(ctx context.Context, p profile.Permission) {
	target := fmt.Sprintf("%s · %s", p.Resource, p.Name)
	res, ok := r.resource(p.ResourceAppID)
	if !ok {
		r.step(ActGrantAppRole, target, output.StepNotRun, "the resource's service principal is missing")
		return
	}
	roleID := r.ids[permKey(p.ResourceAppID, p.Name, p.Type)]
	for _, a := range r.assignments {
		if strings.EqualFold(a.ResourceID, res.ID) && strings.EqualFold(a.AppRoleID, roleID) {
			r.markConsented(p)
			r.step(ActGrantAppRole, target, output.StepSkipped, "already consented")
			return
		}
	}
	can := r.t.Can.ConsentOther
	if p.ResourceAppID == catalog.GraphAppID {
		can = r.t.Can.ConsentGraph
	}
	if !can {
		r.addPending("admin consent for the application permissions", true)
		r.step(ActGrantAppRole, target, output.StepPending, "needs an admin who may consent (see consentUrl)")
		return
	}
	r.running(ActGrantAppRole, target)
	_, err := r.env.Graph.AssignAppRole(ctx, graph.AppRoleAssignment{PrincipalID: r.sp.ID, ResourceID: res.ID, AppRoleID: roleID})
	switch {
	case err == nil, graph.IsConflict(err):
		r.markConsented(p)
		r.step(ActGrantAppRole, target, output.StepDone, "")
	case graph.IsForbidden(err):
		r.addPending("admin consent for the application permissions", true)
		r.step(ActGrantAppRole, target, output.StepPending, "not allowed for the signed-in identity (see consentUrl)")
	default:
		r.step(ActGrantAppRole, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("granting %s: %w", target, err))
	}
}

func (r *applyRun) resource(appID string) (graph.ServicePrincipal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sp, ok := r.t.Resources[appID]
	return sp, ok
}

func (r *applyRun) ensureGrant(ctx context.Context, appID string, scopes []string) {
	name := resourceName(appID)
	target := fmt.Sprintf("%s · %s (for all users)", name, strings.Join(scopes, " "))
	res, ok := r.resource(appID)
	if !ok {
		r.step(ActGrantDelegated, target, output.StepNotRun, "the resource's service principal is missing")
		return
	}
	markAll := func() {
		for _, p := range r.spec.Permissions {
			if p.ResourceAppID == appID && p.Type == catalog.Delegated {
				r.markConsented(p)
			}
		}
	}
	var existing *graph.PermissionGrant
	for i, g := range r.grants {
		if strings.EqualFold(g.ResourceID, res.ID) && g.ConsentType == "AllPrincipals" {
			existing = &r.grants[i]
		}
	}
	var merged string
	if existing != nil {
		have := strings.Fields(existing.Scope)
		all := union(have, scopes)
		if len(all) == len(have) {
			markAll()
			r.step(ActGrantDelegated, target, output.StepSkipped, "already consented")
			return
		}
		merged = strings.Join(all, " ")
	}
	if !r.t.Can.GrantDelegated {
		r.addPending("tenant-wide consent for the delegated permissions", true)
		r.step(ActGrantDelegated, target, output.StepPending, "needs an admin who may consent (see consentUrl)")
		return
	}
	r.running(ActGrantDelegated, target)
	var err error
	if existing != nil {
		// Scopes granted before (by anyone) are kept: the grant is widened, never narrowed.
		err = r.env.Graph.UpdatePermissionGrantScope(ctx, existing.ID, merged)
	} else {
		_, err = r.env.Graph.CreatePermissionGrant(ctx, graph.PermissionGrant{
			ClientID: r.sp.ID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: strings.Join(scopes, " "),
		})
		if graph.IsConflict(err) {
			err = r.mergeAfterConflict(ctx, res.ID, scopes)
		}
	}
	switch {
	case err == nil:
		markAll()
		r.step(ActGrantDelegated, target, output.StepDone, "")
	case graph.IsForbidden(err):
		r.addPending("tenant-wide consent for the delegated permissions", true)
		r.step(ActGrantDelegated, target, output.StepPending, "not allowed for the signed-in identity (see consentUrl)")
	default:
		r.step(ActGrantDelegated, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("granting %s: %w", target, err))
	}
}

// mergeAfterConflict handles a grant that appeared between our read and
// our create (or a create that was retried after succeeding).
func (r *applyRun) mergeAfterConflict(ctx context.Context, resourceID string, scopes []string) error {
	grants, err := r.env.Graph.PermissionGrants(ctx, r.sp.ID)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if strings.EqualFold(g.ResourceID, resourceID) && g.ConsentType == "AllPrincipals" {
			have := strings.Fields(g.Scope)
			all := union(have, scopes)
			if len(all) == len(have) {
				return nil
			}
			return r.env.Graph.UpdatePermissionGrantScope(ctx, g.ID, strings.Join(all, " "))
		}
	}
	return errors.New("the delegated permission grant conflicts with one that cannot be found")
}

func (r *applyRun) ensureRole(ctx context.Context, role profile.Role) {
	target := role.Name
	mark := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := range r.res.DirectoryRoles {
			if r.res.DirectoryRoles[i].Name == role.Name {
				r.res.DirectoryRoles[i].Assigned = true
			}
		}
	}
	for _, a := range r.roleAssigns {
		if strings.EqualFold(a.RoleDefinitionID, role.TemplateID) && (a.DirectoryScopeID == "/" || a.DirectoryScopeID == "") {
			mark()
			r.step(ActAssignRole, target, output.StepSkipped, "already assigned")
			return
		}
	}
	if !r.t.Can.AssignRoles {
		r.addPending(fmt.Sprintf("a Privileged Role Administrator must assign the %s role to the app (Entra admin center > Roles and administrators > %s > Add assignments)", role.Name, role.Name), false)
		r.step(ActAssignRole, target, output.StepPending, "needs a Privileged Role Administrator or Global Administrator")
		return
	}
	r.running(ActAssignRole, target)
	_, err := r.env.Graph.AssignDirectoryRole(ctx, r.sp.ID, role.TemplateID)
	switch {
	case err == nil, graph.IsConflict(err):
		mark()
		r.step(ActAssignRole, target, output.StepDone, "")
	case graph.IsForbidden(err):
		r.addPending(fmt.Sprintf("a Privileged Role Administrator must assign the %s role to the app", role.Name), false)
		r.step(ActAssignRole, target, output.StepPending, "not allowed for the signed-in identity")
	default:
		r.step(ActAssignRole, target, output.StepFailed, err.Error())
		r.fail(fmt.Errorf("assigning %s: %w", role.Name, err))
	}
}

// finish completes the result and picks the error that sets the exit code.
func (r *applyRun) finish(ctxErr error) (*output.Result, error) {
	r.mu.Lock()
	failed := append([]error(nil), r.failed...)
	pending := append([]string(nil), r.pending...)
	consentPending := r.consentPending
	r.mu.Unlock()

	r.fillHandover(r.res)
	r.fillNotRun()
	sortSteps(r.res.Steps)
	if consentPending && r.app.AppID != "" {
		redirect := ""
		if len(r.spec.RedirectURIs) > 0 {
			redirect = r.spec.RedirectURIs[0]
		}
		if redirect != "" {
			r.res.ConsentURL = r.env.Cloud.AdminConsentURL(r.t.Org.ID, r.app.AppID, redirect)
		} else {
			// The v2 admin-consent endpoint needs a registered redirect URI;
			// without one, the portal's API permissions page is the way.
			r.res.ConsentURL = r.env.Cloud.PortalConsentURL(r.app.AppID)
		}
	}
	switch {
	case ctxErr != nil:
		r.res.Error = "interrupted: the steps marked as done were applied, the others were not; run the same command again to finish"
		return r.res, ctxErr
	case len(failed) > 0:
		var ue *UsageError
		if len(failed) == 1 && errors.As(failed[0], &ue) {
			r.res.Error = ue.Msg
			return r.res, ue
		}
		err := &StepsError{Failed: failed}
		r.res.Error = err.Error() + ". Steps marked as done were applied; run the same command again to finish the rest."
		return r.res, err
	case len(pending) > 0:
		r.res.Warnings = append(r.res.Warnings, pending...)
		return r.res, &PendingError{Reasons: pending}
	}
	return r.res, nil
}

// fillNotRun adds the planned steps that never ran (after an error or an
// interrupt), so that the output says what was not done.
func (r *applyRun) fillNotRun() {
	r.mu.Lock()
	defer r.mu.Unlock()
	ran := func(actions []string, target string) bool {
		for _, st := range r.res.Steps {
			if slices.Contains(actions, st.Action) && (target == "" || strings.HasPrefix(st.Target, target)) {
				return true
			}
		}
		return false
	}
	add := func(action, target string) {
		r.res.Steps = append(r.res.Steps, output.Step{Action: action, Target: target, Status: output.StepNotRun})
	}
	if !ran([]string{ActCreateApp, ActUpdateApp}, "") {
		add(ActFindOrCreateApp, fmt.Sprintf("%q", r.spec.DisplayName))
	}
	if !ran([]string{ActServicePrincipal}, "enterprise application") {
		add(ActServicePrincipal, fmt.Sprintf("enterprise application for %q", r.spec.DisplayName))
	}
	switch r.spec.Credential {
	case profile.CredentialSecret:
		if !ran([]string{ActAddSecret}, "") {
			add(ActAddSecret, "client secret")
		}
	case profile.CredentialCertificate:
		if !ran([]string{ActUploadCertificate, ActGenerateCert}, "") {
			add(ActUploadCertificate, "certificate")
		}
	}
	for _, p := range r.spec.Permissions {
		if p.Type == catalog.Application {
			if t := fmt.Sprintf("%s · %s", p.Resource, p.Name); !ran([]string{ActGrantAppRole}, t) {
				add(ActGrantAppRole, t)
			}
		}
	}
	for _, appID := range r.resourceAppIDs() {
		if scopes := r.delegatedScopes(appID); len(scopes) > 0 {
			t := fmt.Sprintf("%s · %s (for all users)", resourceName(appID), strings.Join(scopes, " "))
			if !ran([]string{ActGrantDelegated}, t) {
				add(ActGrantDelegated, t)
			}
		}
	}
	for _, role := range r.spec.Roles {
		if !ran([]string{ActAssignRole}, role.Name) {
			add(ActAssignRole, role.Name)
		}
	}
}

// fillHandover renders the product's hand-over fields and next steps.
func (r *applyRun) fillHandover(res *output.Result) {
	if res.ClientID == "" {
		return
	}
	vars := r.vars(res)
	lookup := func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		if v := r.spec.Values[name]; len(v) > 0 {
			return strings.Join(v, ", ")
		}
		return ""
	}
	h := &output.Handover{}
	for _, f := range r.spec.Profile.Handover.Fields {
		h.Fields = append(h.Fields, output.HandoverField{Label: f.Label, Value: profile.Render(f.Value, lookup), Secret: strings.Contains(f.Value, "{{clientSecret}}")})
	}
	res.Handover = h
	res.HandoverFormat = r.spec.Profile.Handover.Format
	res.NextSteps = nil
	for _, n := range r.spec.Profile.Handover.NextSteps {
		res.NextSteps = append(res.NextSteps, profile.Render(n, lookup))
	}
}

func (r *applyRun) vars(res *output.Result) map[string]string {
	v := map[string]string{
		"clientId":      res.ClientID,
		"tenantId":      res.TenantID,
		"tenantDomain":  res.TenantDomain,
		"cloud":         r.env.Cloud.Name,
		"cloudTitle":    r.env.Cloud.Title,
		"displayName":   res.DisplayName,
		"authorityHost": r.env.Cloud.AuthorityHost,
		"graphEndpoint": r.env.Cloud.GraphEndpoint,
	}
	switch {
	case res.ClientSecret != "":
		v["clientSecret"] = res.ClientSecret
	case r.spec.Credential == profile.CredentialSecret:
		v["clientSecret"] = "(unchanged: the secret stored earlier; not shown again)"
	default:
		v["clientSecret"] = "(none)"
	}
	if r.secretExpiry != nil {
		v["clientSecretExpiresAt"] = r.secretExpiry.Format("2006-01-02")
	}
	if res.CertificateThumbprint != "" {
		v["certificateThumbprint"] = res.CertificateThumbprint
	}
	if res.CertificateExpiresAt != nil {
		v["certificateExpiresAt"] = res.CertificateExpiresAt.Format("2006-01-02")
	}
	return v
}

func union(have, want []string) []string {
	out := append([]string(nil), have...)
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(h, w) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, w)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}

func sameAccess(a, b []graph.RequiredResourceAccess) bool {
	flat := func(rs []graph.RequiredResourceAccess) []string {
		var out []string
		for _, r := range rs {
			for _, ra := range r.ResourceAccess {
				out = append(out, strings.ToLower(r.ResourceAppID+"/"+ra.Type+"/"+ra.ID))
			}
		}
		return out
	}
	return sameSet(flat(a), flat(b))
}

var stepRank = map[string]int{
	ActFindOrCreateApp: 0, ActCreateApp: 0, ActUpdateApp: 0, ActServicePrincipal: 1,
	ActAddSecret: 2, ActGenerateCert: 2, ActUploadCertificate: 3,
	ActGrantAppRole: 4, ActGrantDelegated: 5, ActAssignRole: 6,
}

// sortSteps puts steps in plan order; concurrent steps finish in any order.
func sortSteps(steps []output.Step) {
	sort.SliceStable(steps, func(i, j int) bool {
		ri, rj := stepRank[steps[i].Action], stepRank[steps[j].Action]
		if ri != rj {
			return ri < rj
		}
		return steps[i].Target < steps[j].Target
	})
}
