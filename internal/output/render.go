package output

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/layout"
)

// Style decorates text output; the zero value is plain, 80 columns wide.
type Style struct {
	Color bool
	// Width is the width text is laid out for (0: 80 columns).
	Width int
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

// certificateEnvPath is the bundle's absolute path: the variables are
// sourced from wherever the runbook runs next, not only from here.
func (r *Result) certificateEnvPath() string {
	if r.CertificateBundlePath == "" {
		return ""
	}
	if abs, err := filepath.Abs(r.CertificateBundlePath); err == nil {
		return abs
	}
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

// RenderText writes the human-readable report, laid out for st.Width
// columns (80 when 0): wrapped at word boundaries, commands to copy on
// lines of their own.
func RenderText(w io.Writer, r *Result, st Style, now time.Time) error {
	t := &textOut{st: st, width: st.Width}
	if t.width <= 0 {
		t.width = layout.DefaultWidth
	}
	if r.Sandbox {
		t.lines(layout.Wrap(st.Yellow("SANDBOX — an emulated tenant on this machine, not a real Microsoft Entra tenant."), t.width)...)
		t.lines("")
	}
	if r.DryRun {
		renderPlan(t, r)
	} else {
		renderOutcome(t, r, now)
	}
	_, err := io.WriteString(w, layout.Text(t.out))
	return err
}

// textOut collects the lines of a text report.
type textOut struct {
	st    Style
	width int
	out   []string
}

func (t *textOut) lines(l ...string) { t.out = append(t.out, l...) }

// line adds a line laid out by hand, wrapped with its continuation under
// its text.
func (t *textOut) line(l string) { t.out = append(t.out, layout.Line(l, t.width)...) }

// para adds a paragraph after first ("! ", "✗ "), continuing under it.
func (t *textOut) para(first, text string) {
	t.out = append(t.out, layout.Hang(first, strings.Repeat(" ", layout.StringWidth(first)), text, t.width)...)
}

func (t *textOut) bold(text string) {
	for _, l := range layout.Wrap(text, t.width) {
		t.out = append(t.out, t.st.Bold(l))
	}
}

func renderPlan(t *textOut, r *Result) {
	st := t.st
	where := "offline: the tenant was not read, so steps that depend on it say \"create or update\""
	if r.TenantName != "" {
		where = "in " + r.TenantName
		if r.TenantDomain != "" {
			where += " (" + r.TenantDomain + ")"
		}
	}
	t.bold(fmt.Sprintf("Plan for %s (profile %s, %s cloud) — dry run: nothing is changed", r.DisplayName, r.Profile, r.Cloud))
	t.lines(layout.Wrap(where, t.width)...)
	for _, l := range PlanLines(r.Plan) {
		t.line("  " + l)
	}
	renderPermissions(t, r, true)
	for _, w := range r.Warnings {
		t.lines("")
		t.para(st.Yellow("!")+" ", w)
	}
	if len(r.Placeholders) > 0 {
		t.lines("")
		t.lines(layout.Wrap(fmt.Sprintf("Values shown as <--flag> were not given: give them with %s.", strings.Join(r.Placeholders, ", ")), t.width)...)
	}
	t.lines("", "Run the same command without --dry-run to apply it.")
}

// ActionWord is how a step's action reads in text.
func ActionWord(action string) string {
	return strings.ReplaceAll(action, "-", " ")
}

// PlanLines renders steps as plain lines, one per step: the action, the
// target and, after a dash, the detail. The dry run, the wizard's review,
// the flag path's confirmation and verify all show a plan through it, so
// they cannot drift apart. (Lines are laid out for the terminal where
// they are shown: a "action  target" line continues under its target.)
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

func renderPermissions(t *textOut, r *Result, plan bool) {
	st := t.st
	if len(r.Permissions) > 0 {
		t.lines("", "Permissions")
		for _, p := range r.Permissions {
			mark := st.Green("✓")
			if plan {
				mark = "•"
			} else if !p.Consented {
				mark = st.Red("✗")
			}
			line := fmt.Sprintf("  %s %s · %s · %s", mark, p.Resource, p.Type, p.Name)
			if p.Description != "" {
				line += " — " + st.Dim(p.Description)
			}
			if !plan && !p.Consented {
				line += " (admin consent still needed)"
			}
			t.line(line)
		}
	}
	if len(r.DirectoryRoles) > 0 {
		t.lines("", "Directory roles for the app")
		for _, d := range r.DirectoryRoles {
			mark := st.Green("✓")
			if plan {
				mark = "•"
			} else if !d.Assigned {
				mark = st.Red("✗")
			}
			t.line(fmt.Sprintf("  %s %s", mark, d.Name))
		}
	}
}

func renderOutcome(t *textOut, r *Result, now time.Time) {
	st := t.st
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
	t.bold(title)
	if r.Handover != nil && len(r.Handover.Fields) > 0 {
		t.lines("", "Values for "+productName(r))
		if r.HandoverFormat == "json" {
			var hb strings.Builder
			_ = RenderHandover(&hb, r)
			// JSON to paste: its lines are never wrapped.
			for _, l := range strings.Split(strings.TrimRight(hb.String(), "\n"), "\n") {
				t.lines("  " + l)
			}
		} else {
			pairs := make([][2]string, 0, len(r.Handover.Fields))
			for _, f := range r.Handover.Fields {
				pairs = append(pairs, [2]string{f.Label, f.Value})
			}
			t.lines(layout.Labeled("  ", pairs, t.width)...)
		}
	}
	if r.ClientSecret != "" && r.ClientSecretExpiresAt != nil {
		days := int(math.Round(r.ClientSecretExpiresAt.Sub(now).Hours() / 24))
		t.lines("")
		t.para(st.Yellow("!")+" ", fmt.Sprintf("The client secret is shown only this once: store it now. It expires on %s (in %d days).",
			r.ClientSecretExpiresAt.Format("2006-01-02"), days))
	}
	if k := r.KeptSecret; k != nil {
		hint := ""
		if k.Hint != "" {
			hint = k.Hint + "…, "
		}
		t.lines("")
		t.para(st.Yellow("!")+" ", fmt.Sprintf("The app's client secret (%sexpires %s) was kept: its value cannot be read back, so it is not shown. For a new one, run the same command with --new-credential (the old one keeps working).",
			hint, k.ExpiresAt.UTC().Format("2006-01-02")))
	}
	if r.CertificateThumbprint != "" {
		line := "Certificate " + r.CertificateThumbprint
		if r.CertificateExpiresAt != nil {
			line += " (expires " + r.CertificateExpiresAt.Format("2006-01-02") + ")"
		}
		if r.CertificatePFXPath != "" {
			line += "; its key pair was written to:"
		}
		t.lines("")
		t.line(line)
		renderKeyFiles(t, r)
	}
	renderPermissions(t, r, false)
	if r.ConsentURL != "" {
		t.lines("")
		t.para(st.Yellow("!")+" ", "Admin consent is still needed. Send this link to a Global Administrator or Privileged Role Administrator:")
		t.lines("  " + r.ConsentURL)
	}
	if len(r.Steps) > 0 && (r.Error != "" || hasStatus(r.Steps, StepFailed, StepNotRun, StepInterrupted)) {
		t.lines("", "What was done")
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
			t.line(line)
		}
	}
	for _, w := range r.Warnings {
		t.lines("")
		t.para(st.Yellow("!")+" ", w)
	}
	if r.Error != "" {
		t.lines("")
		t.para(st.Red("✗")+" ", r.Error)
	}
	next := r.NextSteps
	if r.CertificatePFXPath != "" {
		next = append(append([]string(nil), next...), keyPairStep(r))
	}
	if len(next) > 0 && r.Error == "" {
		t.lines("", "Next steps")
		t.lines(layout.Numbered("  ", next, t.width)...)
	}
	if r.PortalURL != "" {
		t.lines("", "Portal:", "  "+r.PortalURL)
	}
}

// renderKeyFiles lists the files of a generated key pair, each with what
// it is for.
func renderKeyFiles(t *textOut, r *Result) {
	pfx := "key and certificate, PKCS#12 (no password)"
	if r.CertificatePFXProtected {
		pfx = "key and certificate, PKCS#12, with the password of --pfx-password-file"
	}
	files := [][2]string{
		{r.CertificatePFXPath, pfx},
		{r.CertificateBundlePath, "key and certificate, PEM (OpenSSL; AZURE_CLIENT_CERTIFICATE_PATH)"},
		{r.CertificateKeyPath, "the private key alone, PEM (mode 0600)"},
		{r.CertificateCertPath, "the certificate alone, PEM: what Entra holds"},
	}
	for _, f := range files {
		if f[0] != "" {
			t.lines("  " + f[0])
			t.lines(layout.Indent("    ", f[1], t.width)...)
		}
	}
}

// keyPairStep says which of the generated files the product takes: the
// product signs in as the app with the private key, so it needs the key
// pair, which the PFX carries.
func keyPairStep(r *Result) string {
	pw := "it has no password"
	if r.CertificatePFXProtected {
		pw = "its password is the one in --pfx-password-file"
	}
	s := fmt.Sprintf("%s signs in as this app with the private key of this certificate: give %s the file %s (key and certificate, PKCS#12; %s).",
		productName(r), productName(r), r.CertificatePFXPath, pw)
	if r.CertificateBundlePath != "" {
		s += fmt.Sprintf(" If it asks for PEM, give it %s instead.", r.CertificateBundlePath)
	}
	return s + " Both hold the private key: delete your copies once it has one."
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
