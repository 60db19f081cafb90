package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
	"github.com/entra-link/entra-link/wizard"
)

// wizardWanted decides whether rotate-secret runs as the wizard: a person
// can answer (see SetupOptions.wizardWanted) and the command was run
// without naming the app (neither --app-id nor --name), so the questions
// start with picking it. With the app named, the flag path's one [Y/n]
// confirmation is all there is to ask.
func (o *RotateOptions) wizardWanted() bool {
	return o.f.IO.CanPrompt() && o.App.AppID == "" && o.App.Name == ""
}

// rotateWizardRun is rotate-secret as a conversation: pick the app among
// those entra-link made, the lifetime, whether to retire the old secrets;
// then the same PrepareRotation and Rotation.Apply as the flag path.
func rotateWizardRun(o *RotateOptions) error {
	ctx := ctxOr(o.ctx)
	var d *dayTwo
	defer func() {
		if d != nil {
			d.close()
		}
	}()
	ps := &progressSink{}
	var ro *setup.Rotation
	maxLife := profile.Lifetime{N: 2, Unit: 'y'}
	hooks := wizard.RotateHooks{
		SignIn: func(ctx context.Context) (wizard.SignedIn, error) {
			var err error
			if d, err = startDayTwo(ctx, o.f, "rotate-secret", &o.TenantOptions, o.fixArgs); err != nil {
				return wizard.SignedIn{}, err
			}
			d.env.Progress = ps.send
			d.env.Journal = d.conn.Journal // rotate-secret adds a secret
			d.conn.setProgress(ps.send)
			who, _, _, err := whoAndWhere(ctx, d.conn)
			return who, err
		},
		ListApps: func(ctx context.Context) ([]wizard.AppChoice, error) {
			list, err := setup.ListApps(ctx, d.env)
			if err != nil {
				return nil, d.failed(ctx, err)
			}
			if len(list.Apps) == 0 {
				return nil, exit.UsageErrorf("no apps made by entra-link in %s: set one up with entra-link setup, or name the app with --app-id", tenantTitle(list.Org))
			}
			apps := make([]wizard.AppChoice, 0, len(list.Apps))
			for _, a := range list.Apps {
				apps = append(apps, wizard.AppChoice{Name: a.DisplayName, ClientID: a.ClientID, Profile: a.Profile, Expiry: expiryText(a.NearestExpiry),
					Unavailable: secretUnavailable(a)})
			}
			return apps, nil
		},
		Prepare: func(ctx context.Context, a *wizard.RotateAnswers) (*wizard.RotateReview, error) {
			var l profile.Lifetime
			if a.SecretExpiry != "" {
				var err error
				if l, err = profile.ParseLifetime(a.SecretExpiry); err != nil {
					return nil, exit.UsageErrorf("invalid value for --secret-expiry: %v", err)
				}
			}
			req := setup.RotateRequest{Selector: setup.Selector{AppID: a.AppID, Name: a.Name}, Lifetime: l, RemoveOld: a.RemoveOld, Sandbox: d.sandbox()}
			if a.RemoveOld {
				req.Prove = func(ctx context.Context, clientID, secret string) error {
					return auth.ProveSecret(ctx, auth.ProofOptions{
						Cloud: o.Cloud, TenantID: ro.Org.ID, ClientID: clientID, Secret: secret,
						HTTPClient: d.conn.HTTP, Trace: d.conn.Trace, Timeout: o.proofTimeout,
						OnRetry: func(_ int, code string, wait time.Duration) {
							ps.send(setup.Event{Action: "wait", Target: "new client secret", Status: setup.StatusWaiting,
								Detail: fmt.Sprintf("Entra does not accept the new secret yet (%s: still replicating); trying again in %s", code, wait)})
						},
					})
				}
			}
			var err error
			if ro, err = setup.PrepareRotation(ctx, d.env, req); err != nil {
				return nil, d.failed(ctx, err)
			}
			rv := &wizard.RotateReview{App: ro.Found.Label(), Product: ro.Profile.Product, Tenant: tenantTitle(ro.Org),
				Lifetime: ro.Lifetime.String(), MaxLifetime: maxLife.String(), Summary: ro.Summary(), Warnings: ro.Warnings}
			if ro.Profile.ID != "" {
				rv.DefaultLifetime = ro.Profile.Credential.SecretExpiry.String()
			}
			if m := ro.Profile.Credential.MaxSecretExpiry; !m.IsZero() {
				rv.MaxLifetime = m.String()
			}
			for _, pc := range ro.Others {
				rv.Others = append(rv.Others, setup.CredentialInfo{Kind: setup.KindSecret, KeyID: pc.KeyID, Hint: pc.Hint}.Label()+
					", expires "+pc.EndDateTime.UTC().Format("2006-01-02"))
			}
			return rv, nil
		},
		Apply: func(ctx context.Context, a *wizard.RotateAnswers, report func(wizard.Event)) (*output.Result, error) {
			ps.set(func(ev setup.Event) {
				report(wizard.Event{Action: ev.Action, Target: ev.Target, Status: ev.Status, Detail: ev.Detail})
			})
			defer ps.set(nil)
			return quietly(o.f, &o.TenantOptions, func() (*output.Result, error) { return o.applyRotation(ctx, d, ro) })
		},
		Shown: func(res *output.Result) {
			if d != nil {
				markDelivered(o.f, d.conn.Journal, res, handoverScreen)
			}
		},
	}
	a := &wizard.RotateAnswers{AppID: o.App.AppID, Name: o.App.Name, SecretExpiry: o.SecretExpiry, RemoveOld: o.RemoveOld,
		Yes: o.Yes, Delivery: o.delivery(o.f)}
	_, err := newWizard(o.f, &o.TenantOptions).Rotate(ctx, a, o.given, hooks)
	if errors.Is(err, wizard.ErrNoApps) {
		return exit.UsageError(err)
	}
	return wizardError(err)
}

// applyRotation is the wizard's apply: see rotate. The result has been
// shown when this returns (on the hand-over screen, and in --output-file or
// on a redirected stdout), so the error only sets the exit status.
func (o *RotateOptions) applyRotation(ctx context.Context, d *dayTwo, ro *setup.Rotation) (*output.Result, error) {
	res, applyErr, deliverErr := o.rotate(ctx, d, ro)
	var ie *internalError
	switch {
	case errors.As(applyErr, &ie):
		return res, applyErr
	case res == nil:
		return nil, exit.WithCode(exit.Failed, applyErr)
	case deliverErr != nil:
		return res, errors.Join(deliverErr, exit.WithCode(exit.Failed, applyErr))
	case applyErr == nil:
		return res, nil
	case ctx.Err() != nil && errors.Is(applyErr, ctx.Err()):
		return res, exit.SilentCode(exit.Cancelled)
	}
	return res, exit.SilentCode(exit.Failed)
}
