package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/buildinfo"
	"github.com/entra-link/entra-link/internal/exit"
)

// NewCmdVersion builds `entra-link version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and Go version",
		Example: "  entra-link version\n  entra-link version --output json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := buildinfo.Get()
			switch format {
			case "json":
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case "text", "":
				_, err := fmt.Fprintf(f.IO.Out, "entra-link version %s\n", versionLine())
				return err
			default:
				return exit.UsageErrorf("invalid value %q for --output: valid values are text, json", format)
			}
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

// versionLine is "VERSION (commit C, GO, OS/ARCH)".
func versionLine() string {
	info := buildinfo.Get()
	return fmt.Sprintf("%s (commit %s, %s, %s)", info.Version, info.Commit, info.GoVersion, info.Platform)
}
