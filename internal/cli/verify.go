package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
)

// maxWarnDays bounds --warn-days at ten years: longer than any secret (at
// most two years) or certificate entra-link makes, and far from where the
// date arithmetic would overflow.
const maxWarnDays = 3650

// VerifyOptions are the flags of `entra-link verify`.
type VerifyOptions struct {
	f *Factory
	TenantOptions
	App         AppSelector
	ProfileID   string
	ProfileFile string
	WarnDays    int
	All         bool
	InputFlags

	ctx     context.Context
	fixArgs []string
	profile *profile.Profile
}

// NewCmdVerify builds `entra-link verify`.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check an app against its profile: permissions, consent, roles, credential expiry",
		Long: `Check that an app is still set up the way its product needs. verify computes, reading
only, the plan setup would make for the app: a healthy app's plan keeps everything. Every other
step is a problem, in words: something missing (a permission, its consent, a directory role,
a URI), something that differs (account type, ID tokens), or something the app has and the
profile does not ask for (an extra permission, consent, role, redirect or identifier URI).
A credential that has expired or expires within --warn-days is a problem too.

The profile is the one recorded on the app by entra-link, or --profile / --profile-file.
The inputs (Relution's server URL, Unify's redirect URIs) are the ones setup applied: it
records their fingerprint in a tag on the app, so that a URI added or replaced after setup is
a problem too. --server-url, --redirect-uri and --input check against the given values instead.
Each problem comes with the command that fixes it: setup --app-id … (with --prune for extras)
or rotate-secret. --output json prints {"app", "profile", "healthy", "checks": [{"name",
"status", "detail", "fix"}], "problems", "plan"}.

--all checks every app entra-link made in the tenant, each against the profile recorded on
it (--profile-file supplies a profile that is not built in, for the apps that record its
id): one line per app, then each app's problems with the commands that fix them, and a
summary line last. It never asks anything, so it suits cron and pipelines; its cost does
not grow with the number of apps (the per-app reads are batched). --output json prints
{"apps": [{"app", "profile", "healthy", "problems", "nearestCredentialExpiry"}], "summary"}.

Exit status: 0 healthy, 3 problems found (with --all: in any app), 2 when the app cannot
be found or has no profile, or a flag's value is invalid.`,
		Example: `  entra-link verify --name Relution
  entra-link verify --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --warn-days 60 --output json
  entra-link verify --name Unify --redirect-uri https://app.unifyapps.com/oauth/callback

  # Every app in the tenant, e.g. from cron: exit status 3 when any needs attention
  entra-link verify --all --warn-days 45 --output json`,
		Args: noArgs,
		RunE: dayTwoRunE(f, &opts.TenantOptions, &opts.ctx, &opts.fixArgs, func() error {
			if opts.All {
				if opts.App.AppID != "" || opts.App.Name != "" {
					return exit.UsageErrorf("--all checks every app entra-link made: it cannot be combined with --app-id or --name")
				}
				if opts.ProfileID != "" {
					return exit.UsageErrorf("--all checks each app against the profile recorded on it: --profile cannot be combined with it (--profile-file supplies a profile that is not built in)")
				}
				if opts.InputFlags.anySet() {
					return exit.UsageErrorf("--all checks each app against the inputs setup applied to it: --server-url, --redirect-uri and --input check one app (--app-id or --name)")
				}
				// Suitable for cron and pipelines: it never asks.
				opts.NoInput = true
				f.IO.SetNeverPrompt(true)
			} else if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if opts.WarnDays < 0 || opts.WarnDays > maxWarnDays {
				return exit.UsageErrorf("invalid value %d for --warn-days: want 0 to %d days (credentials live at most a few years)", opts.WarnDays, maxWarnDays)
			}
			if err := textOrJSON("verify", opts.Output); err != nil {
				return err
			}
			if opts.ProfileID != "" {
				p, err := profile.Builtin(opts.ProfileID)
				if err != nil {
					return exit.UsageErrorf("--profile: %v", err)
				}
				opts.profile = p
			}
			if opts.ProfileFile != "" {
				p, err := profile.LoadFile(opts.ProfileFile)
				if err != nil {
					return exit.UsageErrorf("--profile-file: %v", err)
				}
				opts.profile = p
			}
			if err := opts.InputFlags.validate(); err != nil {
				return err
			}
			if opts.profile != nil {
				// Checked before signing in when the profile is known; else
				// once the app's recorded profile is read.
				if _, err := setup.GivenValues(opts.profile, opts.values(), f.Now()); err != nil {
					return exit.UsageError(err)
				}
			}
			return nil
		}, func() error {
			if runF != nil {
				return runF(opts)
			}
			if opts.All {
				return verifyAllRun(opts)
			}
			return verifyRun(opts)
		}),
	}
	opts.TenantOptions.register(cmd, true)
	// verify reports checks, not credentials: env and handover do not apply.
	cmd.Flags().Lookup("output").Usage = "output format: text or json"
	opts.App.register(cmd, "check")
	cmd.Flags().StringVarP(&opts.ProfileID, "profile", "p", "", "check against this built-in profile instead of the one recorded on the app")
	cmd.Flags().StringVar(&opts.ProfileFile, "profile-file", "", "check against this profile file")
	cmd.Flags().IntVar(&opts.WarnDays, "warn-days", 30, "report credentials that expire within this many days")
	opts.InputFlags.register(cmd.Flags(), true)
	cmd.Flags().BoolVar(&opts.All, "all", false, "check every app entra-link made in the tenant (one line each, then the problems; never prompts)")
	cmd.MarkFlagsMutuallyExclusive("profile", "profile-file")
	return cmd
}

func verifyRun(o *VerifyOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "verify", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "check", verifyUnavailable(o.profile))
	if err != nil {
		return err
	}
	rep, err := setup.Verify(ctx, d.env, setup.VerifyRequest{
		Selector: sel, Profile: o.profile, ProfileFile: o.ProfileFile, WarnDays: o.WarnDays, FixArgs: d.fixArgs, Sandbox: d.sandbox(),
		Values: o.values(),
	})
	if err != nil {
		return d.failed(ctx, err)
	}
	if err := report(o.f, &o.TenantOptions, rep, func(w io.Writer, st output.Style, width int) { renderVerify(w, rep, st, width) }); err != nil {
		return err
	}
	if rep.Healthy {
		return nil
	}
	return exitWith(&o.TenantOptions, exit.Problems, fmt.Sprintf("verify found %d problem(s): %s", len(rep.Problems), strings.Join(rep.Problems, "; ")))
}

// renderVerify writes the checklist: ✓ fine, ✗ problem, ! worth a look,
// each problem with the command that fixes it (on a line of its own, so
// that it copies whole); lines of at most width columns.
func renderVerify(w io.Writer, r *setup.Report, st output.Style, width int) {
	var out []string
	if r.Sandbox {
		out = append(out, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), "")
	}
	title := fmt.Sprintf("%s (client ID %s) checked against profile %s", r.App.DisplayName, r.App.ClientID, r.Profile)
	if len(r.Features) > 0 {
		title += " with " + strings.Join(r.Features, ", ")
	}
	if r.TenantName != "" {
		title += " in " + r.TenantName
	}
	for _, l := range layout.Wrap(title, width) {
		out = append(out, st.Bold(l))
	}
	out = append(out, "")
	for _, c := range r.Checks {
		mark := st.Green("✓")
		switch c.Status {
		case setup.CheckProblem:
			mark = st.Red("✗")
		case setup.CheckWarning:
			mark = st.Yellow("!")
		}
		line := "  " + mark + " " + c.Name
		if c.Detail != "" {
			line += st.Dim(" — " + c.Detail)
		}
		out = append(out, layout.Line(line, width)...)
		if c.Fix != "" {
			if fix := "      fix: " + c.Fix; layout.StringWidth(fix) <= width {
				out = append(out, fix)
			} else {
				out = append(out, "      fix:")
				out = append(out, layout.Command("        ", c.Fix, width)...)
			}
		}
	}
	out = append(out, "")
	switch {
	case r.Healthy && len(r.Warnings) == 0:
		out = append(out, layout.Hang(st.Green("✓")+" ", "  ", fmt.Sprintf("%s is set up as %s needs it.", r.App.DisplayName, productOr(r)), width)...)
	case r.Healthy:
		out = append(out, layout.Hang(st.Green("✓")+" ", "  ", fmt.Sprintf("%s is set up as %s needs it; %d thing(s) marked ! are worth a look.", r.App.DisplayName, productOr(r), len(r.Warnings)), width)...)
	default:
		out = append(out, layout.Hang(st.Red("✗")+" ", "  ", fmt.Sprintf("%d problem(s) found (exit status 3); each comes with the command that fixes it.", len(r.Problems)), width)...)
	}
	_, _ = io.WriteString(w, layout.Text(out))
}

func productOr(r *setup.Report) string {
	if r.Product != "" {
		return r.Product
	}
	return r.Profile
}
