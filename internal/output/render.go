package output

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Style decorates text output; the zero value is plain.
type Style struct {
	Color bool
}

func (s Style) wrap(code, text string) string {
	if !s.Color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// Bold text.
func (s Style) Bold(t string) string { return s.wrap("1", t) }

// Green text.
func (s Style) Green(t string) string { return s.wrap("32", t) }

// Red text.
func (s Style) Red(t string) string { return s.wrap("31", t) }

// Yellow text.
func (s Style) Yellow(t string) string { return s.wrap("33", t) }

// Dim text.
func (s Style) Dim(t string) string { return s.wrap("2", t) }

// Render writes r in the given format.
func Render(w io.Writer, format string, r *Result, st Style, now time.Time) error {
	switch format {
	case FormatJSON:
		return RenderJSON(w, r)
	case FormatEnv:
		return RenderEnv(w, r)
	case FormatHandover:
		return RenderHandover(w, r)
	default:
		return RenderText(w, r, st, now)
	}
}

// RenderJSON writes exactly one JSON object.
func RenderJSON(w io.Writer, r *Result) error {
	if r.Permissions == nil {
		r.Permissions = []PermissionStatus{}
	}
	if r.DirectoryRoles == nil {
		r.DirectoryRoles = []RoleStatus{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// RenderEnv writes AZURE_* variables as azidentity's EnvironmentCredential reads them.
func RenderEnv(w io.Writer, r *Result) error {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s=%s\n", k, shellQuote(v))
		}
	}
	line("AZURE_TENANT_ID", r.TenantID)
	line("AZURE_CLIENT_ID", r.ClientID)
	line("AZURE_CLIENT_SECRET", r.ClientSecret)
	if r.ClientSecret == "" {
		line("AZURE_CLIENT_CERTIFICATE_PATH", r.certificateEnvPath())
	}
	// azidentity reads the cloud from AZURE_AUTHORITY_HOST; global is its default.
	line("AZURE_AUTHORITY_HOST", r.AuthorityHost)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) certificateEnvPath() string {
	return r.CertificateBundlePath
}

// shellQuote quotes v for POSIX shells and dotenv files when needed.
func shellQuote(v string) string {
	safe := true
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./:@%+,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// RenderHandover writes the values in the product's own format.
func RenderHandover(w io.Writer, r *Result) error {
	if r.Handover == nil {
		return fmt.Errorf("no hand-over values: nothing was set up")
	}
	if r.HandoverFormat == "json" {
		var b strings.Builder
		b.WriteString("{\n")
		for i, f := range r.Handover.Fields {
			k, _ := json.Marshal(f.Label)
			v, _ := json.Marshal(f.Value)
			fmt.Fprintf(&b, "  %s: %s", k, v)
			if i < len(r.Handover.Fields)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	var b strings.Builder
	for _, f := range r.Handover.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderText writes the human-readable report.
func RenderText(w io.Writer, r *Result, st Style, now time.Time) error {
	var b strings.Builder
	if r.Sandbox {
		b.WriteString(st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant.") + "\n\n")
	}
	if r.DryRun {
		renderPlan(&b, r, st)
	} else {
		renderOutcome(&b, r, st, now)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderPlan(b *strings.Builder, r *Result, st Style) {
	where := "offline: the tenant was not read, so steps that depend on it say \"create or update\""
	if r.TenantName != "" {
		where = "in " + r.TenantName
		if r.TenantDomain != "" {
			where += " (" + r.TenantDomain + ")"
		}
	}
	fmt.Fprintf(b, "%s\n", st.Bold(fmt.Sprintf("Plan for %s (profile %s, %s cloud) — dry run: nothing is changed", r.DisplayName, r.Profile, r.Cloud)))
	fmt.Fprintf(b, "%s\n", where)
	for _, l := range PlanLines(r.Plan) {
		b.WriteString("  " + l + "\n")
	}
	renderPermissions(b, r, st, true)
	for _, w := range r.Warnings {
		fmt.Fprintf(b, "\n%s %s\n", st.Yellow("!"), w)
	}
	if len(r.Placeholders) > 0 {
		fmt.Fprintf(b, "\nValues shown as <--flag> were not given: give them with %s.\n", strings.Join(r.Placeholders, ", "))
	}
	b.WriteString("\nRun the same command without --dry-run to apply it.\n")
}

// ActionWord is how a step's action reads in text.
func ActionWord(action string) string {
	return strings.ReplaceAll(action, "-", " ")
}

// PlanLines renders steps as plain lines, one per step: the action, the
// target and, after a dash, the detail. The dry run, the wizard's review,
// the flag path's confirmation and verify all show a plan through it, so
// they cannot drift apart.
func PlanLines(steps []Step) []string {
	width := 0
	for _, s := range steps {
		width = max(width, len([]rune(ActionWord(s.Action))))
	}
	out := make([]string, 0, len(steps))
	for _, s := range steps {
		line := fmt.Sprintf("%-*s  %s", width, ActionWord(s.Action), s.Target)
		if s.Detail != "" {
			line += " — " + s.Detail
		}
		out = append(out, line)
	}
	return out
}

func renderPermissions(b *strings.Builder, r *Result, st Style, plan bool) {
	if len(r.Permissions) > 0 {
		b.WriteString("\nPermissions\n")
		for _, p := range r.Permissions {
			mark := st.Green("✓")
			if plan {
				mark = "•"
			} else if !p.Consented {
				mark = st.Red("✗")
			}
			fmt.Fprintf(b, "  %s %s · %s · %s", mark, p.Resource, p.Type, p.Name)
			if p.Description != "" {
				fmt.Fprintf(b, " — %s", st.Dim(p.Description))
			}
			if !plan && !p.Consented {
				b.WriteString(" (admin consent still needed)")
			}
			b.WriteByte('\n')
		}
	}
	if len(r.DirectoryRoles) > 0 {
		b.WriteString("\nDirectory roles for the app\n")
		for _, d := range r.DirectoryRoles {
			mark := st.Green("✓")
			if plan {
				mark = "•"
			} else if !d.Assigned {
				mark = st.Red("✗")
			}
			fmt.Fprintf(b, "  %s %s\n", mark, d.Name)
		}
	}
}

func renderOutcome(b *strings.Builder, r *Result, st Style, now time.Time) {
	title := fmt.Sprintf("%s is set up", r.DisplayName)
	switch {
	case r.Title != "" && r.Error != "":
		title = r.Title + " (with errors)"
	case r.Title != "":
		title = r.Title
	case r.Error != "":
		title = fmt.Sprintf("%s is only partly set up", r.DisplayName)
	}
	if r.TenantName != "" {
		title += " in " + r.TenantName
		if r.TenantDomain != "" {
			title += " (" + r.TenantDomain + ")"
		}
	}
	b.WriteString(st.Bold(title) + "\n")
	if r.Handover != nil && len(r.Handover.Fields) > 0 {
		fmt.Fprintf(b, "\nValues for %s\n", productName(r))
		if r.HandoverFormat == "json" {
			var hb strings.Builder
			_ = RenderHandover(&hb, r)
			for _, l := range strings.Split(strings.TrimRight(hb.String(), "\n"), "\n") {
				b.WriteString("  " + l + "\n")
			}
		} else {
			width := 0
			for _, f := range r.Handover.Fields {
				width = max(width, len(f.Label))
			}
			for _, f := range r.Handover.Fields {
				fmt.Fprintf(b, "  %-*s  %s\n", width, f.Label, f.Value)
			}
		}
	}
	if r.ClientSecret != "" && r.ClientSecretExpiresAt != nil {
		days := int(math.Round(r.ClientSecretExpiresAt.Sub(now).Hours() / 24))
		fmt.Fprintf(b, "\n%s The client secret is shown only this once: store it now. It expires on %s (in %d days).\n",
			st.Yellow("!"), r.ClientSecretExpiresAt.Format("2006-01-02"), days)
	}
	if k := r.KeptSecret; k != nil {
		hint := ""
		if k.Hint != "" {
			hint = k.Hint + "…, "
		}
		fmt.Fprintf(b, "\n%s The app's client secret (%sexpires %s) was kept: its value cannot be read back, so it is not shown. For a new one, run the same command with --new-credential (the old one keeps working).\n",
			st.Yellow("!"), hint, k.ExpiresAt.UTC().Format("2006-01-02"))
	}
	if r.CertificateThumbprint != "" {
		fmt.Fprintf(b, "\nCertificate %s", r.CertificateThumbprint)
		if r.CertificateExpiresAt != nil {
			fmt.Fprintf(b, " (expires %s)", r.CertificateExpiresAt.Format("2006-01-02"))
		}
		b.WriteByte('\n')
		for _, p := range []string{r.CertificateKeyPath, r.CertificateCertPath, r.CertificatePFXPath, r.CertificateBundlePath} {
			if p != "" {
				fmt.Fprintf(b, "  wrote %s\n", p)
			}
		}
	}
	renderPermissions(b, r, st, false)
	if r.ConsentURL != "" {
		fmt.Fprintf(b, "\n%s Admin consent is still needed. Send this link to a Global Administrator or Privileged Role Administrator:\n  %s\n",
			st.Yellow("!"), r.ConsentURL)
	}
	if len(r.Steps) > 0 && (r.Error != "" || hasStatus(r.Steps, StepFailed, StepNotRun, StepInterrupted)) {
		b.WriteString("\nWhat was done\n")
		for _, s := range r.Steps {
			line := fmt.Sprintf("  %s %s %s", stepMark(s.Status, st), ActionWord(s.Action), s.Target)
			switch s.Status {
			case StepFailed, StepNotRun, StepInterrupted, StepPending:
				why := s.Status
				if s.Outcome != "" {
					why += ": " + s.Outcome
				}
				line += st.Dim(" — " + why)
			}
			b.WriteString(line + "\n")
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(b, "\n%s %s\n", st.Yellow("!"), w)
	}
	if r.Error != "" {
		fmt.Fprintf(b, "\n%s %s\n", st.Red("✗"), r.Error)
	}
	if len(r.NextSteps) > 0 && r.Error == "" {
		b.WriteString("\nNext steps\n")
		for i, s := range r.NextSteps {
			fmt.Fprintf(b, "  %d. %s\n", i+1, s)
		}
	}
	if r.PortalURL != "" {
		fmt.Fprintf(b, "\nPortal: %s\n", r.PortalURL)
	}
}

func productName(r *Result) string {
	if r.Product != "" {
		return r.Product
	}
	return r.Profile
}

func hasStatus(steps []Step, statuses ...string) bool {
	for _, s := range steps {
		for _, st := range statuses {
			if s.Status == st {
				return true
			}
		}
	}
	return false
}

// StepMark is the ✓ / ✗ / – mark of a step status.
func stepMark(status string, st Style) string {
	switch status {
	case StepDone, StepOK:
		return st.Green("✓")
	case StepFailed, StepProblem:
		return st.Red("✗")
	case StepPending, StepInterrupted:
		return st.Yellow("!")
	case StepSkipped:
		return "–"
	default:
		return " "
	}
}
