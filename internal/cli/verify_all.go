package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/setup"
)

// verifyAllRun is `verify --all`: every app entra-link made, one line
// each, then the problems with their fixes, a summary line last.
func verifyAllRun(o *VerifyOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "verify --all", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	rep, err := setup.VerifyAll(ctx, d.env, setup.VerifyAllRequest{
		Profile: o.profile, ProfileFile: o.ProfileFile, WarnDays: o.WarnDays, FixArgs: d.fixArgs, Sandbox: d.sandbox(),
	})
	if err != nil {
		return d.failed(ctx, err)
	}
	var b bytes.Buffer
	if o.Output == output.FormatJSON {
		if err := writeJSON(&b, rep); err != nil {
			return err
		}
	} else {
		st := output.Style{Color: o.OutputFile == "" && o.f.IO.ColorEnabled() && o.f.IO.IsStdoutTTY()}
		width := layout.DefaultWidth
		if o.OutputFile == "" {
			width = layout.Width(o.f.IO.Out)
		}
		renderVerifyAll(&b, rep, st, width)
	}
	if err := writeOutput(o.f, &o.TenantOptions, b.Bytes()); err != nil {
		return err
	}
	s := rep.Summary
	switch {
	case s.Unchecked > 0:
		return exitWith(&o.TenantOptions, exit.Failed, fmt.Sprintf("verify --all could not check %d of %d app(s)", s.Unchecked, s.Apps))
	case !rep.Healthy:
		return exitWith(&o.TenantOptions, exit.Problems, fmt.Sprintf("verify --all found %d problem(s) in %d of %d app(s)", s.Problems, s.WithProblems, s.Apps))
	}
	return nil
}

// Column widths of verify --all's table at 80 columns: with the mark and
// the gaps between them a line is 79 columns. A wider terminal gives the
// app's name the extra room.
const (
	colProduct = 12
	colApp     = 20
	colWrong   = 24
	colExpiry  = 18
)

// renderVerifyAll writes the table (one line per app: product, app, what
// is wrong, nearest credential expiry), then each app's problems and
// notes with the commands that fix them, and a summary line last, in
// lines of at most width columns (fix commands are laid out to copy).
func renderVerifyAll(w io.Writer, r *setup.AllReport, st output.Style, width int) {
	var out []string
	if r.Sandbox {
		out = append(out, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), "")
	}
	tenant := r.TenantName
	if tenant == "" {
		tenant = "tenant " + r.TenantID
	}
	if len(r.Apps) == 0 {
		out = append(out, layout.Wrap(fmt.Sprintf("No apps made by entra-link in %s.", tenant), width)...)
		out = append(out, st.Green("✓")+" 0 apps checked.")
		_, _ = io.WriteString(w, layout.Text(out))
		return
	}
	for _, l := range layout.Wrap(fmt.Sprintf("%d app(s) made by entra-link in %s", len(r.Apps), tenant), width) {
		out = append(out, st.Bold(l))
	}
	out = append(out, layout.Wrap(fmt.Sprintf("Credentials count as expiring within %d days (--warn-days).", r.WarnDays), width)...)
	out = append(out, "")
	appW := colApp + max(0, width-80)
	out = append(out, "  "+layout.Pad("PRODUCT", colProduct)+" "+layout.Pad("APP", appW)+" "+layout.Pad("WHAT IS WRONG", colWrong)+" NEXT EXPIRY")
	for _, a := range r.Apps {
		mark, wrong := verdictMark(a, st)
		product := a.Product
		if product == "" {
			product = orDash(a.Profile)
		}
		out = append(out, mark+" "+layout.Pad(layout.Truncate(product, colProduct), colProduct)+" "+layout.Pad(layout.Truncate(a.App.DisplayName, appW), appW)+" "+
			layout.Pad(layout.Truncate(wrong, colWrong), colWrong)+" "+layout.Truncate(verdictExpiry(a.NearestExpiry), colExpiry))
	}

	var detailed []setup.AppVerdict
	for _, a := range r.Apps {
		if len(a.Problems) > 0 || len(a.Warnings) > 0 || a.Error != "" {
			detailed = append(detailed, a)
		}
	}
	if len(detailed) > 0 {
		out = append(out, "", st.Bold("Problems and how to fix them"))
	}
	for _, a := range detailed {
		out = append(out, "")
		out = append(out, layout.Wrap(fmt.Sprintf("%s (client ID %s)", a.App.DisplayName, a.App.ClientID), width)...)
		if a.Error != "" {
			out = append(out, layout.Hang("  "+st.Red("✗")+" ", "    ", "could not be checked: "+a.Error, width)...)
			continue
		}
		var fixes []string
		note := func(mark string, c setup.Check) {
			out = append(out, layout.Hang("  "+mark+" ", "    ", c.Name, width)...)
			out = append(out, layout.Indent("    ", c.Detail, width)...)
			if c.Fix != "" && !slices.Contains(fixes, c.Fix) {
				fixes = append(fixes, c.Fix)
			}
		}
		for _, c := range a.Problems {
			note(st.Red("✗"), c)
		}
		for _, c := range a.Warnings {
			note(st.Yellow("!"), c)
		}
		for _, f := range fixes {
			out = append(out, layout.Command("  fix: ", f, width)...)
		}
	}
	out = append(out, "")
	out = append(out, layout.Wrap(summaryLine(r, st), width)...)
	_, _ = io.WriteString(w, layout.Text(out))
}

// verdictMark is an app's mark and what is wrong, in a few words.
func verdictMark(a setup.AppVerdict, st output.Style) (string, string) {
	switch {
	case a.Error != "":
		return st.Red("?"), "could not be read"
	case len(a.Problems) > 0:
		wrong := a.Problems[0].Short
		if wrong == "" {
			wrong = a.Problems[0].Name
		}
		if n := len(a.Problems) - 1; n > 0 {
			more := fmt.Sprintf(" +%d", n)
			return st.Red("✗"), layout.Truncate(wrong, colWrong-len(more)) + more
		}
		return st.Red("✗"), wrong
	case len(a.Warnings) > 0:
		return st.Yellow("!"), a.Warnings[0].Short
	}
	return st.Green("✓"), "ok"
}

// verdictExpiry is the nearest credential expiry in at most colExpiry
// columns: "2027-11-21", "2026-12-01 (10d)", "expired 2026-11-01".
func verdictExpiry(e *setup.CredentialExpiry) string {
	if e == nil {
		return "no credential"
	}
	date := e.At.Format("2006-01-02")
	switch {
	case e.Expired:
		return "expired " + date
	case e.Days < 100:
		return fmt.Sprintf("%s (%dd)", date, e.Days)
	}
	return date
}

// summaryLine is the last line: how many apps, how many need attention.
func summaryLine(r *setup.AllReport, st output.Style) string {
	s := r.Summary
	if s.Unchecked > 0 {
		return fmt.Sprintf("%s %s checked: %d could not be read, %d with problems.", st.Red("✗"), count(s.Apps, "app"), s.Unchecked, s.WithProblems)
	}
	if r.Healthy {
		return fmt.Sprintf("%s %s checked: all set up as their products need them.", st.Green("✓"), count(s.Apps, "app"))
	}
	line := fmt.Sprintf("%s %s checked, %d healthy: %s in %s", st.Red("✗"), count(s.Apps, "app"), s.Healthy, count(s.Problems, "problem"), count(s.WithProblems, "app"))
	if s.Expiring > 0 {
		line += ", " + count(s.Expiring, "expiring credential")
	}
	return line + "."
}

// count is "1 app", "3 apps".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
