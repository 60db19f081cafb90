package cli

import (
	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/profile"
)

// VerifyOptions are the flags of `entra-link verify`.
type VerifyOptions struct {
	f *Factory
	TenantOptions
	App         AppSelector
	ProfileID   string
	ProfileFile string
	WarnDays    int
}

// NewCmdVerify builds `entra-link verify`.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check an app against its profile: permissions, consent, roles, credential expiry",
		Long: `Check that an app is still set up the way its product needs: the app and its service
principal exist, every permission is configured and consented (and nothing unexpected is),
every directory role is assigned, the identifier and redirect URIs are as the profile says,
and no credential has expired or expires within --warn-days.

The profile is the one recorded on the app by entra-link, or --profile / --profile-file.
verify only reads; it changes nothing. Each problem comes with the command that fixes it.

Exit status: 0 healthy, 3 problems found.`,
		Example: `  entra-link verify --name Relution
  entra-link verify --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --warn-days 60 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.TenantOptions.validate(f, cmd.Flags()); err != nil {
				return err
			}
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if opts.WarnDays < 0 {
				return exit.UsageErrorf("invalid value %d for --warn-days: want 0 or more days", opts.WarnDays)
			}
			if opts.ProfileID != "" {
				if _, err := profile.Builtin(opts.ProfileID); err != nil {
					return exit.UsageErrorf("--profile: %v", err)
				}
			}
			if opts.ProfileFile != "" {
				if _, err := profile.LoadFile(opts.ProfileFile); err != nil {
					return exit.UsageErrorf("--profile-file: %v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return notBuilt("verify")
		},
	}
	opts.TenantOptions.register(cmd, true)
	opts.App.register(cmd, "check")
	cmd.Flags().StringVarP(&opts.ProfileID, "profile", "p", "", "check against this built-in profile instead of the one recorded on the app")
	cmd.Flags().StringVar(&opts.ProfileFile, "profile-file", "", "check against this profile file")
	cmd.Flags().IntVar(&opts.WarnDays, "warn-days", 30, "report credentials that expire within this many days")
	cmd.MarkFlagsMutuallyExclusive("profile", "profile-file")
	return cmd
}
