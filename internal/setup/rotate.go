package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Lifetimes for apps that record no profile: the built-in profiles'
// default, and the longest Entra accepts.
var (
	defaultSecretLifetime = profile.Lifetime{N: 1, Unit: 'y'}
	maxSecretLifetime     = profile.Lifetime{N: 2, Unit: 'y'}
)

// RotateRequest is what rotate-secret was asked to do.
type RotateRequest struct {
	Selector
	// Lifetime of the new secret; zero means the profile's default.
	Lifetime profile.Lifetime
	// RemoveOld retires the app's other secrets once the new one is proven.
	RemoveOld bool
	Sandbox   bool
	// Prove obtains a token with the new secret, waiting (bounded) while
	// Entra replicates it. Required with RemoveOld.
	Prove func(ctx context.Context, clientID, secret string) error
}

// Rotation is a planned rotate-secret: everything read, nothing changed.
type Rotation struct {
	Found *FoundApp
	// Profile is the app's product profile, or a generic one when the app
	// records none (or one that is not built in).
	Profile *profile.Profile
	Org     graph.Organization
	// SP is the app's service principal, nil if it has none.
	SP       *graph.ServicePrincipal
	Lifetime profile.Lifetime
	Expiry   time.Time
	// Others are the app's existing secrets: kept, or retired after the
	// proof with RemoveOld. Certificates are never touched.
	Others   []graph.PasswordCredential
	Warnings []string

	req RotateRequest
	now time.Time
	// left are secrets earlier runs on this machine added to the app and
	// never handed over (the journal): removed by this run.
	left  []leftover
	stale []*journal.Record
	token string
}

// genericProfile hands a secret over for an app with no known profile.
func genericProfile(app graph.Application) *profile.Profile {
	return &profile.Profile{
		Product:     app.DisplayName,
		DisplayName: app.DisplayName,
		Credential:  profile.CredentialPolicy{Default: profile.CredentialSecret, Allowed: []string{profile.CredentialSecret}},
		Handover: profile.Handover{
			Format: "text",
			Fields: []profile.HandoverField{
				{Label: "Application (client) ID", Value: "{{clientId}}"},
				{Label: "Directory (tenant) ID", Value: "{{tenantId}}"},
				{Label: "Client secret", Value: "{{clientSecret}}"},
			},
			NextSteps: []string{
				"Give the new client secret to the product that uses this app. It expires on {{clientSecretExpiresAt}}; renew it before then with: entra-link rotate-secret --app-id {{clientId}}{{commandFlags}}",
			},
		},
	}
}

// PrepareRotation finds the app and checks the request against it; it
// changes nothing. Input problems are *UsageError.
func PrepareRotation(ctx context.Context, env *Env, req RotateRequest) (*Rotation, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	ro := &Rotation{Found: found, req: req, now: env.Now().UTC(), token: newToken()}
	p, why := appProfile(found, nil)
	if p == nil {
		p = genericProfile(found.App)
		ro.Warnings = append(ro.Warnings, why+"; the hand-over uses generic labels")
	} else if !p.AllowsCredential(profile.CredentialSecret) {
		return nil, &UsageError{Msg: fmt.Sprintf("%s uses profile %s, and %s authenticates with a %s, not a client secret; nothing was changed. For a new certificate run: %s",
			found.Label(), p.ID, p.Product, p.Credential.Default, env.Command("rotate-certificate", "--app-id", found.App.AppID, "--certificate-file", "NEW-CERTIFICATE.cer"))}
	}
	ro.Profile = p

	maxLife := p.Credential.MaxSecretExpiry
	if maxLife.IsZero() {
		maxLife = maxSecretLifetime
	}
	ro.Lifetime = req.Lifetime
	if ro.Lifetime.IsZero() {
		ro.Lifetime = p.Credential.SecretExpiry
		if ro.Lifetime.IsZero() {
			ro.Lifetime = defaultSecretLifetime
		}
		if ro.Lifetime.Exceeds(maxLife, ro.now) {
			ro.Lifetime = maxLife
		}
	} else if ro.Lifetime.Exceeds(maxLife, ro.now) {
		who := "Entra allows"
		if p.ID != "" {
			who = "profile " + p.ID + " allows"
		}
		return nil, &UsageError{Msg: fmt.Sprintf("--secret-expiry %s is longer than %s (at most %s); nothing was changed", req.Lifetime, who, maxLife.Human())}
	}
	ro.Expiry = ro.Lifetime.AddTo(ro.now)
	if ro.Expiry.Before(ro.now.Add(24 * time.Hour)) {
		return nil, &UsageError{Msg: "--secret-expiry: a secret must live at least one day; nothing was changed"}
	}
	var wg crash.Group
	var spErr, orgErr error
	wg.Go(func() { ro.SP, spErr = pre.servicePrincipal(ctx, env.Graph, found.App.AppID) })
	wg.Go(func() { ro.Org, orgErr = pre.tenant(ctx, env.Graph) })
	wg.Wait()
	if spErr != nil {
		return nil, fmt.Errorf("looking up the app's service principal: %w", spErr)
	}
	if orgErr != nil {
		return nil, fmt.Errorf("reading the tenant: %w", orgErr)
	}
	ro.left, ro.stale = leftovers(&found.App, env.interrupted(ro.Org.ID, found.App.ID, &ro.Warnings), ro.now)
	ro.Others = withoutLeftovers(&found.App, ro.left).PasswordCredentials

	if req.RemoveOld {
		if len(ro.Others) == 0 && len(ro.left) == 0 {
			return nil, &UsageError{Msg: fmt.Sprintf("--remove-old: %s has no other client secret to retire; run without --remove-old (nothing was changed)", found.Label())}
		}
		if ro.SP == nil {
			return nil, &UsageError{Msg: fmt.Sprintf("--remove-old: %s has no service principal in the tenant, so no secret of it can obtain a token and the new one cannot be proven; run setup for the app first, or rotate without --remove-old (nothing was changed)", found.Label())}
		}
		if req.Prove == nil {
			return nil, errors.New("rotate-secret --remove-old: no way to prove the new secret")
		}
		if id, err := env.Graph.WhoAmI(ctx); err == nil && id.AppOnly && strings.EqualFold(id.ClientAppID, found.App.AppID) {
			// Its other secrets include the one this run signed in with:
			// removing it cuts off whatever else signs in with it.
			return nil, &UsageError{Msg: fmt.Sprintf("--remove-old: entra-link is signed in as %s itself, and its other secrets include the one it signed in with. Run without --remove-old, switch to the new secret, then retire the old ones: %s (nothing was changed)", found.Label(), env.Command("retire", "--app-id", found.App.AppID))}
		}
	}
	if ro.SP == nil {
		ro.Warnings = append(ro.Warnings, "the app has no service principal in this tenant, so no secret of it can sign in here until one exists (run setup for the app)")
	}
	return ro, nil
}

// Summary describes the rotation for the confirmation prompt.
func (ro *Rotation) Summary() []string {
	lines := []string{fmt.Sprintf("Add a new client secret to %s in %s, valid %s (until %s).",
		ro.Found.Label(), tenantLabel(ro.Org), ro.Lifetime.Human(), ro.Expiry.Format("2006-01-02"))}
	if len(ro.left) > 0 {
		var labels []string
		for _, l := range ro.left {
			labels = append(labels, secretLabel(l.cred))
		}
		lines = append(lines, fmt.Sprintf("Remove what an interrupted run left behind: %s, which it created and could not hand over (nobody has its value).", strings.Join(labels, "; ")))
	}
	if len(ro.Others) == 0 {
		return lines
	}
	what := "kept (they keep working)"
	if ro.req.RemoveOld {
		what = "removed once the new secret has been proven to work"
	}
	lines = append(lines, fmt.Sprintf("The app's %d other secret(s) will be %s: %s.", len(ro.Others), what, secretList(ro.Others)))
	return lines
}

// Plan is what the rotation does, step by step: the new secret, its proof
// and each old secret retired or kept.
func (ro *Rotation) Plan() *Plan {
	p := &Plan{Title: "New client secret for " + ro.Found.App.DisplayName, Product: ro.Profile.Product}
	target := "client secret for " + ro.Found.Label()
	p.Steps = append(p.Steps, &Step{ID: "secret", Kind: KindClientSecret, Action: ActCreate, Round: 1, Target: target,
		Detail: fmt.Sprintf("valid %s (until %s)", ro.Lifetime.Human(), ro.Expiry.Format("2006-01-02"))})
	for _, l := range ro.left {
		p.Steps = append(p.Steps, &Step{ID: "leftover/" + strings.ToLower(l.cred.KeyID), Kind: KindClientSecret, Action: ActRemove, Round: 1,
			Target: secretLabel(l.cred), Detail: leftoverDetail(l)})
	}
	if ro.req.RemoveOld {
		p.Steps = append(p.Steps, &Step{ID: "proof", Kind: KindProof, Action: ActCheck, Round: 2, Target: "the new client secret works",
			Detail: "obtain a token with it before any old secret is removed", After: []string{"secret"}})
	}
	for _, o := range ro.Others {
		st := &Step{ID: "old/" + o.KeyID, Kind: KindClientSecret, Target: secretLabel(o)}
		if ro.req.RemoveOld {
			st.Action, st.Round, st.After = ActRemove, 3, []string{"proof"}
			st.Detail = fmt.Sprintf("expires %s; retired once the new secret has obtained a token", o.EndDateTime.UTC().Format("2006-01-02"))
		} else {
			st.Action = ActKeep
			st.Detail = fmt.Sprintf("expires %s; keeps working until retired (entra-link retire, once %s uses the new secret)", o.EndDateTime.UTC().Format("2006-01-02"), ro.Profile.Product)
		}
		p.Steps = append(p.Steps, st)
	}
	p.rounds = 1
	if ro.req.RemoveOld {
		p.rounds = 3
	}
	return p
}

func secretLabel(pc graph.PasswordCredential) string {
	return CredentialInfo{Kind: KindSecret, KeyID: pc.KeyID, Hint: pc.Hint}.Label()
}

// DryRunResult is the rotation's plan as a result (nothing changed).
func (ro *Rotation) DryRunResult(c cloud.Cloud) *output.Result {
	return &output.Result{
		DryRun: true, Sandbox: ro.req.Sandbox, Profile: ro.Profile.ID, Product: ro.Profile.Product, Cloud: c.Name,
		TenantName: ro.Org.DisplayName, TenantDomain: ro.Org.InitialDomain(), DisplayName: ro.Found.App.DisplayName,
		ClientID: ro.Found.App.AppID, Plan: ro.Plan().Output(), Warnings: append([]string(nil), ro.Warnings...),
	}
}

func secretList(pcs []graph.PasswordCredential) string {
	parts := make([]string, 0, len(pcs))
	for _, pc := range pcs {
		c := CredentialInfo{Kind: KindSecret, KeyID: pc.KeyID, Hint: pc.Hint}
		parts = append(parts, fmt.Sprintf("%s, expires %s", c.Label(), pc.EndDateTime.UTC().Format("2006-01-02")))
	}
	return strings.Join(parts, "; ")
}

// ProofError means the new secret was added and delivered but could not
// be proven to work, so no other secret was removed.
type ProofError struct {
	Err  error
	Kept int
}

func (e *ProofError) Error() string {
	return fmt.Sprintf("the new client secret was added and delivered, but entra-link could not prove that it works (%v), so the app's %d old secret(s) were kept: nothing was removed", e.Err, e.Kept)
}

func (e *ProofError) Unwrap() error { return e.Err }

// Apply carries out the rotation's plan: it adds the secret and, with
// RemoveOld, proves it and retires the others. The result is handed to
// Env.OnSecret as soon as the secret exists and is returned whatever
// happens after; an error says what did not happen. An error before the
// secret exists returns no result.
func (ro *Rotation) Apply(ctx context.Context, env *Env) (*output.Result, error) {
	app := ro.Found.App
	p := ro.Profile
	plan := ro.Plan()
	res := &output.Result{
		Sandbox:             ro.req.Sandbox,
		Profile:             p.ID,
		Product:             p.Product,
		Cloud:               env.Cloud.Name,
		TenantID:            ro.Org.ID,
		TenantName:          ro.Org.DisplayName,
		TenantDomain:        ro.Org.InitialDomain(),
		DisplayName:         app.DisplayName,
		Title:               plan.Title,
		ClientID:            app.AppID,
		ApplicationObjectID: app.ID,
		PortalURL:           env.Cloud.PortalAppURL(app.AppID),
		Warnings:            append([]string(nil), ro.Warnings...),
	}
	if ro.SP != nil {
		res.ServicePrincipalID = ro.SP.ID
	}
	if env.Cloud.Name != "global" {
		res.AuthorityHost = env.Cloud.AuthorityHost
	}
	var mu sync.Mutex
	status := map[string][2]string{}
	set := func(id, st, outcome string) {
		s := plan.Step(id)
		mu.Lock()
		status[id] = [2]string{st, outcome}
		mu.Unlock()
		env.emit(Event{ID: id, Action: string(s.Action), Target: s.Target, Status: st, Detail: outcome})
	}
	steps := func() []output.Step {
		mu.Lock()
		defer mu.Unlock()
		out := plan.Output()
		for i, s := range plan.Steps {
			st, ok := status[s.ID]
			switch {
			case ok:
				out[i].Status, out[i].Outcome = st[0], st[1]
			case s.Action == ActKeep:
				out[i].Status = output.StepSkipped
			default:
				out[i].Status = output.StepNotRun
			}
			if s.Action == ActCheck && out[i].Status == output.StepOK {
				out[i].Status = output.StepDone
			}
		}
		return out
	}

	for _, rec := range ro.stale {
		_ = rec.Settle() // nothing of it is left in the tenant
	}
	// What an interrupted run left behind goes at the same time as the
	// new secret is added (both round 1 of the plan).
	var leftovers crash.Group
	for _, l := range ro.left {
		leftovers.Go(func() {
			id := "leftover/" + strings.ToLower(l.cred.KeyID)
			s := plan.Step(id)
			env.emit(Event{ID: id, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
			if err := removeLeftover(ctx, env.Graph, app.ID, l); err != nil {
				set(id, output.StepFailed, err.Error())
				return
			}
			set(id, output.StepDone, "removed")
		})
	}
	secret := plan.Step("secret")
	env.emit(Event{ID: secret.ID, Action: string(secret.Action), Target: secret.Target, Status: StatusRunning})
	name := secretName("rotate-secret", ro.now, ro.token)
	rec, warn := env.journalEntry(ro.Org.ID, app, name, ro.token, "rotate-secret", p.ID, ro.Expiry)
	if warn != "" {
		res.Warnings = append(res.Warnings, warn)
	}
	sctx, cancel := env.secretContext(ctx)
	pc, err := env.Graph.AddPassword(sctx, app.ID, name, ro.Expiry)
	defer cancel()
	leftovers.Wait()
	if err != nil {
		if graph.IsCredentialPolicy(err) {
			err = RotationRefused(err, p.Product, ro.Expiry)
			env.emit(Event{ID: secret.ID, Action: string(secret.Action), Target: secret.Target, Status: output.StepFailed, Detail: err.Error()})
			return nil, err
		}
		var denied *Tenant
		detail := err.Error()
		if graph.IsForbidden(err) {
			denied = env.whoIs(ctx)
			detail = "not allowed for the signed-in identity"
		}
		env.emit(Event{ID: secret.ID, Action: string(secret.Action), Target: secret.Target, Status: output.StepFailed, Detail: detail})
		if graph.MayHaveTakenEffect(err) {
			return nil, fmt.Errorf("adding the client secret: %w", addFailed(sctx, err, name, rec))
		}
		_ = addFailed(sctx, err, name, rec)
		what := "nothing was changed"
		mu.Lock()
		for id, st := range status {
			if strings.HasPrefix(id, "leftover/") && st[0] == output.StepDone {
				what = "only the secret an interrupted run had left behind was removed"
			}
		}
		mu.Unlock()
		if denied != nil {
			return nil, &ForbiddenError{Msg: fmt.Sprintf("%s. Graph added no secret; %s.", denied.cannotChange("add a client secret to "+ro.Found.Label()), what), Err: err}
		}
		return nil, fmt.Errorf("adding the client secret: %w (Graph added no secret; %s)", err, what)
	}
	if rec != nil {
		_ = rec.Created(pc.KeyID)
	}
	if len(ro.left) > 0 {
		res.Warnings = append(res.Warnings, leftoverRemoved(true))
	}
	exp := pc.EndDateTime.UTC()
	res.ClientSecret = pc.SecretText
	res.ClientSecretKeyID = pc.KeyID
	res.ClientSecretExpiresAt = &exp
	ro.fillHandover(env, res)
	set("secret", output.StepDone, "expires "+exp.Format("2006-01-02"))
	if !ro.req.RemoveOld && len(ro.Others) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("The app's %d other secret(s) were kept and still work (%s). Once %s uses the new secret, retire them: %s",
			len(ro.Others), secretList(ro.Others), p.Product, env.Command("retire", "--app-id", app.AppID)))
	}
	res.Steps = steps()
	if env.OnSecret != nil {
		env.OnSecret(snapshotResult(res, &mu))
	}
	if !ro.req.RemoveOld {
		return res, nil
	}
	if ctx.Err() != nil {
		res.Error = "interrupted before the new secret was proven: the new secret was added and delivered; the old secrets were kept"
		res.Steps = steps()
		return res, ctx.Err()
	}

	proof := plan.Step("proof")
	env.emit(Event{ID: proof.ID, Action: string(proof.Action), Target: proof.Target, Status: StatusRunning, Detail: "obtaining a token with it"})
	if err := ro.req.Prove(ctx, app.AppID, pc.SecretText); err != nil {
		if ctx.Err() != nil {
			res.Error = "interrupted while proving the new secret: the new secret was added and delivered; the old secrets were kept"
			set("proof", output.StepInterrupted, "the run was stopped while this step was in flight")
			res.Steps = steps()
			return res, ctx.Err()
		}
		set("proof", output.StepFailed, err.Error())
		for _, o := range ro.Others {
			set("old/"+o.KeyID, output.StepNotRun, "kept: the new secret was not proven")
		}
		pe := &ProofError{Err: err, Kept: len(ro.Others)}
		res.Error = pe.Error() + fmt.Sprintf(". Check that the new secret works, then remove the old ones in the Entra admin center: App registrations > %s > Certificates & secrets.", app.DisplayName)
		res.Steps = steps()
		return res, pe
	}
	set("proof", output.StepDone, "a token was obtained with it")

	var failed []error
	var removing crash.Group
	for _, o := range ro.Others {
		removing.Go(func() {
			id := "old/" + o.KeyID
			s := plan.Step(id)
			env.emit(Event{ID: id, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
			err := env.Graph.RemovePassword(ctx, app.ID, o.KeyID)
			switch {
			case err == nil || graph.IsNotFound(err):
				set(id, output.StepDone, "removed")
			case ctx.Err() != nil:
				set(id, output.StepInterrupted, "the run was stopped while this step was in flight")
			default:
				set(id, output.StepFailed, err.Error())
				mu.Lock()
				failed = append(failed, fmt.Errorf("removing %s: %w", s.Target, err))
				mu.Unlock()
			}
		})
	}
	removing.Wait()
	res.Steps = steps()
	if len(failed) > 0 || ctx.Err() != nil {
		se := &StepsError{Failed: failed}
		res.Error = fmt.Sprintf("the new secret works and was delivered, but %d old secret(s) could not be removed: %v. Remove them in the Entra admin center: App registrations > %s > Certificates & secrets.",
			len(failed), se, app.DisplayName)
		if ctx.Err() != nil {
			res.Error = "interrupted while retiring the old secrets: the new secret works and was delivered; the steps marked done were applied"
			return res, ctx.Err()
		}
		return res, se
	}
	return res, nil
}

// fillHandover renders the product's hand-over fields with the new secret.
func (ro *Rotation) fillHandover(env *Env, res *output.Result) {
	values := map[string][]string{}
	if ro.Profile.ID != "" {
		values, _ = appliedValues(ro.Profile, ro.Found.App)
	}
	spec := &profile.Spec{Profile: ro.Profile, Credential: profile.CredentialSecret, Values: values, DisplayName: ro.Found.App.DisplayName}
	fillHandover(res, spec, env, nil, nil)
}

func snapshotResult(res *output.Result, mu *sync.Mutex) *output.Result {
	mu.Lock()
	defer mu.Unlock()
	c := *res
	c.Steps = append([]output.Step(nil), res.Steps...)
	c.Warnings = append([]string(nil), res.Warnings...)
	return &c
}
