package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
)

// proofTimeoutEnv bounds how long --remove-old waits for Entra to accept
// the new secret.
const proofTimeoutEnv = "ENTRA_LINK_PROOF_TIMEOUT"

// RotateOptions are the flags of `entra-link rotate-secret`.
type RotateOptions struct {
	f *Factory
	TenantOptions
	App          AppSelector
	SecretExpiry string
	RemoveOld    bool
	Yes          bool
	DryRun       bool

	ctx      context.Context
	fixArgs  []string
	lifetime profile.Lifetime
	// proofTimeout bounds the proof of the new secret (--remove-old).
	proofTimeout time.Duration
}

// NewCmdRotateSecret builds `entra-link rotate-secret`.
func NewCmdRotateSecret(f *Factory, runF func(*RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "rotate-secret",
		Short: "Add a new client secret to an app (optionally retire the old ones)",
		Long: `Add a new client secret to an app that entra-link set up, and hand it over exactly like
setup does (every --output format, --output-file). The app's other secrets are kept, so the
product can be switched to the new secret without downtime; once it uses it, entra-link retire
removes the old ones (it shows which secret the app last signed in with). The default lifetime is the app's
profile's (1 year for the built-in profiles). It does not ask for confirmation: adding a
secret is additive, so a runbook needs only --no-input (--yes is accepted and changes nothing).

With --remove-old, the other secrets are removed only after the new one has been proven to
work: entra-link obtains a token with it (waiting while Entra replicates the new secret). If
the proof fails, nothing is removed, the new secret is still delivered, and the exit status is 1.
The wait is bounded by ENTRA_LINK_PROOF_TIMEOUT (a duration, default 2m). Certificates are
never touched.

Apps are found by their entra-link tags (--name) or by --app-id, which may also name an app
entra-link did not create.`,
		Example: `  # Add a secret to the Relution app; the old one keeps working until retired
  entra-link rotate-secret --name Relution
  # ... once Relution uses the new secret:
  entra-link retire --name Relution

  # What --remove-old would do, without changing anything
  entra-link rotate-secret --name Relution --remove-old --dry-run

  # Replace Entitle's secret: new Connection JSON, old secrets retired once the new one works
  entra-link rotate-secret --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --remove-old --output handover

  # In a runbook: 6-month secret as env lines into a 0600 file
  entra-link rotate-secret --name "ROGER365.io Azure Entra replicator" --secret-expiry 6m --no-input --output env --output-file roger.env`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.TenantOptions.validate(f, cmd.Flags()); err != nil {
				return err
			}
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if opts.SecretExpiry != "" {
				l, err := profile.ParseLifetime(opts.SecretExpiry)
				if err != nil {
					return exit.UsageErrorf("invalid value for --secret-expiry: %v", err)
				}
				if l.Exceeds(profile.Lifetime{N: 2, Unit: 'y'}, f.Now()) {
					return exit.UsageErrorf("invalid value for --secret-expiry: %s is longer than the 2 years Entra allows; choose e.g. 90d, 6m, 1y", opts.SecretExpiry)
				}
				opts.lifetime = l
			}
			if err := dryRunAndYes(opts.DryRun, opts.Yes); err != nil {
				return err
			}
			if opts.DryRun && (opts.Output == output.FormatEnv || opts.Output == output.FormatHandover) {
				return exit.UsageErrorf("--output %s needs the values of a real run; with --dry-run use --output text or json", opts.Output)
			}
			opts.proofTimeout = auth.DefaultProofTimeout
			if v := strings.TrimSpace(f.Getenv(proofTimeoutEnv)); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return exit.UsageErrorf("invalid value %q for %s: want a duration such as 90s or 5m", v, proofTimeoutEnv)
				}
				opts.proofTimeout = d
			}
			opts.ctx = cmd.Context()
			opts.fixArgs = tenantFlags(&opts.TenantOptions, cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return rotateRun(opts)
		},
	}
	opts.TenantOptions.register(cmd, true)
	opts.App.register(cmd, "add the secret to")
	cmd.Flags().StringVar(&opts.SecretExpiry, "secret-expiry", "", "lifetime of the new secret, e.g. 90d, 6m, 1y (default: the app's profile's)")
	cmd.Flags().BoolVar(&opts.RemoveOld, "remove-old", false, "retire the app's other secrets once the new one is proven to work")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "accepted for scripts; adding a secret never asks for confirmation")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan (the new secret, the old ones kept or retired) and change nothing")
	return cmd
}

func rotateRun(o *RotateOptions) error {
	if o.DryRun {
		return rotateDryRun(o)
	}
	if o.wizardWanted() {
		return rotateWizardRun(o)
	}
	ctx := ctxOr(o.ctx)
	// Adding a secret is additive (design.md §2): no confirmation, with or
	// without a terminal; --yes is accepted and changes nothing. The app is
	// looked up first, so an unknown app or an ambiguous --name is the
	// first thing reported.
	d, err := startDayTwo(ctx, o.f, "rotate-secret", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	d.env.Journal = d.conn.Journal // rotate-secret adds a secret
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "give a new client secret", secretUnavailable)
	if err != nil {
		return err
	}
	var ro *setup.Rotation
	req := setup.RotateRequest{Selector: sel, Lifetime: o.lifetime, RemoveOld: o.RemoveOld, Sandbox: d.sandbox()}
	if o.RemoveOld {
		req.Prove = func(ctx context.Context, clientID, secret string) error {
			return auth.ProveSecret(ctx, auth.ProofOptions{
				Cloud: o.Cloud, TenantID: ro.Org.ID, ClientID: clientID, Secret: secret,
				HTTPClient: d.conn.HTTP, Trace: d.conn.Trace, Timeout: o.proofTimeout,
				OnRetry: func(attempt int, code string, wait time.Duration) {
					say(o.f.IO.ErrOut, fmt.Sprintf("… Entra does not accept the new secret yet (%s: still replicating); trying again in %s", code, wait))
				},
			})
		}
	}
	ro, err = setup.PrepareRotation(ctx, d.env, req)
	if err != nil {
		return d.failed(ctx, err)
	}
	// Adding a secret needs no confirmation: what it does is said, then done.
	wd := width(o.f)
	var lines []string
	for _, w := range ro.Warnings {
		lines = append(lines, layout.Hang("! ", "  ", w, wd)...)
	}
	for _, l := range ro.Summary() {
		lines = append(lines, layout.Wrap(l, wd)...)
	}
	sayLines(o.f.IO.ErrOut, lines...)
	res, applyErr, deliverErr := o.rotate(ctx, d, ro)
	var ie *internalError
	switch {
	case errors.As(applyErr, &ie):
		return applyErr // after the result, if there was one
	case res == nil:
		return exit.WithCode(exit.Failed, applyErr)
	case deliverErr != nil:
		return errors.Join(deliverErr, exit.WithCode(exit.Failed, applyErr))
	case applyErr == nil:
		return nil
	case ctx.Err() != nil && errors.Is(applyErr, ctx.Err()):
		return exitWith(&o.TenantOptions, exit.Cancelled, res.Error)
	}
	return exitWith(&o.TenantOptions, exit.Failed, res.Error)
}

// rotateDryRun reads the app and prints what rotate-secret would do.
func rotateDryRun(o *RotateOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "rotate-secret", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	d.env.Journal = d.conn.Journal // rotate-secret adds a secret
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "give a new client secret", secretUnavailable)
	if err != nil {
		return err
	}
	req := setup.RotateRequest{Selector: sel, Lifetime: o.lifetime, RemoveOld: o.RemoveOld, Sandbox: d.sandbox()}
	if o.RemoveOld {
		// Planned, never called: a dry run proves nothing.
		req.Prove = func(context.Context, string, string) error { return errors.New("a dry run proves nothing") }
	}
	ro, err := setup.PrepareRotation(ctx, d.env, req)
	if err != nil {
		return d.failed(ctx, err)
	}
	return deliver(o.f, &o.TenantOptions, ro.DryRunResult(o.Cloud))
}

// rotate runs the rotation and delivers its result: early to --output-file
// the moment the secret exists, then to the file or stdout. A panic in it
// is returned as an internal error, the secret delivered all the same. A
// run stopped by a signal while its last step was under way ends as
// cancelled, even though nothing was left undone. res is nil when no
// secret was created.
func (o *RotateOptions) rotate(ctx context.Context, d *dayTwo, ro *setup.Rotation) (res *output.Result, applyErr, deliverErr error) {
	early := newDelivery(ctx, o.f, &o.TenantOptions)
	early.journal = d.conn.Journal
	d.env.OnSecret = early.secret
	if early.stopWaiting != nil {
		d.env.StopWaiting = early.stopWaiting
	}
	res, applyErr = early.guard(func() (*output.Result, error) { return ro.Apply(ctx, d.env) })
	if res == nil {
		return nil, applyErr, nil
	}
	if applyErr == nil && ctx.Err() != nil {
		res.Error = fmt.Sprintf("stopped (%v) after the new secret was added; it is delivered here and nothing else was left to do", context.Cause(ctx))
		applyErr = ctx.Err()
	}
	return res, applyErr, early.final(res)
}
