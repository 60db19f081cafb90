package cli

import (
	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/profile"
)

// RotateOptions are the flags of `entra-link rotate-secret`.
type RotateOptions struct {
	f *Factory
	TenantOptions
	App          AppSelector
	SecretExpiry string
	RemoveOld    bool
	Yes          bool
}

// NewCmdRotateSecret builds `entra-link rotate-secret`.
func NewCmdRotateSecret(f *Factory, runF func(*RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "rotate-secret",
		Short: "Add a new client secret to an app (optionally retire the old ones)",
		Long: `Add a new client secret to an app that entra-link set up, and hand it over exactly like
setup does (every --output format, --output-file). The app's other secrets are kept, so the
product can be switched to the new secret without downtime.

With --remove-old, the other secrets are removed only after the new one has been proven to
work: entra-link obtains a token with it (waiting while Entra replicates the new secret). If
the proof fails, nothing is removed. Certificates are never touched.

Apps are found by their entra-link tags (--name) or by --app-id, which may also name an app
entra-link did not create.`,
		Example: `  # Add a secret to the Relution app; the old one keeps working
  entra-link rotate-secret --name Relution

  # Replace Entitle's secret: new Connection JSON, old secrets retired once the new one works
  entra-link rotate-secret --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --remove-old --output handover

  # In a runbook: 6-month secret as env lines into a 0600 file
  entra-link rotate-secret --name "ROGER365.io Azure Entra replicator" --secret-expiry 6m --no-input --output env --output-file roger.env`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.TenantOptions.validate(f, cmd.Flags()); err != nil {
				return err
			}
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if opts.SecretExpiry != "" {
				l, err := profile.ParseLifetime(opts.SecretExpiry)
				if err != nil {
					return exit.UsageErrorf("invalid value for --secret-expiry: %v", err)
				}
				if l.Exceeds(profile.Lifetime{N: 2, Unit: 'y'}, f.Now()) {
					return exit.UsageErrorf("invalid value for --secret-expiry: %s is longer than the 2 years Entra allows; choose e.g. 90d, 6m, 1y", opts.SecretExpiry)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return notBuilt("rotate-secret")
		},
	}
	opts.TenantOptions.register(cmd, true)
	opts.App.register(cmd, "add the secret to")
	cmd.Flags().StringVar(&opts.SecretExpiry, "secret-expiry", "", "lifetime of the new secret, e.g. 90d, 6m, 1y (default: the app's profile's)")
	cmd.Flags().BoolVar(&opts.RemoveOld, "remove-old", false, "retire the app's other secrets once the new one is proven to work")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
