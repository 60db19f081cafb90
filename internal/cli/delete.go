package cli

import (
	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
)

// DeleteOptions are the flags of `entra-link delete`.
type DeleteOptions struct {
	f *Factory
	TenantOptions
	App AppSelector
	Yes bool
}

// NewCmdDelete builds `entra-link delete`.
func NewCmdDelete(f *Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{f: f}
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete an app registration and its service principal",
		Long: `Delete an app registration that entra-link set up, with its service principal (its
permission grants and role assignments go with it). entra-link shows what it will delete and
asks first; --yes skips the question (required when not running interactively).

An app entra-link did not create is refused unless --app-id names it explicitly.
Deleted apps stay in Entra's recycle bin (Deleted applications) for 30 days and can be restored
from there.`,
		Example: `  entra-link delete --name Entitle
  entra-link delete --app-id 00001111-aaaa-2222-bbbb-3333cccc4444 --yes`,
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
			if runF != nil {
				return runF(opts)
			}
			return notBuilt("delete")
		},
	}
	opts.TenantOptions.register(cmd, false)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	opts.App.register(cmd, "delete")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking")
	return cmd
}
