package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/securefile"
	"github.com/entra-link/entra-link/internal/setup"
)

// NewCmdApps builds `entra-link apps` and its subcommands.
func NewCmdApps(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apps <command>",
		Short: "The apps entra-link made in a tenant",
		Long: `The app registrations entra-link made in a tenant: the ones carrying its tags, which
rotate-secret, verify and delete find by --name.`,
		Example: `  entra-link apps list
  entra-link apps list --output json`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(NewCmdAppsList(f, nil))
	return cmd
}

// AppsListOptions are the flags of `entra-link apps list`.
type AppsListOptions struct {
	f *Factory
	TenantOptions
	// Wide shows every column, however wide.
	Wide bool

	ctx     context.Context
	fixArgs []string
}

// NewCmdAppsList builds `entra-link apps list`.
func NewCmdAppsList(f *Factory, runF func(*AppsListOptions) error) *cobra.Command {
	opts := &AppsListOptions{f: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the apps entra-link made: product, created date, next credential expiry",
		Long: `List the app registrations entra-link made in the tenant (those carrying its tags), with
their product profile, when they were created, whether their service principal exists, and
the credential (client secret or certificate) that expires next. It only reads.`,
		Example: `  entra-link apps list
  entra-link apps list --wide
  entra-link apps list --output json --tenant contoso.onmicrosoft.com
  entra-link apps list --sandbox`,
		Args: noArgs,
		RunE: dayTwoRunE(f, &opts.TenantOptions, &opts.ctx, &opts.fixArgs, func() error {
			return textOrJSON("apps list", opts.Output)
		}, func() error {
			if runF != nil {
				return runF(opts)
			}
			return appsListRun(opts)
		}),
	}
	opts.TenantOptions.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", output.FormatText, "output format: text or json")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "show every column (created, credential type and days left, service principal), however wide")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(output.FormatText, output.FormatJSON))
	return cmd
}

// appsListJSON is the JSON form of apps list.
type appsListJSON struct {
	Sandbox    bool               `json:"sandbox,omitempty"`
	Cloud      string             `json:"cloud"`
	TenantID   string             `json:"tenantId"`
	TenantName string             `json:"tenantName,omitempty"`
	Apps       []setup.AppSummary `json:"apps"`
}

func appsListRun(o *AppsListOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "apps list", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	list, err := setup.ListApps(ctx, d.env)
	if err != nil {
		return d.failed(ctx, err)
	}
	apps := list.Apps
	if apps == nil {
		apps = []setup.AppSummary{}
	}
	js := appsListJSON{Sandbox: d.sandbox(), Cloud: o.Cloud.Name, TenantID: list.Org.ID, TenantName: list.Org.DisplayName, Apps: apps}
	return report(o.f, &o.TenantOptions, js, func(w io.Writer, _ output.Style, width int) { renderAppsList(w, list, d.fixArgs, width, o.Wide) })
}

// renderAppsList writes the list as a table in at most width columns:
// name, profile, client ID and the date the next credential expires; with
// wide, also when each was created, the credential's type and days left,
// and its service principal.
func renderAppsList(w io.Writer, list *setup.AppList, fixArgs []string, width int, wide bool) {
	tenant := tenantTitle(list.Org)
	if len(list.Apps) == 0 {
		cmd := strings.Join(append([]string{"entra-link", "setup", "--profile", "ID"}, fixArgs...), " ")
		_, _ = io.WriteString(w, layout.Text(layout.Wrap("No apps made by entra-link in "+tenant+" yet. Set one up with: "+cmd, width)))
		return
	}
	var out []string
	out = append(out, layout.Wrap(fmt.Sprintf("%d app(s) made by entra-link in %s", len(list.Apps), tenant), width)...)
	out = append(out, "")
	if wide {
		var rows [][]string
		for _, a := range list.Apps {
			created := "-"
			if !a.CreatedDateTime.IsZero() {
				created = a.CreatedDateTime.Format("2006-01-02")
			}
			sp := "yes"
			if !a.ServicePrincipal {
				sp = "missing"
			}
			rows = append(rows, []string{a.DisplayName, a.ClientID, orDash(a.Profile), created, expiryText(a.NearestExpiry), sp})
		}
		out = append(out, layout.Table([]layout.Column{{Header: "NAME"}, {Header: "CLIENT ID"}, {Header: "PROFILE"}, {Header: "CREATED"},
			{Header: "NEXT CREDENTIAL EXPIRY"}, {Header: "SERVICE PRINCIPAL"}}, rows, 1<<20)...)
		_, _ = io.WriteString(w, layout.Text(out))
		return
	}
	// Name, client ID and expiry always; the profile when the names keep
	// room (ids and dates are never cut; long names wrap in their column).
	nameW, profW, expW, noSP := 4, 7, 7, 0
	for _, a := range list.Apps {
		nameW = max(nameW, layout.StringWidth(a.DisplayName))
		profW = max(profW, layout.StringWidth(orDash(a.Profile)))
		expW = max(expW, layout.StringWidth(shortExpiry(a)))
		if !a.ServicePrincipal {
			noSP++
		}
	}
	withProfile := width-(36+expW+profW+6) >= min(nameW, 16)
	cols := []layout.Column{{Header: "NAME", Fit: true, Min: 12}}
	if withProfile {
		cols = append(cols, layout.Column{Header: "PROFILE"})
	}
	cols = append(cols, layout.Column{Header: "CLIENT ID"}, layout.Column{Header: "EXPIRES"})
	var rows [][]string
	for _, a := range list.Apps {
		row := []string{a.DisplayName}
		if withProfile {
			row = append(row, orDash(a.Profile))
		}
		rows = append(rows, append(row, a.ClientID, shortExpiry(a)))
	}
	out = append(out, layout.Table(cols, rows, width)...)
	out = append(out, "")
	if noSP > 0 {
		out = append(out, layout.Hang("! ", "  ", fmt.Sprintf("%d app(s) have no service principal (enterprise application): see --wide.", noSP), width)...)
	}
	out = append(out, layout.Wrap("EXPIRES: when the next secret or certificate expires. More columns: --wide", width)...)
	_, _ = io.WriteString(w, layout.Text(out))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortExpiry is the date the next credential expires, marked when it has
// expired.
func shortExpiry(a setup.AppSummary) string {
	e := a.NearestExpiry
	switch {
	case e == nil:
		return "none"
	case e.Expired:
		return e.At.Format("2006-01-02") + " expired"
	}
	return e.At.Format("2006-01-02")
}

// expiryText is "secret 2027-11-21 (in 365 days)" or "expired …".
func expiryText(e *setup.CredentialExpiry) string {
	if e == nil {
		return "no credential"
	}
	date := e.At.Format("2006-01-02")
	switch {
	case e.Expired && e.Days == 0:
		return fmt.Sprintf("%s expired %s (today)", e.Type, date)
	case e.Expired:
		return fmt.Sprintf("%s expired %s (%d days ago)", e.Type, date, -e.Days)
	case e.Days == 1:
		return fmt.Sprintf("%s %s (in 1 day)", e.Type, date)
	default:
		return fmt.Sprintf("%s %s (in %d days)", e.Type, date, e.Days)
	}
}

// --- what rotate-secret, verify, delete and apps list share ---

// dayTwo is a signed-in day-2 command run.
type dayTwo struct {
	conn *connection
	env  *setup.Env
	// command names the command in what it says ("rotate-secret").
	command string
	// fixArgs select this run's tenant in commands entra-link suggests.
	fixArgs []string
}

func (d *dayTwo) close() {
	if d.conn != nil {
		d.conn.Close()
	}
}

func (d *dayTwo) sandbox() bool { return d.conn.Sandbox != nil }

// failed ends the command after a read failed before anything changed:
// Graph's refusal said in words, as setup says it (setup.Denied).
func (d *dayTwo) failed(ctx context.Context, err error) error {
	return preflightError(setup.Denied(ctx, d.env, d.command, err))
}

func ctxOr(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// startDayTwo asks for the cloud when no flag said (in a terminal), then
// signs in (or starts the sandbox).
func startDayTwo(ctx context.Context, f *Factory, command string, t *TenantOptions, fixArgs []string) (*dayTwo, error) {
	if !t.given("cloud") && f.IO.CanPrompt() {
		if err := t.askCloud(ctx, f); err != nil {
			return nil, err
		}
		// The commands entra-link suggests name the cloud just chosen.
		fixArgs = tenantFlags(t, t.flags)
	}
	conn, err := t.connect(ctx, f)
	if err != nil {
		return nil, err
	}
	rememberCloud(f, t)
	d := &dayTwo{conn: conn, fixArgs: fixArgs, command: command}
	d.env = &setup.Env{Graph: conn.Graph, Cloud: conn.Cloud, Now: f.Now, Progress: progressPrinter(f, t.Verbose), StopWaiting: insisted(ctx), CommandFlags: fixArgs}
	return d, nil
}

// tenantFlags lists the flags that select the tenant, cloud and sign-in of
// this run, for the commands entra-link suggests (verify's fixes).
func tenantFlags(t *TenantOptions, fs *pflag.FlagSet) []string {
	var out []string
	// Across several tenants (--tenants-file too) each run's t.Tenant is
	// its own tenant, which no environment variable names.
	if (fs.Changed("tenant") || fs.Changed("tenants-file")) && t.Tenant != "" {
		out = append(out, "--tenant", t.Tenant)
	}
	switch {
	case t.Cloud.Custom:
		out = append(out, "--authority-host", t.AuthorityHost, "--graph-endpoint", t.GraphEndpoint)
	case t.Cloud.Name != "" && t.Cloud.Name != "global":
		out = append(out, "--cloud", t.Cloud.Name)
	}
	if fs.Changed("auth") && t.Auth != "" {
		out = append(out, "--auth", t.Auth)
	}
	if t.LoginClientID != "" {
		out = append(out, "--login-client-id", t.LoginClientID)
	}
	if t.Sandbox {
		out = append(out, "--sandbox")
	}
	return out
}

// selector returns the app the flags name; on a terminal without either
// flag it lists the apps entra-link made and asks which one (the picker
// every command uses). unavailable says why an app cannot be picked by
// this command ("" when it can).
func (a *AppSelector) selector(ctx context.Context, f *Factory, t *TenantOptions, d *dayTwo, verb string, unavailable func(setup.AppSummary) string) (setup.Selector, error) {
	if a.AppID != "" || a.Name != "" {
		return setup.Selector{AppID: strings.ToLower(a.AppID), Name: a.Name}, nil
	}
	list, err := setup.ListApps(ctx, d.env)
	if err != nil {
		return setup.Selector{}, d.failed(ctx, err)
	}
	if len(list.Apps) == 0 {
		return setup.Selector{}, exit.UsageErrorf("no apps made by entra-link in %s: name the app with --app-id", tenantTitle(list.Org))
	}
	id, err := pickApp(ctx, f, t, list, "Which app do you want to "+verb+"?",
		"The apps entra-link made in "+tenantTitle(list.Org)+": name, product profile, and the credential that expires next.", unavailable)
	if err != nil {
		return setup.Selector{}, err
	}
	return setup.Selector{AppID: id}, nil
}

// tenantTitle names a tenant: "Contoso (contoso.onmicrosoft.com)".
func tenantTitle(org graph.Organization) string {
	if d := org.InitialDomain(); d != "" && d != org.DisplayName {
		return org.DisplayName + " (" + d + ")"
	}
	return org.DisplayName
}

// textToStdout reports whether the output is text on stdout, where it
// already shows every problem (so errors need not be repeated on stderr).
func textToStdout(t *TenantOptions) bool {
	return (t.Output == "" || t.Output == output.FormatText) && t.OutputFile == ""
}

// exitWith ends a run whose output has been delivered: silently when that
// output (text on stdout) already says why, else with msg on stderr.
func exitWith(t *TenantOptions, code int, msg string) error {
	if textToStdout(t) || msg == "" {
		return exit.SilentCode(code)
	}
	return exit.WithCode(code, errors.New(msg))
}

// writeOutput sends a rendered report to --output-file (0600) or stdout.
func writeOutput(f *Factory, t *TenantOptions, data []byte) error {
	if t.OutputFile == "" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	if err := securefile.WriteFile(t.OutputFile, data, t.Force); err != nil {
		if errors.Is(err, securefile.ErrExists) {
			return exit.UsageError(fmt.Errorf("--output-file: %w", err))
		}
		return err
	}
	say(f.IO.ErrOut, "Wrote "+t.OutputFile+" (mode 0600).")
	return nil
}
