package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// NewCmdAuth builds `entra-link auth` and its subcommands.
func NewCmdAuth(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth <command>",
		Short: "The saved sign-ins of --auth browser and device-code",
		Long: `A browser or device-code sign-in is kept for later commands, one per tenant, cloud and
login client: the next command for the same tenant and cloud signs in without opening the
browser or asking for a code. A command for another tenant or cloud signs in anew.

The tokens are kept encrypted with a key the operating system holds (the kernel keyring on
Linux, the Keychain on macOS, DPAPI on Windows); where that is not available, the access
token alone is kept in a file only you can read, and the sign-in lasts as long as it.
--auth env, azure-cli and managed-identity keep nothing.`,
		Example: `  entra-link auth status
  entra-link auth logout --tenant contoso.onmicrosoft.com`,
		Args: noArgs,
	}
	cmd.AddCommand(newCmdAuthStatus(f), newCmdAuthLogout(f))
	return cmd
}

// authFilter narrows auth logout to some sign-ins.
type authFilter struct {
	Tenant, CloudName, LoginClientID string
}

func (a *authFilter) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.Tenant, "tenant", "", "only the sign-ins for this tenant (GUID or domain, as given when signing in)")
	cmd.Flags().StringVar(&a.CloudName, "cloud", "", "only the sign-ins for this cloud: global, usgov, usgov-dod or china")
	cmd.Flags().StringVar(&a.LoginClientID, "login-client-id", "", "only the sign-ins through this public client")
	_ = cmd.RegisterFlagCompletionFunc("cloud", fixedCompletion(cloud.Names()...))
}

// match returns the filter as a predicate (nil: everything).
func (a *authFilter) match() (func(*auth.SavedSignIn) bool, error) {
	var c cloud.Cloud
	if a.CloudName != "" {
		var err error
		if c, err = cloud.Lookup(a.CloudName); err != nil {
			return nil, exit.UsageError(err)
		}
	}
	if a.LoginClientID != "" && !profile.IsGUID(a.LoginClientID) {
		return nil, exit.UsageErrorf("invalid value %q for --login-client-id: want the application (client) ID of a public client app, a GUID", a.LoginClientID)
	}
	if a.Tenant == "" && a.CloudName == "" && a.LoginClientID == "" {
		return nil, nil
	}
	tenant := strings.ToLower(strings.TrimSpace(a.Tenant))
	return func(s *auth.SavedSignIn) bool {
		if tenant != "" && s.Tenant != tenant && !strings.EqualFold(s.Record.TenantID, tenant) {
			return false
		}
		if a.CloudName != "" && s.Cloud != c.Name {
			return false
		}
		if a.LoginClientID != "" && !strings.EqualFold(s.LoginClientID, a.LoginClientID) {
			return false
		}
		return true
	}, nil
}

func newCmdAuthStatus(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the saved sign-ins: who, which tenant and cloud, until when",
		Long: `Show the sign-ins kept for later commands: who signed in, to which tenant and cloud,
through which login client, where the tokens are kept and until when they can be used.
It reads only this machine; it asks Microsoft nothing.`,
		Example: `  entra-link auth status
  entra-link auth status --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != output.FormatText && format != output.FormatJSON {
				return exit.UsageErrorf("invalid value %q for --output: auth status prints text or json", format)
			}
			dir, err := stateDir(f)
			if err != nil {
				return err
			}
			saved, err := signInStore(dir).List()
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if format == output.FormatJSON {
				if err := writeJSON(&b, authStatusJSON(saved)); err != nil {
					return err
				}
			} else {
				renderAuthStatus(&b, saved, f.Now(), layout.Width(f.IO.Out))
			}
			_, err = f.IO.Out.Write(b.Bytes())
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", output.FormatText, "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(output.FormatText, output.FormatJSON))
	return cmd
}

func newCmdAuthLogout(f *Factory) *cobra.Command {
	var filter authFilter
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget saved sign-ins (all of them, or those of a tenant, cloud or client)",
		Long: `Forget the sign-ins kept for later commands: their tokens and what entra-link noted about
them. Without flags every saved sign-in goes; --tenant, --cloud and --login-client-id
narrow it. The next command signs in again.

This removes the tokens from this machine. To end the sessions at Microsoft as well, revoke
them in the Entra admin center (Users > the user > Revoke sessions).`,
		Example: `  entra-link auth logout
  entra-link auth logout --tenant contoso.onmicrosoft.com --cloud global`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			match, err := filter.match()
			if err != nil {
				return err
			}
			dir, err := stateDir(f)
			if err != nil {
				return err
			}
			gone, err := signInStore(dir).Forget(match)
			if len(gone) == 0 && err == nil {
				sayLines(f.IO.Out, "No saved sign-in matched; nothing to forget.")
				return nil
			}
			var out []string
			for _, s := range gone {
				out = append(out, layout.Wrap(fmt.Sprintf("Forgot the sign-in of %s (tenant %s, cloud %s).", s.User(), tenantWords(s), cloudWords(s)), layout.Width(f.IO.Out))...)
			}
			sayLines(f.IO.Out, out...)
			if err != nil {
				return fmt.Errorf("some saved sign-in data could not be removed: %w", err)
			}
			return nil
		},
	}
	filter.register(cmd)
	return cmd
}

type savedSignInJSON struct {
	User                 string    `json:"user"`
	Tenant               string    `json:"tenant"`
	TenantID             string    `json:"tenantId"`
	Cloud                string    `json:"cloud"`
	AuthorityHost        string    `json:"authorityHost"`
	LoginClientID        string    `json:"loginClientId"`
	Method               string    `json:"method"`
	SignedInAt           time.Time `json:"signedInAt"`
	AccessTokenExpiresOn time.Time `json:"accessTokenExpiresOn"`
	// Renewable: later commands renew the access token without a sign-in.
	Renewable   bool   `json:"renewable"`
	Storage     string `json:"storage"`
	StorageNote string `json:"storageNote,omitempty"`
	Path        string `json:"path"`
	CacheFile   string `json:"cacheFile,omitempty"`
}

func authStatusJSON(saved []*auth.SavedSignIn) map[string]any {
	out := make([]savedSignInJSON, 0, len(saved))
	for _, s := range saved {
		out = append(out, savedSignInJSON{
			User: s.User(), Tenant: s.Tenant, TenantID: s.Record.TenantID, Cloud: s.Cloud, AuthorityHost: s.AuthorityHost,
			LoginClientID: s.LoginClientID, Method: s.Method, SignedInAt: s.SignedInAt, AccessTokenExpiresOn: s.AccessTokenExpiresOn,
			Renewable: s.Renewable(), Storage: s.Storage, StorageNote: s.StorageNote, Path: s.Path(), CacheFile: s.CacheFile(),
		})
	}
	return map[string]any{"signIns": out}
}

// renderAuthStatus lists the saved sign-ins in lines of at most width
// columns.
func renderAuthStatus(w io.Writer, saved []*auth.SavedSignIn, now time.Time, width int) {
	if len(saved) == 0 {
		_, _ = io.WriteString(w, layout.Text(layout.Wrap("No saved sign-in. A command with --auth browser or device-code signs in and keeps the sign-in for the next commands to the same tenant and cloud.", width)))
		return
	}
	out := layout.Wrap(fmt.Sprintf("%d saved sign-in(s), used by --auth browser and device-code:", len(saved)), width)
	for _, s := range saved {
		pairs := [][2]string{{"tenant", tenantWords(s)}, {"cloud", cloudWords(s)}}
		if !strings.EqualFold(s.LoginClientID, auth.DefaultLoginClientID) {
			pairs = append(pairs, [2]string{"client", s.LoginClientID + " (--login-client-id)"})
		}
		pairs = append(pairs, [2]string{"signed in", s.SignedInAt.UTC().Format("2006-01-02 15:04 UTC") + " with --auth " + s.Method})
		kept := s.StorageWords()
		if f := s.CacheFile(); f != "" {
			kept += " (encrypted file " + f + ")"
		}
		pairs = append(pairs, [2]string{"kept in", kept})
		until := s.AccessTokenExpiresOn.UTC().Format("2006-01-02 15:04 UTC")
		switch {
		case s.Renewable():
			pairs = append(pairs, [2]string{"valid", "access token until " + until + ", then renewed without a sign-in until you log out or Entra ends the session (after 90 days unused, or sooner by your tenant's policies)"})
		case s.AccessTokenExpiresOn.After(now):
			pairs = append(pairs, [2]string{"valid", "until " + until + " (the access token only: " + s.StorageNote + ")"})
		default:
			pairs = append(pairs, [2]string{"valid", "no longer: the access token expired " + until + "; the next command signs in again"})
		}
		out = append(out, "", s.User())
		out = append(out, layout.Labeled("  ", pairs, width)...)
	}
	out = append(out, "")
	out = append(out, layout.Wrap("entra-link auth logout forgets them (--tenant or --cloud: only those).", width)...)
	_, _ = io.WriteString(w, layout.Text(out))
}

// tenantWords names the tenant of a saved sign-in: its id and, when the
// sign-in asked for it otherwise, how.
func tenantWords(s *auth.SavedSignIn) string {
	switch {
	case s.Tenant == "organizations":
		return s.Record.TenantID + " (your home tenant: no --tenant was given)"
	case strings.EqualFold(s.Tenant, s.Record.TenantID):
		return s.Record.TenantID
	}
	return s.Tenant + " (" + s.Record.TenantID + ")"
}

func cloudWords(s *auth.SavedSignIn) string {
	for _, c := range cloud.All() {
		if c.Name == s.Cloud {
			return c.Name
		}
	}
	return "custom, sign-in at " + s.AuthorityHost
}
