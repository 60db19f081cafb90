package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/securefile"
)

// SetupOptions are the flags of `entra-link setup`.
type SetupOptions struct {
	f *Factory
	TenantOptions

	ProfileID   string
	ProfileFile string
	Name        string
	AppID       string
	InputFlags
	Audience        string
	Credential      string
	SecretExpiry    string
	CertificateFile string
	CertificateOut  string
	PFXPasswordFile string
	With            []string
	Yes             bool
	DryRun          bool
	NewCredential   bool
	Prune           bool
	// ServiceManagementReference, Owners and AllowPrivilegedOwners set the
	// app's service management reference and owners.
	ServiceManagementReference string
	Owners                     []string
	AllowPrivilegedOwners      bool

	ctx context.Context

	// Profile is loaded by validate.
	Profile *profile.Profile
	// pfxPassword is read from --pfx-password-file by validate.
	pfxPassword string
	// defaultCertOut is where a generated key pair goes without
	// --certificate-out ("": profile.DefaultCertificateOut).
	defaultCertOut string
}

// NewCmdSetup builds `entra-link setup`. runF replaces the run in tests.
func NewCmdSetup(f *Factory, runF func(*SetupOptions) error) *cobra.Command {
	opts := &SetupOptions{f: f}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create or update the app registration for a product",
		Long: `Create or update the Microsoft Entra app registration a product needs, in one run:

  1. sign in as an admin (browser, device code, Azure CLI, environment or managed identity);
  2. check, before changing anything, that you may do what the plan needs;
  3. find the app entra-link made before (by its tags), or create it, with exactly the
     product's permissions, redirect / identifier URIs and account type;
  4. create its service principal (enterprise application);
  5. add a client secret or a certificate;
  6. grant admin consent for the permissions and assign the directory roles the product needs;
  7. hand over the client ID, tenant ID and secret under the product's own labels.

Before anything changes, setup computes one plan — every step, each "create", "update" (with
the exact change), "keep" (with why) or "remove" — and checks everything it can on this
machine (the output file, certificate paths). The review, --dry-run and verify show that plan;
the run does exactly it.

Running it again changes only what differs, and adds a credential only when the app has no
valid one. When it keeps a secret, its value cannot be read back: --output handover and env are
refused (add --new-credential for a new secret). What the app has and the profile does not ask
for (permissions and their consent, directory roles, redirect and identifier URIs) is listed as
"extra" and kept; --prune removes it. --app-id adopts an existing app: its name is kept unless
--name, its other permissions stay unless --prune.

The secret is shown once: it is delivered (printed or written with --output-file) even when a
later step fails or you press Ctrl-C.

The tenant's app management policy is applied before anything changes, when the signed-in
identity may read it (Policy.Read.All): a secret longer than it allows is shortened and the plan
says so (refused if you asked for it with --secret-expiry); a credential it forbids stops the
run. The app's notes say who set it up, with which version, for what; its enterprise
application carries the tag the portal lists it by. --owner adds owners (never by default to
an app that holds directory roles or can grant itself more: an owner can add credentials to
it and act as the app).

Without flags, in a terminal, setup asks for what it needs. With --no-input (or when stdin
is not a terminal) every missing value is an error that lists the flags to give.

Several tenants (an MSP onboarding its customers): repeat --tenant, or give --tenants-file
(one tenant ID or verified domain per line; # starts a comment). Every tenant is signed in
to and read first (with a browser or device code, one after another); then one review shows
what every tenant gets alike once and each difference with its tenants, one confirmation,
and each tenant runs on its own, four at a time. A tenant that fails never stops the others;
a summary table ends the run. --output-file names a directory: one 0600 file per tenant
(TENANT.json, .txt or .env), written as soon as that tenant's secret exists. Without it,
--output json is one object with a "tenants" array (each: tenant, status, exitCode, error,
result) and text is one report per tenant; env and handover need --output-file. A generated
key pair goes to --certificate-out DIR/TENANT. Several tenants take no wizard, --app-id or
--sandbox. Exit status: 0 every tenant done; 4 every tenant done, some need an admin
(consentUrl); 2 bad input in every tenant (nothing changed in any); 130 stopped by Ctrl-C or a
signal; 1 anything else (some failed, or were refused while others were set up).

Products (built-in profiles): relution, hire2retire, entitle, unify, roger365.
See what a profile does with: entra-link profiles show ID`,
		Example: `  # Show the plan for Entitle without signing in or changing anything
  entra-link setup --profile entitle --dry-run

  # The plan against the tenant as it is (reads only), then remove what Hire2Retire no
  # longer needs after turning Exchange off
  entra-link setup --profile hire2retire --certificate-file h2r.cer --auth azure-cli --dry-run
  entra-link setup --profile hire2retire --certificate-file h2r.cer --prune

  # Entitle, for real; print only the Connection JSON Entitle asks for
  entra-link setup --profile entitle --output handover

  # Relution: the server URL becomes the app's identifier and redirect URI
  entra-link setup --profile relution --server-url https://relution.contoso.com

  # Hire2Retire with the certificate downloaded from Hire2Retire, Exchange Online included,
  # in the US Government L5 (DoD) cloud
  entra-link setup --profile hire2retire --certificate-file hire2retire.cer --with exchange --cloud usgov-dod

  # Hire2Retire with a key pair generated here, its PFX protected by a password
  entra-link setup --profile hire2retire --certificate-out ./h2r --pfx-password-file ./pfx-password

  # Unify, multi-tenant, with its OAuth callback
  entra-link setup --profile unify --audience multi-tenant --redirect-uri https://app.unifyapps.com/oauth/callback

  # ROGER365.io in a runbook: no prompts, a 6-month secret, JSON written to a 0600 file
  entra-link setup --profile roger365 --secret-expiry 6m --no-input --yes --output json --output-file roger365.json

  # An MSP: Entitle in every customer tenant of a file, as a multi-tenant app of yours
  # (--auth env) with a service principal in each; one hand-over file per tenant
  entra-link setup --profile entitle --tenants-file customers.txt --auth env --yes \
    --output handover --output-file ./handovers

  # Any other product, from your own profile file
  entra-link setup --profile-file ./myproduct.yaml --dry-run

  # Try it all against a local emulated tenant
  entra-link setup --profile entitle --sandbox`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return setupRun(opts)
		},
	}
	opts.severalTenants = true
	opts.TenantOptions.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVarP(&opts.ProfileID, "profile", "p", "", "built-in product profile: "+strings.Join(profile.BuiltinIDs(), ", "))
	fl.StringVar(&opts.ProfileFile, "profile-file", "", "profile file (YAML) for another product")
	fl.StringVar(&opts.Name, "name", "", "app display name (default: the profile's)")
	fl.StringVar(&opts.AppID, "app-id", "", "configure this existing app (application/client ID) instead of finding or creating one")
	opts.InputFlags.register(fl, false)
	fl.StringVar(&opts.Audience, "audience", "", "sign-in audience: single-tenant or multi-tenant (default: the profile's)")
	fl.StringVar(&opts.Credential, "credential", "", "credential to add: secret, certificate or none (default: the profile's)")
	fl.StringVar(&opts.SecretExpiry, "secret-expiry", "", "client secret lifetime, e.g. 90d, 6m, 1y, 24m (default: the profile's; at most 2 years)")
	fl.StringVar(&opts.CertificateFile, "certificate-file", "", "upload this certificate (PEM or DER .cer/.crt/.pem; public part only)")
	fl.StringVar(&opts.CertificateOut, "certificate-out", "", "directory for a generated key pair (key 0600, certificate, PFX)")
	fl.StringVar(&opts.PFXPasswordFile, "pfx-password-file", "", "file holding the password for the generated PFX (its first line; a file, never a value on the command line). "+
		"The PFX is written in the modern PKCS#12 encoding (AES-256, SHA-256: OpenSSL 1.1.1+, Java 12+, Windows Server 2019+); "+
		"readers of the legacy 3DES encoding only, azidentity among them, take the .bundle.pem instead")
	fl.StringArrayVar(&opts.With, "with", nil, "optional profile feature, e.g. exchange (hire2retire); repeatable")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "apply without asking for confirmation")
	fl.BoolVar(&opts.NewCredential, "new-credential", false, "add a new secret or certificate even if the app has a valid one")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing (offline unless --auth or --sandbox is given; then it reads the tenant)")
	fl.BoolVar(&opts.Prune, "prune", false, "also remove what the app has and its profile does not ask for (permissions and their consent, directory roles, redirect and identifier URIs)")
	fl.Lookup("output-file").Usage = "write the output to this file (mode 0600) instead of stdout; across several tenants, a directory for one file per tenant"
	fl.StringVar(&opts.ServiceManagementReference, "service-management-reference", "", "the app's entry in your service catalogue (ITSM); some tenants require one on new apps")
	fl.StringArrayVar(&opts.Owners, "owner", nil, "make a user an owner of the app: me (you), a user principal name or an object ID; repeatable")
	fl.BoolVar(&opts.AllowPrivilegedOwners, "allow-privileged-owners", false, "let --owner add owners to an app that holds directory roles or can grant itself more (an owner can add credentials to it)")
	cmd.MarkFlagsMutuallyExclusive("profile", "profile-file")
	_ = cmd.RegisterFlagCompletionFunc("profile", fixedCompletion(profile.BuiltinIDs()...))
	_ = cmd.RegisterFlagCompletionFunc("audience", fixedCompletion(profile.AudienceSingleTenant, profile.AudienceMultiTenant))
	_ = cmd.RegisterFlagCompletionFunc("credential", fixedCompletion(profile.CredentialSecret, profile.CredentialCertificate, profile.CredentialNone))
	_ = cmd.RegisterFlagCompletionFunc("with", func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if p, err := profile.Builtin(opts.ProfileID); err == nil {
			return p.FeatureIDs(), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("profile-file", "yaml", "yml")
	_ = cmd.MarkFlagFilename("certificate-file", "cer", "crt", "pem", "der")
	_ = cmd.MarkFlagDirname("certificate-out")
	_ = cmd.MarkFlagFilename("pfx-password-file")
	return cmd
}

// validate checks everything that does not need the profile's inputs.
func (o *SetupOptions) validate(cmd *cobra.Command) error {
	if err := o.TenantOptions.validate(o.f, cmd.Flags()); err != nil {
		return err
	}
	if o.DryRun && (o.Output == output.FormatEnv || o.Output == output.FormatHandover) {
		return exit.UsageErrorf("--output %s needs the values of a real run; with --dry-run use --output text or json", o.Output)
	}
	if err := dryRunAndYes(o.DryRun, o.Yes); err != nil {
		return err
	}
	if o.Sandbox && !o.DryRun && !o.f.IO.CanPrompt() {
		// The sandbox is a tenant on this machine: trying it from a script,
		// a pipe or a test needs no --yes.
		o.Yes = true
	}
	if len(o.Targets) > 0 {
		if err := o.validateSeveral(); err != nil {
			return err
		}
	}
	if o.ProfileFile != "" {
		p, err := profile.LoadFile(o.ProfileFile)
		if err != nil {
			return exit.UsageError(fmt.Errorf("--profile-file: %w", err))
		}
		o.Profile = p
	} else if o.ProfileID != "" {
		p, err := profile.Builtin(o.ProfileID)
		if err != nil {
			return exit.UsageError(fmt.Errorf("--profile: %w", err))
		}
		o.Profile = p
	}
	if o.PFXPasswordFile != "" {
		if err := o.readPFXPassword(); err != nil {
			return err
		}
	}
	return o.InputFlags.validate()
}

// InputFlags are the profile inputs as flags: --server-url, --redirect-uri
// and --input ID=VALUE, for setup and verify alike.
type InputFlags struct {
	ServerURL    string
	RedirectURIs []string
	Inputs       []string
}

// register adds the flags, worded for setup or for verify.
func (in *InputFlags) register(fl *pflag.FlagSet, verify bool) {
	if verify {
		fl.StringVar(&in.ServerURL, "server-url", "", "check against this Relution server URL (default: the one setup applied)")
		fl.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "check against this web redirect URI; repeat for several (Unify; default: the ones setup applied)")
		fl.StringArrayVar(&in.Inputs, "input", nil, "check against this profile input, as ID=VALUE; repeatable")
		return
	}
	fl.StringVar(&in.ServerURL, "server-url", "", "Relution server URL (becomes the identifier URI and redirect URI)")
	fl.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "web redirect URI; repeat for several (Unify)")
	fl.StringArrayVar(&in.Inputs, "input", nil, "a profile input as ID=VALUE, for profile files; repeatable")
}

// validate checks the form of --input; the values themselves are the
// profile's to check.
func (in *InputFlags) validate() error {
	for _, kv := range in.Inputs {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return exit.UsageErrorf("invalid value %q for --input: want ID=VALUE, e.g. --input tenant-url=https://example.com", kv)
		}
	}
	return nil
}

// values are the inputs by id.
func (in *InputFlags) values() map[string][]string {
	values := map[string][]string{}
	if in.ServerURL != "" {
		values["server-url"] = []string{in.ServerURL}
	}
	if len(in.RedirectURIs) > 0 {
		values["redirect-uri"] = append([]string(nil), in.RedirectURIs...)
	}
	for _, kv := range in.Inputs {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		values[k] = append(values[k], v)
	}
	return values
}

// anySet reports whether any input flag was given.
func (in *InputFlags) anySet() bool {
	return in.ServerURL != "" || len(in.RedirectURIs) > 0 || len(in.Inputs) > 0
}

// Request turns the flags into a profile request.
func (o *SetupOptions) Request() profile.Request {
	return profile.Request{
		DisplayName:           o.Name,
		AppID:                 o.AppID,
		Values:                o.values(),
		Audience:              o.Audience,
		Credential:            o.Credential,
		SecretExpiry:          o.SecretExpiry,
		CertificateFile:       o.CertificateFile,
		CertificateOut:        o.CertificateOut,
		Features:              o.With,
		Placeholders:          o.DryRun,
		DefaultCertificateOut: o.defaultCertOut,

		ServiceManagementReference: o.ServiceManagementReference,
		Owners:                     o.Owners,
		AllowPrivilegedOwners:      o.AllowPrivilegedOwners,
	}
}

// missing lists every value still needed before setup can run unattended.
func (o *SetupOptions) missing() []profile.Missing {
	if o.Profile == nil {
		return []profile.Missing{{Flag: "--profile", Description: "the product: " + strings.Join(profile.BuiltinIDs(), ", ") + " (or --profile-file PATH)"}}
	}
	return profile.MissingValues(o.Profile, o.Request())
}

// specError maps profile resolution errors to usage errors.
func specError(err error) error {
	var me *profile.MissingError
	var ie *profile.InvalidError
	if errors.As(err, &me) || errors.As(err, &ie) {
		return exit.UsageError(err)
	}
	return err
}

// deliver renders the result to stdout or --output-file.
func (o *SetupOptions) deliver(r *output.Result) error {
	return deliver(o.f, &o.TenantOptions, r)
}

func deliver(f *Factory, t *TenantOptions, r *output.Result) error {
	data, err := render(f, t, r, t.OutputFile == "")
	if err != nil {
		return err
	}
	if t.OutputFile != "" {
		if err := securefile.WriteFile(t.OutputFile, data, t.Force); err != nil {
			if errors.Is(err, securefile.ErrExists) {
				return exit.UsageError(fmt.Errorf("--output-file: %w", err))
			}
			return err
		}
		say(f.IO.ErrOut, "Wrote "+t.OutputFile+" (mode 0600).")
		return nil
	}
	_, err = f.IO.Out.Write(data)
	return err
}

// render formats r as --output says; colour only for a terminal stdout.
func render(f *Factory, t *TenantOptions, r *output.Result, toStdout bool) ([]byte, error) {
	var buf bytes.Buffer
	st := output.Style{Color: toStdout && f.IO.ColorEnabled() && f.IO.IsStdoutTTY(), Width: layout.DefaultWidth}
	if toStdout {
		st.Width = layout.Width(f.IO.Out)
	}
	format := t.Output
	if format == "" {
		format = output.FormatText
	}
	if err := output.Render(&buf, format, r, st, f.Now()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readPFXPassword reads --pfx-password-file, checking first that a key
// pair will be generated for the PFX it protects.
func (o *SetupOptions) readPFXPassword() error {
	if o.CertificateFile != "" {
		return exit.UsageErrorf("%s", pfxWithFile)
	}
	cred := o.Credential
	if cred == "" && o.Profile != nil {
		cred = o.Profile.Credential.Default
	}
	if cred != "" && cred != profile.CredentialCertificate {
		return exit.UsageErrorf("--pfx-password-file protects the PFX of a generated certificate, and this run adds a %s, not a certificate", cred)
	}
	pw, err := readPFXPasswordFile(o.PFXPasswordFile)
	if err != nil {
		return err
	}
	o.pfxPassword = pw
	return nil
}

// readPFXPasswordFile reads --pfx-password-file (exit 2 when it cannot).
// (An --output-file that is this file is refused with the other input
// files, by TenantOptions.validate.)
func readPFXPasswordFile(path string) (string, error) {
	pw, err := certs.ReadPasswordFile(path)
	if err != nil {
		return "", exit.UsageErrorf("--pfx-password-file: %v", err)
	}
	return pw, nil
}

// pfxWithFile refuses --pfx-password-file next to --certificate-file.
const pfxWithFile = "--pfx-password-file protects the PFX of a key pair entra-link generates; with --certificate-file nothing is generated (drop one of them)"
