package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
)

// RetireOptions are the flags of `entra-link retire`.
type RetireOptions struct {
	f *Factory
	TenantOptions
	App    AppSelector
	KeyIDs []string
	Force  bool
	Yes    bool
	DryRun bool

	ctx     context.Context
	fixArgs []string
}

// NewCmdRetire builds `entra-link retire`.
func NewCmdRetire(f *Factory, runF func(*RetireOptions) error) *cobra.Command {
	opts := &RetireOptions{f: f}
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Remove an app's old secrets and certificates once the product uses the new one",
		Long: `Remove the old client secrets and certificates of an app, and add none: the second half of a
rotation without downtime. First rotate-secret (or rotate-certificate) adds a new credential
and keeps the old ones; once the product uses the new one, retire removes the others.

By default every secret and certificate goes except the newest valid secret and the newest
valid certificate; --key-id names exactly which go (a key ID, or a certificate's thumbprint;
repeatable). The newest valid secret and certificate are never removed, whatever the flags,
since after a rotation they are what the product was switched to. To replace one of them,
rotate first, switch the product, then retire.

Where the signed-in identity may read the tenant's sign-in logs (AuditLog.Read.All and
Directory.Read.All, and for a person a role such as Reports Reader or Security Reader;
entra-link does not ask for them), retire shows which credential the app last signed in with,
and refuses to remove that one without --force: the product may still use it. The logs are a
few minutes behind. Where they cannot be read, retire says so and goes by the rules above.

Each credential is shown before anything is removed: when it expires, when it was added, where
entra-link delivered it (its journal on this machine) and its last sign-in. retire asks first
(--yes skips the question, and is required when it cannot ask). Secrets go one request each;
certificates in one update of the app's certificates (read right before), or with removeKey,
proven by the certificate entra-link signed in with, when it is signed in as the app itself.
Nothing to retire is not an error (exit 0).`,
		Example: `  # After rotate-secret and switching Relution to the new secret: see what goes, then confirm
  entra-link retire --name Relution

  # Only the plan, as JSON
  entra-link retire --name Relution --dry-run --output json

  # In a runbook: retire one secret by its key ID
  entra-link retire --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --key-id 9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b --yes`,
		Args: noArgs,
		RunE: dayTwoRunE(f, &opts.TenantOptions, &opts.ctx, &opts.fixArgs, func() error {
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if err := textOrJSON("retire", opts.Output); err != nil {
				return err
			}
			for _, k := range opts.KeyIDs {
				if !profile.IsGUID(k) && !thumbprintPattern.MatchString(k) {
					return exit.UsageErrorf("invalid value %q for --key-id: want a secret's or certificate's key ID (a GUID, as retire --dry-run lists them) or a certificate's SHA-1 thumbprint (40 hex digits)", k)
				}
			}
			return dryRunAndYes(opts.DryRun, opts.Yes)
		}, func() error {
			if runF != nil {
				return runF(opts)
			}
			return retireRun(opts)
		}),
	}
	opts.TenantOptions.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", output.FormatText, "output format: text or json")
	opts.App.register(cmd, "retire old credentials of")
	cmd.Flags().StringArrayVar(&opts.KeyIDs, "key-id", nil, "retire only this secret or certificate: its key ID (or a certificate's thumbprint); repeatable")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "also retire the credential the sign-in logs show the app last signed in with")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "retire without asking")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be retired and kept, with why, and change nothing")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(output.FormatText, output.FormatJSON))
	return cmd
}

var thumbprintPattern = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

func retireRun(o *RetireOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "retire", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	d.env.Journal = d.conn.Journal // where entra-link delivered each secret
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "retire old credentials of", nil)
	if err != nil {
		return err
	}
	req := setup.RetireRequest{Selector: sel, KeyIDs: o.KeyIDs, Force: o.Force, Sandbox: d.sandbox(), SignInSecretHint: d.conn.SecretHint}
	if req.Signer, err = envSigner(o.f, &o.TenantOptions); err != nil {
		return err
	}
	rt, err := setup.PrepareRetirement(ctx, d.env, req)
	if err != nil {
		return d.failed(ctx, err)
	}
	if o.DryRun {
		if err := o.write(rt.DryRunResult(o.Cloud), true); err != nil {
			return err
		}
		if probs := rt.Problems(); len(probs) > 0 {
			return exit.UsageError(&setup.PreconditionError{Problems: probs})
		}
		return nil
	}
	errOut := o.f.IO.ErrOut
	header, body := retireScreen(rt, output.Style{Color: o.f.IO.ColorEnabled()}, width(o.f))
	if probs := rt.Problems(); len(probs) > 0 {
		sayLines(errOut, append(header, body...)...)
		return exit.UsageError(&setup.PreconditionError{Problems: probs})
	}
	if !rt.Changes() {
		sayLines(errOut, append(header, body...)...)
		res := rt.DryRunResult(o.Cloud)
		res.DryRun, res.Plan = false, nil
		return o.write(res, false)
	}
	fmt.Fprintln(errOut)
	ok, err := confirm(ctx, o.f, &o.TenantOptions, o.Yes, header, body, "Remove them?", "Remove", "Keep them",
		"retire cannot ask for confirmation here: add --yes to remove them (nothing was changed)")
	if err != nil {
		return err
	}
	if !ok {
		return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was removed"))
	}
	res, applyErr := rt.Apply(ctx, d.env)
	if res == nil {
		return preflightError(applyErr)
	}
	if err := o.write(res, false); err != nil {
		return err
	}
	return outcome(ctx, &o.TenantOptions, applyErr, res.Error)
}

// write prints the result (or, for a plan, what would be done) as
// --output says.
func (o *RetireOptions) write(res *setup.RetireResult, plan bool) error {
	return report(o.f, &o.TenantOptions, res, func(w io.Writer, st output.Style, width int) { renderRetire(w, res, st, width, plan) })
}

// retireScreen is what retire is about to do, for the confirmation: the
// app and tenant (kept on screen) and the plan's lines.
func retireScreen(rt *setup.Retirement, st output.Style, width int) (header, body []string) {
	title := fmt.Sprintf("Retire old credentials of %s in %s:", rt.Found.Label(), tenantTitle(rt.Org))
	for _, l := range layout.Wrap(title, width) {
		header = append(header, st.Bold(l))
	}
	for _, l := range rt.Plan().Lines() {
		body = append(body, layout.Line("  "+l, width)...)
	}
	if !rt.Changes() {
		body = append(body, layout.Wrap("Nothing to retire: the app has no credential besides the newest valid ones.", width)...)
	}
	for _, w := range rt.Warnings {
		body = append(body, layout.Hang(st.Yellow("!")+" ", "  ", w, width)...)
	}
	return header, append(body, "")
}

// renderRetire reports what retire removed and kept (or, for a plan, would).
func renderRetire(w io.Writer, r *setup.RetireResult, st output.Style, width int, plan bool) {
	var out []string
	if r.Sandbox {
		out = append(out, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), "")
	}
	app := fmt.Sprintf("%q (client ID %s)", r.App.DisplayName, r.App.ClientID)
	if r.TenantName != "" {
		app += " in " + r.TenantName
	}
	switch {
	case plan:
		for _, l := range layout.Wrap("Plan to retire old credentials of "+app+" — dry run: nothing is changed", width) {
			out = append(out, st.Bold(l))
		}
		for _, l := range output.PlanLines(r.Plan) {
			out = append(out, layout.Line("  "+l, width)...)
		}
	case len(r.Steps) == 0:
		out = append(out, layout.Hang(st.Green("✓")+" ", "  ", "Nothing to retire for "+app+": it has no credential besides the newest valid ones.", width)...)
	default:
		msg := fmt.Sprintf("Retired %s of %s.", plural(len(r.Retired), "credential"), app)
		mark := st.Green("✓")
		if r.Error != "" {
			mark = st.Red("✗")
		}
		out = append(out, layout.Hang(mark+" ", "  ", msg, width)...)
		for _, s := range r.Steps {
			if s.Action != "remove" {
				continue
			}
			m := stepMark(st, s.Status)
			line := "removed " + s.Target
			if s.Status != output.StepDone {
				line = "not removed: " + s.Target
				if s.Outcome != "" {
					line += " — " + s.Outcome
				}
			}
			out = append(out, layout.Hang("  "+m+" ", "    ", line, width)...)
		}
	}
	if len(r.Kept) > 0 && !plan {
		out = append(out, "", "Kept")
		for _, c := range r.Kept {
			line := c.Label() + ", expires " + c.End.UTC().Format("2006-01-02")
			if c.Delivered != "" {
				line += "; " + c.Delivered
			}
			out = append(out, layout.Hang("  • ", "    ", line, width)...)
		}
	}
	if l := r.SignIns.Last; l != nil && r.SignIns.Read && !plan {
		what := l.Credential
		if what == "" {
			what = "a credential it no longer has (key ID " + l.KeyID + ")"
		}
		out = append(out, "")
		out = append(out, layout.Wrap(fmt.Sprintf("The app last signed in with %s at %s.", what, l.At.UTC().Format("2006-01-02 15:04 UTC")), width)...)
	}
	for _, x := range r.Warnings {
		out = append(out, "")
		out = append(out, layout.Hang(st.Yellow("!")+" ", "  ", x, width)...)
	}
	if r.Error != "" {
		out = append(out, "")
		out = append(out, layout.Hang(st.Red("✗")+" ", "  ", r.Error, width)...)
	}
	if plan {
		next := "Run the same command without --dry-run to retire them."
		if len(r.Retired) == 0 {
			next = "Nothing to retire: the app has no credential besides the newest valid ones."
		}
		out = append(out, "")
		out = append(out, layout.Wrap(next, width)...)
	}
	_, _ = io.WriteString(w, layout.Text(out))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
