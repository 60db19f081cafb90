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
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

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

// PreconditionError means a check of the plan failed: the run did not
// start, and nothing was changed (exit 2).
type PreconditionError struct{ Problems []string }

func (e *PreconditionError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0] + " (nothing was changed)"
	}
	return "nothing was changed, because:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// addPasswordTimeout bounds the addPassword request, which runs outside the
// caller's cancellation: once requested, a secret must reach the user.
const addPasswordTimeout = 2 * time.Minute

// run is one Apply of a plan: what the steps made so far, and their outcomes.
type run struct {
	env *Env
	p   *Plan
	now time.Time

	mu             sync.Mutex
	res            *output.Result
	status         map[string]string
	outcome        map[string]string
	failed         []error
	pending        []string
	consentPending bool

	app       graph.Application
	sp        *graph.ServicePrincipal
	resources map[string]graph.ServicePrincipal
	keyPair   *certs.KeyPair
}

// pendingError is a step the signed-in identity may not do: an admin must.
type pendingError struct {
	reason  string // for the result's warnings and PendingError
	words   string // the step's outcome
	consent bool   // the consent URL helps
}

func (e *pendingError) Error() string { return e.words }

// Apply executes the plan and nothing else: round 0 on this machine (key
// generation), then each round of requests, the steps of a round
// concurrently. A step runs only when the steps it waits for succeeded.
// The result reports each step's outcome against the plan; it is returned
// also together with an error. A created secret is in the result (and was
// handed to Env.OnSecret) whatever happens after.
func Apply(ctx context.Context, env *Env, p *Plan) (*output.Result, error) {
	if p.Offline() {
		return nil, errors.New("setup: a plan made without reading the tenant cannot be applied")
	}
	if probs := p.Problems(); len(probs) > 0 {
		return nil, &PreconditionError{Problems: probs}
	}
	r := newRun(env, p)
	for _, rec := range p.stale {
		_ = rec.Settle() // nothing of it is left in the tenant
	}
	for _, s := range p.Steps {
		switch {
		case s.Action == ActCheck:
			r.set(s, output.StepOK, "", false)
		case !s.Executable() && (s.Action == ActKeep || s.Action == ActExtra):
			// Shown in the plan; progress reports what happens.
			r.set(s, output.StepSkipped, "", false)
		}
	}
	for round := 0; round <= p.rounds; round++ {
		var steps []*Step
		for _, s := range p.Steps {
			if s.Executable() && s.Round == round {
				steps = append(steps, s)
			}
		}
		if len(steps) == 0 {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		var g crash.Group // errgroup would let a panic end the process before the secret is delivered
		for _, s := range steps {
			g.Go(func() { r.exec(ctx, s) })
		}
		g.Wait()
		if round == 0 && len(r.failed) > 0 {
			// Local work failed: the tenant stays untouched.
			break
		}
	}
	return r.finish(ctx.Err())
}

func newRun(env *Env, p *Plan) *run {
	t, s := p.Tenant, p.Spec
	r := &run{env: env, p: p, now: p.Options.Now, status: map[string]string{}, outcome: map[string]string{},
		resources: map[string]graph.ServicePrincipal{}}
	for k, v := range t.Resources {
		r.resources[k] = v
	}
	r.res = &output.Result{
		Sandbox:      p.Options.Sandbox,
		Profile:      s.Profile.ID,
		Product:      s.Profile.Product,
		Cloud:        env.Cloud.Name,
		TenantID:     t.Org.ID,
		TenantName:   t.Org.DisplayName,
		TenantDomain: t.Org.InitialDomain(),
		DisplayName:  p.displayName(),
		Title:        p.Title,
		Warnings:     append([]string(nil), p.Warnings...),
	}
	if env.Cloud.Name != "global" {
		r.res.AuthorityHost = env.Cloud.AuthorityHost
	}
	if t.App != nil {
		r.app = *t.App
		r.recordApp()
	}
	if t.SP != nil {
		sp := *t.SP
		r.sp = &sp
		r.res.ServicePrincipalID = sp.ID
	}
	if k := p.KeptSecret; k != nil {
		r.res.KeptSecret = &output.KeptSecret{KeyID: k.KeyID, Hint: k.Hint, ExpiresAt: k.End.UTC()}
	}
	r.res.Permissions, r.res.DirectoryRoles = Statuses(s)
	return r
}

func (r *run) recordApp() {
	r.res.ClientID = r.app.AppID
	r.res.ApplicationObjectID = r.app.ID
	r.res.PortalURL = r.env.Cloud.PortalAppURL(r.app.AppID)
}

func (r *run) statusOf(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[id]
}

// set records a step's outcome (and that of the steps it carries) and
// reports it.
func (r *run) set(s *Step, status, outcome string, report bool) {
	r.mu.Lock()
	r.status[s.ID], r.outcome[s.ID] = status, outcome
	var parts []*Step
	for _, o := range r.p.Steps {
		if o.PartOf == s.ID && o.changes() {
			r.status[o.ID], r.outcome[o.ID] = status, ""
			parts = append(parts, o)
		}
	}
	r.mu.Unlock()
	if !report {
		return
	}
	r.env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: status, Detail: outcome})
	for _, o := range parts {
		r.env.emit(Event{ID: o.ID, Action: string(o.Action), Target: o.Target, Status: status})
	}
}

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, err)
}

func (r *run) addPending(reason string, consent bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.pending, reason) {
		r.pending = append(r.pending, reason)
	}
	if consent {
		r.consentPending = true
	}
}

// pendingFor is what a step the plan marked pending leaves to an admin.
func (r *run) pendingFor(s *Step) *pendingError {
	pe := &pendingError{reason: s.Pending, words: s.Pending}
	if s.Action == ActRemove {
		return pe
	}
	switch s.Kind {
	case KindConsent:
		pe.reason, pe.consent = "admin consent for the application permissions", true
	case KindGrant:
		pe.reason, pe.consent = "tenant-wide consent for the delegated permissions", true
	case KindRole:
		if role, ok := r.p.stepRoles[s.ID]; ok {
			pe.reason = fmt.Sprintf("a Privileged Role Administrator must assign the %s role to the app (Entra admin center > Roles and administrators > %s > Add assignments)", role.Name, role.Name)
		}
	}
	return pe
}

func (r *run) exec(ctx context.Context, s *Step) {
	for _, dep := range s.After {
		if st := r.statusOf(dep); st != output.StepDone && st != output.StepSkipped {
			d := r.p.Step(dep)
			why := "did not run"
			if st != "" && st != output.StepNotRun {
				why = st
			}
			r.set(s, output.StepNotRun, fmt.Sprintf("waits for %s, which %s", d.Target, wordsFor(why)), true)
			return
		}
	}
	if s.Pending != "" {
		pe := r.pendingFor(s)
		r.addPending(pe.reason, pe.consent)
		r.set(s, output.StepPending, pe.words, true)
		return
	}
	if ctx.Err() != nil {
		r.set(s, output.StepNotRun, "the run was stopped before this step", true)
		return
	}
	r.env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
	outcome, err := s.payload.apply(ctx, r, s)
	err = r.p.translate(s, err)
	var pe *pendingError
	switch {
	case err == nil:
		r.set(s, output.StepDone, outcome, true)
	case errors.As(err, &pe):
		r.addPending(pe.reason, pe.consent)
		r.set(s, output.StepPending, pe.words, true)
	case ctx.Err() != nil:
		// Stopped while in flight: say so, not the cancelled request's error.
		words := "the run was stopped while this step was in flight; run the same command again to finish"
		var sw *StoppedWaitingError
		if errors.As(err, &sw) {
			words = sw.Msg
		}
		r.set(s, output.StepInterrupted, words, true)
	default:
		r.set(s, output.StepFailed, err.Error(), true)
		var ue *UsageError
		if errors.As(err, &ue) {
			r.fail(ue)
			return
		}
		r.fail(fmt.Errorf("%s %s: %w", output.ActionWord(string(s.Action)), s.Target, err))
	}
}

func wordsFor(status string) string {
	switch status {
	case output.StepFailed:
		return "failed"
	case output.StepPending:
		return "needs an admin"
	case output.StepInterrupted:
		return "was interrupted"
	}
	return status
}

// finish completes the result and picks the error that sets the exit code.
func (r *run) finish(ctxErr error) (*output.Result, error) {
	r.mu.Lock()
	for _, s := range r.p.Steps {
		if r.status[s.ID] == "" {
			r.status[s.ID] = output.StepNotRun
			if ctxErr != nil {
				r.outcome[s.ID] = "the run was stopped before this step"
			} else if s.PartOf == "" {
				r.outcome[s.ID] = "the run stopped before this step"
			}
		}
	}
	r.res.Steps = r.stepsNow()
	r.markGranted()
	for _, s := range r.p.Steps {
		if s.Kind == KindClientSecret && s.Action == ActRemove && r.status[s.ID] == output.StepDone {
			r.res.Warnings = append(r.res.Warnings, leftoverRemoved(r.res.ClientSecret != ""))
			break
		}
	}
	failed := append([]error(nil), r.failed...)
	pending := append([]string(nil), r.pending...)
	consentPending := r.consentPending
	r.mu.Unlock()

	r.fillHandover(r.res)
	if consentPending && r.app.AppID != "" {
		redirect := ""
		if len(r.p.Spec.RedirectURIs) > 0 {
			redirect = r.p.Spec.RedirectURIs[0]
		}
		if redirect != "" {
			r.res.ConsentURL = r.env.Cloud.AdminConsentURL(r.p.Tenant.Org.ID, r.app.AppID, redirect)
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
		if r.status["app"] != output.StepDone && r.status["app"] != output.StepSkipped && r.p.Tenant.App == nil {
			r.res.Error = err.Error() + ". Nothing in the tenant was changed."
		}
		return r.res, err
	case len(pending) > 0:
		r.res.Warnings = append(r.res.Warnings, pending...)
		return r.res, &PendingError{Reasons: pending}
	}
	return r.res, nil
}

// stepsNow is the plan's steps with the outcomes so far. Callers hold mu.
func (r *run) stepsNow() []output.Step {
	steps := r.p.Output()
	for i, s := range r.p.Steps {
		steps[i].Status, steps[i].Outcome = r.status[s.ID], r.outcome[s.ID]
	}
	return steps
}

// markGranted sets consented/assigned from the steps that provide them.
// Callers hold mu.
func (r *run) markGranted() {
	ok := func(id string) bool {
		st := r.status[id]
		return st == output.StepDone || (st == output.StepSkipped && r.p.Step(id).Action == ActKeep)
	}
	for id, perms := range r.p.stepPerms {
		if !ok(id) {
			continue
		}
		for _, p := range perms {
			for i := range r.res.Permissions {
				ps := &r.res.Permissions[i]
				if ps.Resource == p.Resource && ps.Name == p.Name && ps.Type == string(p.Type) {
					ps.Consented = true
				}
			}
		}
	}
	for id, role := range r.p.stepRoles {
		if !ok(id) {
			continue
		}
		for i := range r.res.DirectoryRoles {
			if r.res.DirectoryRoles[i].Name == role.Name {
				r.res.DirectoryRoles[i].Assigned = true
			}
		}
	}
}

// snapshot is the result as it stands, for early delivery of a secret.
func (r *run) snapshot() *output.Result {
	r.mu.Lock()
	c := *r.res
	c.Warnings = append([]string(nil), r.res.Warnings...)
	c.Steps = r.stepsNow()
	r.mu.Unlock()
	r.fillHandover(&c)
	return &c
}

func (r *run) fillHandover(res *output.Result) {
	if res.ClientID == "" {
		return
	}
	fillHandover(res, r.p.Spec, r.env, r.p.KeptSecret, r.p.KeptCertificate)
}

func (r *run) appObject() graph.Application {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.app
}

func (r *run) principal() (graph.ServicePrincipal, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sp == nil {
		return graph.ServicePrincipal{}, errors.New("the app has no service principal")
	}
	return *r.sp, nil
}

func (r *run) resource(appID string) (graph.ServicePrincipal, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sp, ok := r.resources[strings.ToLower(appID)]
	if !ok {
		return sp, fmt.Errorf("the tenant has no %s service principal", resourceName(appID))
	}
	return sp, nil
}

// --- the payloads: one per kind of step ---

// offlineOnly stands in for the payload of an offline plan's step, which
// orders the plan into rounds but is never applied.
type offlineOnly struct{}

func (offlineOnly) apply(context.Context, *run, *Step) (string, error) {
	return "", errors.New("a plan made without reading the tenant cannot be applied")
}

// appCreate creates the app registration with its lists, by its unique
// name (PATCH /applications(uniqueName=…) with Prefer: create-if-missing):
// a retried or concurrent create finds the app instead of making another.
type appCreate struct {
	app graph.Application
	key string
}

func (a *appCreate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	var held []string
	for _, key := range keySequence(a.key) {
		app, created, err := r.env.Graph.UpsertApplication(ctx, key, a.app)
		if graph.IsKeyTaken(err) {
			held = append(held, key)
			continue
		}
		if err != nil {
			return "", err
		}
		r.mu.Lock()
		r.app = app
		r.recordApp()
		if len(held) > 0 {
			r.res.Warnings = append(r.res.Warnings, keyHeldWarning(held, key, app.DisplayName))
		}
		r.mu.Unlock()
		out := "client ID " + app.AppID
		if len(held) > 0 {
			out += "; unique name " + key
		}
		if !created {
			out += "; it was there already (made at the same moment by another run for the same name, or by an earlier attempt of this one)"
		}
		return out, nil
	}
	return "", fmt.Errorf("deleted apps in the recycle bin hold every unique name entra-link tries for %q (%s); Entra keeps them for 30 days. Restore one (Entra admin center > App registrations > Deleted applications) and run setup with --app-id, permanently delete them there, or choose another --name",
		a.app.DisplayName, strings.Join(held, ", "))
}

// appUpdate changes the app registration and its lists in one PATCH.
type appUpdate struct {
	update graph.ApplicationUpdate
	// own are the changes to the app itself (name, account type, ID
	// tokens), in words; the changes to its lists are steps of their own.
	own []string
	// key, when set, is the unique name the app gets (it has none).
	key string
}

func (a *appUpdate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	id := r.appObject().ID
	if a.key == "" {
		return "", r.env.Graph.UpdateApplication(ctx, id, a.update)
	}
	var held []string
	for _, key := range keySequence(a.key) {
		u := a.update
		u.UniqueName = &key
		err := r.env.Graph.UpdateApplication(ctx, id, u)
		switch {
		case graph.IsKeyTaken(err):
			held = append(held, key)
			continue
		case uniqueNameRefused(err):
			// Set a moment ago by another run: the app has one now.
			if cur, rerr := r.env.Graph.ApplicationByID(ctx, id); rerr == nil && cur.UniqueName != "" {
				return "unique name " + cur.UniqueName, r.env.Graph.UpdateApplication(ctx, id, a.update)
			}
			return "", err
		case err != nil:
			return "", err
		}
		r.mu.Lock()
		r.app.UniqueName = key
		if len(held) > 0 {
			r.res.Warnings = append(r.res.Warnings, keyHeldWarning(held, key, r.app.DisplayName))
		}
		r.mu.Unlock()
		return "unique name " + key, nil
	}
	// Every name taken: the app keeps none, the rest of the update lands.
	if err := r.env.Graph.UpdateApplication(ctx, id, a.update); err != nil {
		return "", err
	}
	r.mu.Lock()
	r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("the app keeps no unique name: deleted apps in the recycle bin hold %s; entra-link still finds the app by its tags", strings.Join(held, ", ")))
	r.mu.Unlock()
	return "no unique name: all taken", nil
}

// uniqueNameRefused: a PATCH setting uniqueName refused for another reason
// than a taken name (it can be set only while it is null).
func uniqueNameRefused(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.Status == 400 && strings.Contains(strings.ToLower(ge.Message), "uniquename")
}

// resourceCreate adds a Microsoft API's service principal to the tenant.
type resourceCreate struct{ appID, name string }

func (a *resourceCreate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	sp, err := r.env.Graph.CreateServicePrincipal(ctx, a.appID, nil)
	if graph.IsConflict(err) {
		sp, err = r.env.Graph.ServicePrincipalByAppID(ctx, a.appID)
	}
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.resources[strings.ToLower(a.appID)] = sp
	r.mu.Unlock()
	return "", nil
}

// spCreate creates the app's service principal (enterprise application)
// by its appId (PATCH /servicePrincipals(appId=…) with Prefer:
// create-if-missing): a retried or concurrent create finds it.
type spCreate struct{ tags []string }

func (a *spCreate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	appID := r.appObject().AppID
	sp, created, err := r.env.Graph.UpsertServicePrincipal(ctx, appID, a.tags)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.sp = &sp
	r.res.ServicePrincipalID = sp.ID
	r.mu.Unlock()
	if !created {
		return "it was there already (made at the same moment by another run, or by an earlier attempt of this one)", nil
	}
	return "", nil
}

// secretCreate adds a client secret and hands it over at once. Its journal
// record is written first and marked delivered by whoever writes the
// secret out (Env.OnSecret's caller).
type secretCreate struct {
	name  string // unique to the run: "entra-link <profile> <date> #<token>"
	token string
	end   time.Time
}

func (a *secretCreate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	app := r.appObject()
	rec, warn := r.env.journalEntry(r.p.Tenant.Org.ID, app, a.name, a.token, "setup", r.p.Spec.Profile.ID, a.end)
	if warn != "" {
		r.mu.Lock()
		r.res.Warnings = append(r.res.Warnings, warn)
		r.mu.Unlock()
	}
	sctx, cancel := r.env.secretContext(ctx)
	defer cancel()
	pc, err := r.env.Graph.AddPassword(sctx, app.ID, a.name, a.end)
	if err != nil {
		return "", addFailed(sctx, err, a.name, rec)
	}
	if rec != nil {
		_ = rec.Created(pc.KeyID) // the display name identifies it all the same
	}
	exp := pc.EndDateTime.UTC()
	r.mu.Lock()
	r.res.ClientSecret = pc.SecretText
	r.res.ClientSecretKeyID = pc.KeyID
	r.res.ClientSecretExpiresAt = &exp
	r.mu.Unlock()
	if r.env.OnSecret != nil {
		r.env.OnSecret(r.snapshot())
	}
	return "expires " + exp.Format("2006-01-02"), nil
}

// leftoverRemove removes a secret an earlier run added and never handed over.
type leftoverRemove struct{ l leftover }

func (a *leftoverRemove) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	if err := removeLeftover(ctx, r.env.Graph, r.appObject().ID, a.l); err != nil {
		return "", err
	}
	return "removed", nil
}

// keyPairCreate generates the key pair in memory, before any tenant write.
type keyPairCreate struct {
	subject  string
	lifetime profile.Lifetime
	// maxValidity, when set, is the longest the app management policy
	// allows (policy.go).
	maxValidity time.Duration
}

func (a *keyPairCreate) apply(_ context.Context, r *run, _ *Step) (string, error) {
	validity := a.lifetime.AddTo(r.now).Sub(r.now)
	if a.maxValidity > 0 {
		validity = min(validity, a.maxValidity)
	}
	kp, err := certs.Generate(a.subject, validity, r.now)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.keyPair = kp
	r.mu.Unlock()
	return "thumbprint " + kp.Thumbprint, nil
}

// generatedFiles is where a generated key pair is written, and the
// password of its PFX ("" for none).
type generatedFiles struct {
	dir, base string
	force     bool
	password  string
}

// certUpload adds a certificate to the app, keeping its others: the one
// from --certificate-file, or the generated one (its files written first,
// so that the app never trusts a key nobody has).
type certUpload struct {
	file      *certCandidate
	generated *generatedFiles
	// signer, when set, adds the certificate with addKey, proven by the
	// certificate entra-link signed in with (the app rolling its own keys,
	// which may not update its registration otherwise).
	signer *certs.Signer
}

func (a *certUpload) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	var cert *certs.Certificate
	wrote := ""
	if a.file != nil {
		cert = a.file.cert
	} else {
		r.mu.Lock()
		kp := r.keyPair
		r.mu.Unlock()
		kp.PFXPassword = a.generated.password
		w, err := kp.WriteFiles(a.generated.dir, a.generated.base, a.generated.force)
		if err != nil {
			return "", fmt.Errorf("writing the key pair: %w", err)
		}
		r.mu.Lock()
		r.res.CertificateKeyPath, r.res.CertificateCertPath, r.res.CertificatePFXPath = w.KeyPath, w.CertPath, w.PFXPath
		r.res.CertificateBundlePath = w.BundlePath
		r.res.CertificatePFXProtected = a.generated.password != ""
		r.mu.Unlock()
		cert = &kp.Certificate
		wrote = "wrote " + w.KeyPath + " (0600), " + w.CertPath + ", " + w.PFXPath + ", " + w.BundlePath + "; "
	}
	app := r.appObject()
	newKey := graph.KeyCredential{
		DisplayName:         strings.Join(strings.Fields("entra-link "+r.p.Spec.Profile.ID+" "+r.now.Format("2006-01-02")), " "),
		Type:                "AsymmetricX509Cert",
		Usage:               "Verify",
		Key:                 cert.DER,
		CustomKeyIdentifier: cert.CustomKeyIdentifier(),
		StartDateTime:       cert.NotBefore,
		EndDateTime:         cert.NotAfter,
	}
	// Once the key is written, the upload is seen through: Ctrl-C does not
	// cut it off, so that the result can say whether the app trusts it.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), addPasswordTimeout)
	defer cancel()
	if a.signer != nil {
		proof, err := a.signer.Proof(app.ID, time.Now())
		if err != nil {
			return "", fmt.Errorf("%sproving possession of the current certificate: %w", wrote, err)
		}
		if _, err := r.env.Graph.AddKey(uctx, app.ID, newKey, proof); err != nil {
			return "", fmt.Errorf("%sadding the certificate (addKey): %w", wrote, err)
		}
	} else {
		keys := app.KeyCredentials
		if len(keys) > 0 {
			// PATCH replaces the collection: read the existing certificates
			// with their keys so that none is dropped.
			full, err := r.env.Graph.ApplicationByID(uctx, app.ID)
			if err != nil {
				return "", fmt.Errorf("%sreading the app's certificates: %w", wrote, err)
			}
			keys = full.KeyCredentials
		}
		all := append(append([]graph.KeyCredential(nil), keys...), newKey)
		if err := r.env.Graph.UpdateApplication(uctx, app.ID, graph.ApplicationUpdate{KeyCredentials: &all}); err != nil {
			return "", fmt.Errorf("%suploading the certificate: %w", wrote, err)
		}
	}
	end := cert.NotAfter.UTC()
	r.mu.Lock()
	r.res.CertificateThumbprint = cert.Thumbprint
	r.res.CertificateExpiresAt = &end
	r.mu.Unlock()
	return fmt.Sprintf("%sthumbprint %s, expires %s", wrote, cert.Thumbprint, end.Format("2006-01-02")), nil
}

// consentCreate grants an application permission (an app role assignment).
type consentCreate struct {
	perm   profile.Permission
	roleID string
}

func (a *consentCreate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	res, err := r.resource(a.perm.ResourceAppID)
	if err != nil {
		return "", err
	}
	sp, err := r.principal()
	if err != nil {
		return "", err
	}
	_, err = r.env.Graph.AssignAppRole(ctx, graph.AppRoleAssignment{PrincipalID: sp.ID, ResourceID: res.ID, AppRoleID: a.roleID})
	switch {
	case err == nil, graph.IsConflict(err):
		return "", nil
	case graph.IsForbidden(err):
		return "", &pendingError{reason: "admin consent for the application permissions", words: "not allowed for the signed-in identity (see consentUrl)", consent: true}
	}
	return "", err
}

// consentRemove revokes an application permission (setup --prune).
type consentRemove struct{ resourceID, assignmentID string }

func (a *consentRemove) apply(ctx context.Context, r *run, s *Step) (string, error) {
	err := r.env.Graph.DeleteAppRoleAssignment(ctx, a.resourceID, a.assignmentID)
	switch {
	case err == nil, graph.IsNotFound(err):
		return "", nil
	case graph.IsForbidden(err):
		why := "a Global Administrator or Privileged Role Administrator must remove the consent for " + s.Target
		return "", &pendingError{reason: why, words: "not allowed for the signed-in identity"}
	}
	return "", err
}

// grantApply creates or changes the tenant-wide delegated grant on one
// resource, to exactly its scopes.
type grantApply struct {
	resourceAppID string
	existingID    string
	scopes        []string
}

func (a *grantApply) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	res, err := r.resource(a.resourceAppID)
	if err != nil {
		return "", err
	}
	sp, err := r.principal()
	if err != nil {
		return "", err
	}
	scope := strings.Join(a.scopes, " ")
	if a.existingID != "" {
		err = r.env.Graph.UpdatePermissionGrantScope(ctx, a.existingID, scope)
	} else {
		_, err = r.env.Graph.CreatePermissionGrant(ctx, graph.PermissionGrant{ClientID: sp.ID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: scope})
		if graph.IsConflict(err) {
			err = mergeAfterConflict(ctx, r.env.Graph, sp.ID, res.ID, a.scopes)
		}
	}
	if graph.IsForbidden(err) {
		return "", &pendingError{reason: "tenant-wide consent for the delegated permissions", words: "not allowed for the signed-in identity (see consentUrl)", consent: true}
	}
	return "", err
}

// mergeAfterConflict handles a grant that appeared between our read and
// our create (or a create that was retried after succeeding): its scopes
// are widened, never narrowed.
func mergeAfterConflict(ctx context.Context, g graph.API, clientID, resourceID string, scopes []string) error {
	grants, err := g.PermissionGrants(ctx, clientID)
	if err != nil {
		return err
	}
	for _, gr := range grants {
		if strings.EqualFold(gr.ResourceID, resourceID) && gr.ConsentType == "AllPrincipals" {
			have := strings.Fields(gr.Scope)
			all := union(have, scopes)
			if len(all) == len(have) {
				return nil
			}
			return g.UpdatePermissionGrantScope(ctx, gr.ID, strings.Join(all, " "))
		}
	}
	return errors.New("the delegated permission grant conflicts with one that cannot be found")
}

// grantRemove deletes a tenant-wide grant the profile does not ask for.
type grantRemove struct{ grantID string }

func (a *grantRemove) apply(ctx context.Context, r *run, s *Step) (string, error) {
	err := r.env.Graph.DeletePermissionGrant(ctx, a.grantID)
	switch {
	case err == nil, graph.IsNotFound(err):
		return "", nil
	case graph.IsForbidden(err):
		return "", &pendingError{reason: "an admin who may manage consent must remove " + s.Target, words: "not allowed for the signed-in identity"}
	}
	return "", err
}

// roleAssign assigns a directory role to the app, tenant-wide.
type roleAssign struct{ role profile.Role }

func (a *roleAssign) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	sp, err := r.principal()
	if err != nil {
		return "", err
	}
	_, err = r.env.Graph.AssignDirectoryRole(ctx, sp.ID, a.role.TemplateID)
	switch {
	case err == nil, graph.IsConflict(err):
		return "", nil
	case graph.IsForbidden(err):
		why := fmt.Sprintf("a Privileged Role Administrator must assign the %s role to the app (Entra admin center > Roles and administrators > %s > Add assignments)", a.role.Name, a.role.Name)
		return "", &pendingError{reason: why, words: "not allowed for the signed-in identity"}
	}
	return "", err
}

// roleRemove removes a directory role assignment (setup --prune).
type roleRemove struct{ assignmentID string }

func (a *roleRemove) apply(ctx context.Context, r *run, s *Step) (string, error) {
	err := r.env.Graph.DeleteRoleAssignment(ctx, a.assignmentID)
	switch {
	case err == nil, graph.IsNotFound(err):
		return "", nil
	case graph.IsForbidden(err):
		return "", &pendingError{reason: "a Privileged Role Administrator must remove the " + strings.TrimPrefix(s.Target, "directory role ") + " role from the app", words: "not allowed for the signed-in identity"}
	}
	return "", err
}

// --- helpers ---

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

func union(have, want []string) []string {
	out := append([]string(nil), have...)
	for _, w := range want {
		found := false
		for _, h := range out {
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
