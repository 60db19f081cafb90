package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
	"github.com/entra-link/entra-link/wizard"
)

// Sign-in methods (--auth).
var authMethods = []string{"browser", "device-code", "azure-cli", "env", "managed-identity"}

// TenantOptions are the flags of every command that talks to a tenant
// (design.md §2, "Global").
type TenantOptions struct {
	Tenant        string
	CloudName     string
	AuthorityHost string
	GraphEndpoint string
	Auth          string
	LoginClientID string
	NoInput       bool
	Output        string
	OutputFile    string
	Force         bool
	Sandbox       bool
	Verbose       bool
	Accessible    bool

	// Tenants and TenantsFile are setup's several tenants (--tenant given
	// more than once, --tenants-file); validate turns them into Targets,
	// or into Tenant when --tenant was given once.
	Tenants     []string
	TenantsFile string
	// Targets are the tenants of a run across several tenants, validated,
	// in the order given; empty for a run in one tenant.
	Targets []string
	// severalTenants: the command accepts several tenants (setup).
	severalTenants bool

	// Cloud is resolved by Validate.
	Cloud cloud.Cloud
	// flags are the command's flags: the wizard skips the questions whose
	// flag was given (Changed), which is not the same as non-empty (--cloud
	// has a default).
	flags *pflag.FlagSet
	// ui is the run's wizard (newWizard), created on the first question.
	ui *wizard.Wizard
}

func (o *TenantOptions) register(cmd *cobra.Command, withOutput bool) {
	fs := cmd.Flags()
	o.flags = fs
	if o.severalTenants {
		fs.StringArrayVar(&o.Tenants, "tenant", nil, "target tenant: GUID or verified domain (env AZURE_TENANT_ID); repeat to set up several tenants")
		fs.StringVar(&o.TenantsFile, "tenants-file", "", "set up every tenant in this file: one tenant ID or verified domain per line, # for comments")
		_ = cmd.MarkFlagFilename("tenants-file")
	} else {
		fs.StringVar(&o.Tenant, "tenant", "", "target tenant: GUID or verified domain (env AZURE_TENANT_ID)")
	}
	fs.StringVar(&o.CloudName, "cloud", "global", "national cloud: global, usgov, usgov-dod or china (aliases public, gcc-high, dod, 21vianet)")
	fs.StringVar(&o.AuthorityHost, "authority-host", "", "custom Entra sign-in host (https URL); overrides --cloud")
	fs.StringVar(&o.GraphEndpoint, "graph-endpoint", "", "custom Microsoft Graph endpoint (https URL); overrides --cloud")
	fs.StringVar(&o.Auth, "auth", "", "how to sign in: browser, device-code, azure-cli, env or managed-identity (default: browser on a desktop, else device-code)")
	fs.StringVar(&o.LoginClientID, "login-client-id", "", "public client app to sign in through (default: Microsoft Graph Command Line Tools)")
	fs.BoolVar(&o.NoInput, "no-input", false, "never prompt; a missing value is an error listing every missing flag (implied when stdin is not a terminal)")
	fs.BoolVar(&o.Sandbox, "sandbox", false, "run against a local emulated tenant instead of a real one")
	fs.BoolVar(&o.Verbose, "verbose", false, "log each step and HTTP request (method, URL, status, duration; secrets redacted) to stderr")
	fs.BoolVar(&o.Accessible, "accessible", false, "ask with plain line prompts, for screen readers (also ACCESSIBLE=1)")
	_ = cmd.RegisterFlagCompletionFunc("cloud", fixedCompletion(cloud.Names()...))
	_ = cmd.RegisterFlagCompletionFunc("auth", fixedCompletion(authMethods...))
	if withOutput {
		fs.StringVarP(&o.Output, "output", "o", output.FormatText, "output format: text, json, env or handover")
		fs.StringVar(&o.OutputFile, "output-file", "", "write the output to this file (mode 0600) instead of stdout")
		fs.BoolVar(&o.Force, "force", false, "allow --output-file (and generated certificate files) to overwrite existing files")
		_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(output.Formats...))
	}
}

func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// validate checks the tenant flags; fs tells which were given explicitly.
func (o *TenantOptions) validate(f *Factory, fs *pflag.FlagSet) error {
	if o.severalTenants {
		if err := o.targets(); err != nil {
			return err
		}
	}
	if o.Tenant == "" && len(o.Targets) == 0 && f.Getenv != nil {
		o.Tenant = strings.TrimSpace(f.Getenv("AZURE_TENANT_ID"))
	}
	if o.Tenant != "" && !profile.IsGUID(o.Tenant) && !isDomain(o.Tenant) {
		return exit.UsageErrorf("invalid value %q for --tenant: want a tenant ID (GUID) or a verified domain such as contoso.onmicrosoft.com", o.Tenant)
	}
	if o.AuthorityHost != "" || o.GraphEndpoint != "" {
		if o.AuthorityHost == "" || o.GraphEndpoint == "" {
			return exit.UsageErrorf("--authority-host and --graph-endpoint go together: give both (custom clouds need the sign-in host and the Graph endpoint)")
		}
		if fs.Changed("cloud") {
			// design.md §2: custom endpoints win; say so rather than fail.
			say(f.IO.ErrOut, fmt.Sprintf("Note: --cloud %s is ignored: --authority-host and --graph-endpoint replace it.", o.CloudName))
		}
		c, err := cloud.Custom(o.AuthorityHost, o.GraphEndpoint)
		if err != nil {
			return exit.UsageError(err)
		}
		o.Cloud = c
	} else {
		c, err := cloud.Lookup(o.CloudName)
		if err != nil {
			return exit.UsageError(err)
		}
		o.Cloud = c
	}
	if o.Auth != "" {
		o.Auth = strings.ToLower(o.Auth)
		if !slices.Contains(authMethods, o.Auth) {
			return exit.UsageErrorf("invalid value %q for --auth: valid values are %s", o.Auth, strings.Join(authMethods, ", "))
		}
	}
	if o.LoginClientID != "" && !profile.IsGUID(o.LoginClientID) {
		return exit.UsageErrorf("invalid value %q for --login-client-id: want the application (client) ID of a public client app, a GUID", o.LoginClientID)
	}
	if o.Output != "" && !slices.Contains(output.Formats, o.Output) {
		return exit.UsageErrorf("invalid value %q for --output: valid values are %s", o.Output, strings.Join(output.Formats, ", "))
	}
	if o.Sandbox && (o.AuthorityHost != "" || fs.Changed("auth") || o.LoginClientID != "") {
		return exit.UsageErrorf("--sandbox signs in to the emulated tenant itself; it cannot be combined with --auth, --login-client-id or --authority-host")
	}
	if o.OutputFile != "" && len(o.Targets) > 0 {
		if problem := checkOutputDir(o.OutputFile); problem != "" {
			return exit.UsageErrorf("%s (nothing was changed)", problem)
		}
	} else if o.OutputFile != "" {
		if problem := setup.CheckOutputFile(o.OutputFile, o.Force, false); problem != "" {
			return exit.UsageErrorf("%s (nothing was changed)", problem)
		}
		if flag := inputFileAt(fs, o.OutputFile); flag != "" {
			return exit.UsageErrorf("--output-file %s is the file of %s, which this run reads: the result would overwrite it, --force or not; choose another --output-file (nothing was changed)", o.OutputFile, flag)
		}
	}
	if !f.IO.IsStdinTTY() {
		o.NoInput = true
	}
	f.IO.SetNeverPrompt(o.NoInput)
	return nil
}

func isDomain(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// AppSelector is --app-id / --name, used by the day-2 commands.
type AppSelector struct {
	AppID string
	Name  string
}

func (a *AppSelector) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&a.AppID, "app-id", "", "application (client) ID of the app to "+what)
	cmd.Flags().StringVar(&a.Name, "name", "", "display name of the entra-link app to "+what)
}

func (a *AppSelector) validate(noInput bool) error {
	if a.AppID != "" && a.Name != "" {
		return exit.UsageErrorf("give either --app-id or --name, not both")
	}
	if a.AppID != "" && !profile.IsGUID(a.AppID) {
		return exit.UsageErrorf("invalid value %q for --app-id: want an application (client) ID, a GUID such as 00001111-aaaa-2222-bbbb-3333cccc4444", a.AppID)
	}
	if a.AppID == "" && a.Name == "" && noInput {
		return exit.UsageError(&profile.MissingError{Missing: []profile.Missing{{Flag: "--app-id or --name", Description: "the app: its application (client) ID, or its display name"}}})
	}
	return nil
}

// dryRunAndYes refuses --dry-run with --yes, in every command that has
// both: one asks to apply without asking, the other to apply nothing.
func dryRunAndYes(dryRun, yes bool) error {
	if dryRun && yes {
		return exit.UsageErrorf("--dry-run and --yes contradict each other: a dry run applies nothing")
	}
	return nil
}

// inputFiles are the flags naming a file a command reads.
var inputFiles = []string{"certificate-file", "profile-file", "tenants-file", "pfx-password-file"}

// inputFileAt names the flag (of fs) whose file is path, by any spelling
// or link; "" when none is.
func inputFileAt(fs *pflag.FlagSet, path string) string {
	out, err := os.Stat(path)
	if err != nil {
		return ""
	}
	for _, name := range inputFiles {
		fl := fs.Lookup(name)
		if fl == nil || fl.Value.String() == "" {
			continue
		}
		if in, err := os.Stat(fl.Value.String()); err == nil && os.SameFile(in, out) {
			return "--" + name
		}
	}
	return ""
}
