package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/setup"
)

// verifyAllRun is `verify --all`: every app entra-link made, one line
// each, then the problems with their fixes, a summary line last.
func verifyAllRun(o *VerifyOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	rep, err := setup.VerifyAll(ctx, d.env, setup.VerifyAllRequest{
		Profile: o.profile, ProfileFile: o.ProfileFile, WarnDays: o.WarnDays, FixArgs: d.fixArgs, Sandbox: d.sandbox(),
	})
	if err != nil {
		return preflightError(err)
	}
	var b bytes.Buffer
	if o.Output == output.FormatJSON {
		if err := writeJSON(&b, rep); err != nil {
			return err
		}
	} else {
		st := output.Style{Color: o.OutputFile == "" && o.f.IO.ColorEnabled() && o.f.IO.IsStdoutTTY()}
		renderVerifyAll(&b, rep, st)
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

// Column widths of verify --all's table: with the mark and the gaps
// between them a line is at most 79 columns.
const (
	colProduct = 12
	colApp     = 20
	colWrong   = 24
	colExpiry  = 18
)

// renderVerifyAll writes the table (one line per app: product, app, what
// is wrong, nearest credential expiry), then each app's problems and
// notes with the commands that fix them, and a summary line last.
func renderVerifyAll(w io.Writer, r *setup.AllReport, st output.Style) {
	if r.Sandbox {
		fmt.Fprintln(w, st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."))
		fmt.Fprintln(w)
	}
	tenant := r.TenantName
	if tenant == "" {
		tenant = "tenant " + r.TenantID
	}
	if len(r.Apps) == 0 {
		fmt.Fprintf(w, "No apps made by entra-link in %s.\n", tenant)
		fmt.Fprintln(w, st.Green("✓")+" 0 apps checked.")
		return
	}
	fmt.Fprintln(w, st.Bold(fmt.Sprintf("%d app(s) made by entra-link in %s", len(r.Apps), tenant)))
	fmt.Fprintf(w, "Credentials count as expiring within %d days (--warn-days).\n\n", r.WarnDays)
	fmt.Fprintf(w, "  %s %s %s %s\n", pad("PRODUCT", colProduct), pad("APP", colApp), pad("WHAT IS WRONG", colWrong), "NEXT EXPIRY")
	for _, a := range r.Apps {
		mark, wrong := verdictMark(a, st)
		product := a.Product
		if product == "" {
			product = a.Profile
		}
		if product == "" {
			product = "-"
		}
		fmt.Fprintf(w, "%s %s %s %s %s\n", mark, pad(product, colProduct), pad(a.App.DisplayName, colApp), pad(wrong, colWrong),
			fit(shortExpiry(a.NearestExpiry), colExpiry))
	}

	var detailed []setup.AppVerdict
	for _, a := range r.Apps {
		if len(a.Problems) > 0 || len(a.Warnings) > 0 || a.Error != "" {
			detailed = append(detailed, a)
		}
	}
	if len(detailed) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, st.Bold("Problems and how to fix them"))
	}
	for _, a := range detailed {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s (client ID %s)\n", a.App.DisplayName, a.App.ClientID)
		if a.Error != "" {
			fmt.Fprintf(w, "  %s could not be checked: %s\n", st.Red("✗"), a.Error)
			continue
		}
		var fixes []string
		for _, c := range a.Problems {
			fmt.Fprintf(w, "  %s %s\n", st.Red("✗"), c.Name)
			writeWrapped(w, c.Detail, "    ", 80)
			if c.Fix != "" && !slices.Contains(fixes, c.Fix) {
				fixes = append(fixes, c.Fix)
			}
		}
		for _, c := range a.Warnings {
			fmt.Fprintf(w, "  %s %s\n", st.Yellow("!"), c.Name)
			writeWrapped(w, c.Detail, "    ", 80)
			if c.Fix != "" && !slices.Contains(fixes, c.Fix) {
				fixes = append(fixes, c.Fix)
			}
		}
		for _, f := range fixes {
			fmt.Fprintf(w, "  fix: %s\n", f)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, summaryLine(r, st))
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
			return st.Red("✗"), fit(wrong, colWrong-len(more)) + more
		}
		return st.Red("✗"), wrong
	case len(a.Warnings) > 0:
		return st.Yellow("!"), a.Warnings[0].Short
	}
	return st.Green("✓"), "ok"
}

// shortExpiry is the nearest credential expiry in at most colExpiry
// columns: "2027-11-21", "2026-12-01 (10d)", "expired 2026-11-01".
func shortExpiry(e *setup.CredentialExpiry) string {
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

// writeWrapped writes text in lines of at most width columns, each
// starting with indent; a word longer than a line (a URL) stays whole.
func writeWrapped(w io.Writer, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len([]rune(line))+1+len([]rune(word)) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	if line != indent {
		fmt.Fprintln(w, line)
	}
}

// fit shortens s to n columns, ending in "…" when cut.
func fit(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// pad fits s to exactly n columns.
func pad(s string, n int) string {
	s = fit(s, n)
	return s + strings.Repeat(" ", n-len([]rune(s)))
}
