package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/setup"
)

// DeleteOptions are the flags of `entra-link delete`.
type DeleteOptions struct {
	f *Factory
	TenantOptions
	App    AppSelector
	Yes    bool
	DryRun bool

	ctx     context.Context
	fixArgs []string
}

// NewCmdDelete builds `entra-link delete`.
func NewCmdDelete(f *Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{f: f}
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete an app registration and its service principal",
		Long: `Delete an app registration that entra-link set up, with its service principal, its admin
consents and its directory role assignments. entra-link shows what it will delete and asks
first; --yes skips the question (and is required when it cannot ask).

Deleting the service principal takes the consents, delegated grants and directory role
assignments it holds with it; then the app is deleted. Both go in one request, in that
order: if the service principal cannot be deleted, the app is kept, and the command says
what was done. An app entra-link did not create is refused unless --app-id names it
explicitly (--name only matches the apps entra-link made).

Both stay in Entra's recycle bin (deleted items) for 30 days. Restore the app registration
(Deleted applications in the admin center, or POST /directory/deletedItems/{id}/restore),
then its service principal the same way: that brings back its consents and directory roles.
`,
		Example: `  # See what goes, then confirm
  entra-link delete --name Entitle

  # Only the plan: the service principal with every consent and role it holds, then the app
  entra-link delete --name Entitle --dry-run

  # In a script: an app entra-link did not create, by its client ID, with a JSON report
  entra-link delete --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --yes --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.TenantOptions.validate(f, cmd.Flags()); err != nil {
				return err
			}
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if opts.Output != "text" && opts.Output != "json" {
				return exit.UsageErrorf("invalid value %q for --output: delete prints text or json", opts.Output)
			}
			if err := dryRunAndYes(opts.DryRun, opts.Yes); err != nil {
				return err
			}
			opts.ctx = cmd.Context()
			opts.fixArgs = tenantFlags(&opts.TenantOptions, cmd.Flags())
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(opts)
		},
	}
	opts.TenantOptions.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	opts.App.register(cmd, "delete")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be deleted, step by step, and change nothing")
	return cmd
}

func deleteRun(o *DeleteOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "delete", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "delete", nil)
	if err != nil {
		return err
	}
	del, err := setup.PrepareDeletion(ctx, d.env, setup.DeleteRequest{Selector: sel, Sandbox: d.sandbox()})
	if err != nil {
		return d.failed(ctx, err)
	}
	if o.DryRun {
		res := del.DryRunResult(o.Cloud)
		var b bytes.Buffer
		if o.Output == output.FormatJSON {
			if err := writeJSON(&b, res); err != nil {
				return err
			}
		} else {
			renderDeletePlan(&b, res, output.Style{Color: o.f.IO.ColorEnabled() && o.f.IO.IsStdoutTTY()}, layout.Width(o.f.IO.Out))
		}
		_, err := o.f.IO.Out.Write(b.Bytes())
		return err
	}
	errOut := o.f.IO.ErrOut
	wd := width(o.f)
	header := []string{"This deletes from " + tenantTitle(del.Org) + ":"}
	body := layout.List("  - ", del.Summary(), wd)
	for _, w := range del.Warnings {
		body = append(body, layout.Hang("! ", "  ", w, wd)...)
	}
	body = append(body, layout.Wrap("The app and its service principal, with its consents and roles, can be restored from Entra's recycle bin for 30 days.", wd)...)
	body = append(body, "")
	fmt.Fprintln(errOut)
	if o.Yes {
		sayLines(errOut, append(header, body...)...)
	} else {
		if !o.f.IO.CanPrompt() {
			sayLines(errOut, append(header, body...)...)
			return exit.UsageErrorf("delete cannot ask for confirmation here: add --yes to delete %q (nothing was changed)", del.Found.App.DisplayName)
		}
		ok, err := confirmScreen(ctx, o.f, &o.TenantOptions, header, body, fmt.Sprintf("Delete %q?", del.Found.App.DisplayName), "Delete", "Keep it", false)
		if err != nil {
			return err
		}
		if !ok {
			return exit.WithCode(exit.Cancelled, errors.New("cancelled; nothing was deleted"))
		}
	}
	res, applyErr := del.Apply(ctx, d.env)
	var b bytes.Buffer
	if o.Output == output.FormatJSON {
		if err := writeJSON(&b, res); err != nil {
			return err
		}
	} else {
		renderDelete(&b, res, output.Style{Color: o.f.IO.ColorEnabled() && o.f.IO.IsStdoutTTY()}, layout.Width(o.f.IO.Out))
	}
	if _, err := o.f.IO.Out.Write(b.Bytes()); err != nil {
		return err
	}
	switch {
	case applyErr == nil:
		return nil
	case ctx.Err() != nil && errors.Is(applyErr, ctx.Err()):
		return exitWith(&o.TenantOptions, exit.Cancelled, res.Error)
	}
	return exitWith(&o.TenantOptions, exit.Failed, res.Error)
}

// renderDeletePlan prints what delete would do: the plan, one step a line,
// in lines of at most width columns.
func renderDeletePlan(w io.Writer, r *setup.DeleteResult, st output.Style, width int) {
	var out []string
	if r.Sandbox {
		out = append(out, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), "")
	}
	title := fmt.Sprintf("Plan to delete %q (client ID %s)", r.App.DisplayName, r.App.ClientID)
	if r.TenantName != "" {
		title += " from " + r.TenantName
	}
	for _, l := range layout.Wrap(title+" — dry run: nothing is changed", width) {
		out = append(out, st.Bold(l))
	}
	for _, l := range output.PlanLines(r.Plan) {
		out = append(out, layout.Line("  "+l, width)...)
	}
	for _, x := range r.Warnings {
		out = append(out, "")
		out = append(out, layout.Hang(st.Yellow("!")+" ", "  ", x, width)...)
	}
	out = append(out, "")
	out = append(out, layout.Wrap("Both could be restored from Entra's recycle bin for 30 days. Run the same command without --dry-run to delete them.", width)...)
	_, _ = io.WriteString(w, layout.Text(out))
}

// renderDelete reports what was deleted and how to undo it, in lines of
// at most width columns.
func renderDelete(w io.Writer, r *setup.DeleteResult, st output.Style, width int) {
	var out []string
	if r.Sandbox {
		out = append(out, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), "")
	}
	if r.Deleted {
		msg := fmt.Sprintf("Deleted %q (client ID %s) and its service principal", r.App.DisplayName, r.App.ClientID)
		if r.TenantName != "" {
			msg += " from " + r.TenantName
		}
		out = append(out, layout.Hang(st.Green("✓")+" ", "  ", msg+".", width)...)
		out = append(out, layout.Indent("  ", fmt.Sprintf("Removed with the service principal: %d admin consent(s), %d delegated grant(s), %d directory role assignment(s).",
			r.Removed.AppRoleAssignments, r.Removed.PermissionGrants, r.Removed.RoleAssignments), width)...)
		out = append(out, layout.Indent("  ", fmt.Sprintf("Stopped working: %d client secret(s), %d certificate(s).", r.Removed.Secrets, r.Removed.Certificates), width)...)
	} else {
		out = append(out, layout.Hang(st.Red("✗")+" ", "  ", fmt.Sprintf("%q (client ID %s) was not deleted.", r.App.DisplayName, r.App.ClientID), width)...)
		out = append(out, "", "What was done")
		for _, s := range r.Steps {
			mark := map[string]string{output.StepDone: st.Green("✓"), output.StepFailed: st.Red("✗"), output.StepInterrupted: st.Yellow("!")}[s.Status]
			if mark == "" {
				mark = " "
			}
			out = append(out, layout.Hang("  "+mark+" ", "    ", output.ActionWord(s.Action)+" "+s.Target, width)...)
		}
	}
	for _, x := range r.Warnings {
		out = append(out, "")
		out = append(out, layout.Hang(st.Yellow("!")+" ", "  ", x, width)...)
	}
	if r.Error != "" {
		out = append(out, "")
		out = append(out, layout.Hang(st.Red("✗")+" ", "  ", r.Error, width)...)
	}
	if rb := r.RecycleBin; rb != nil {
		out = append(out, "")
		out = append(out, layout.Wrap(fmt.Sprintf("Both stay in Entra's recycle bin for %d days. To restore the app registration:", rb.RetentionDays), width)...)
		out = append(out, layout.Hang("  - ", "    ", "in the portal: "+rb.Portal, width)...)
		out = append(out, layout.Hang("  - ", "    ", "or with Microsoft Graph:", width)...)
		out = append(out, layout.Indent("    ", rb.RestoreRequest, width)...)
		if rb.RestoreServicePrincipalRequest != "" {
			out = append(out, layout.Wrap("then its service principal, with its consents and directory roles:", width)...)
			out = append(out, layout.Indent("    ", rb.RestoreServicePrincipalRequest, width)...)
		}
		out = append(out, layout.Hang("Note: ", "  ", rb.AfterRestore+".", width)...)
	}
	_, _ = io.WriteString(w, layout.Text(out))
}
