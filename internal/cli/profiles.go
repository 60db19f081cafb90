package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/profile"
)

// NewCmdProfiles builds `entra-link profiles list|show`.
func NewCmdProfiles(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profiles <command>",
		Short: "List the product profiles and show what each one does",
		Long: `A profile says what a product needs from Entra: the permissions (by name), directory roles,
credential, account type, redirect and identifier URIs, the inputs it asks for, and how
the values are handed over. Five are built in; --profile-file reads one for any other
product (same YAML format: see docs/profiles.md).`,
		Example: `  entra-link profiles list
  entra-link profiles show hire2retire`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	cmd.AddCommand(newCmdProfilesList(f), newCmdProfilesShow(f))
	return cmd
}

func formatFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion("text", "json"))
}

func checkTextJSON(format string) error {
	if format != "text" && format != "json" {
		return exit.UsageErrorf("invalid value %q for --output: valid values are text, json", format)
	}
	return nil
}

func newCmdProfilesList(f *Factory) *cobra.Command {
	var format string
	var files []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in product profiles (and --profile-file ones)",
		Example: `  entra-link profiles list
  entra-link profiles list --output json
  entra-link profiles list --profile-file ./myproduct.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTextJSON(format); err != nil {
				return err
			}
			profiles := append([]*profile.Profile(nil), profile.Builtins()...)
			for _, path := range files {
				p, err := profile.LoadFile(path)
				if err != nil {
					return exit.UsageError(fmt.Errorf("--profile-file: %w", err))
				}
				profiles = append(profiles, p)
			}
			if format == "json" {
				type row struct {
					ID          string `json:"id"`
					Product     string `json:"product"`
					Description string `json:"description"`
					Source      string `json:"source"`
				}
				rows := make([]row, 0, len(profiles))
				for _, p := range profiles {
					rows = append(rows, row{p.ID, p.Product, p.Description, p.Source})
				}
				return writeJSON(f.IO.Out, rows)
			}
			var rows [][]string
			for _, p := range profiles {
				desc := p.Description
				if p.Source != "built-in" {
					desc += " [" + p.Source + "]"
				}
				rows = append(rows, []string{p.ID, p.Product, desc})
			}
			lines := layout.Table([]layout.Column{{Header: "ID"}, {Header: "PRODUCT"}, {Header: "DESCRIPTION", Fit: true, Min: 24}}, rows, layout.Width(f.IO.Out))
			_, err := io.WriteString(f.IO.Out, layout.Text(lines))
			return err
		},
	}
	formatFlag(cmd, &format)
	cmd.Flags().StringArrayVar(&files, "profile-file", nil, "also list this profile file (repeatable)")
	return cmd
}

func newCmdProfilesShow(f *Factory) *cobra.Command {
	var format, file string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show everything a profile will do: permissions with descriptions, roles, credential, inputs, hand-over",
		Example: `  entra-link profiles show hire2retire
  entra-link profiles show entitle --output json
  entra-link profiles show --profile-file ./myproduct.yaml`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return profile.BuiltinIDs(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTextJSON(format); err != nil {
				return err
			}
			var p *profile.Profile
			var err error
			switch {
			case file != "" && len(args) > 0:
				return exit.UsageErrorf("give a profile ID or --profile-file, not both")
			case file != "":
				if p, err = profile.LoadFile(file); err != nil {
					return exit.UsageError(fmt.Errorf("--profile-file: %w", err))
				}
			case len(args) == 1:
				if p, err = profile.Builtin(args[0]); err != nil {
					return exit.UsageError(err)
				}
			case len(args) == 0:
				return exit.UsageErrorf("which profile? give one of: %s (or --profile-file PATH)", strings.Join(profile.BuiltinIDs(), ", "))
			default:
				return exit.UsageErrorf("profiles show takes one profile ID, got %d", len(args))
			}
			if format == "json" {
				return writeJSON(f.IO.Out, showView(p))
			}
			return showText(f.IO.Out, p)
		},
	}
	formatFlag(cmd, &format)
	cmd.Flags().StringVar(&file, "profile-file", "", "show this profile file instead of a built-in profile")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

type profileView struct {
	ID             string             `json:"id"`
	Product        string             `json:"product"`
	Description    string             `json:"description"`
	Source         string             `json:"source"`
	Guide          string             `json:"guide,omitempty"`
	DisplayName    string             `json:"displayName"`
	Audience       profile.Audience   `json:"audience"`
	Credential     credentialView     `json:"credential"`
	Inputs         []inputView        `json:"inputs"`
	Permissions    []permissionView   `json:"permissions"`
	DirectoryRoles []roleView         `json:"directoryRoles"`
	IdentifierURIs []string           `json:"identifierUris"`
	Web            profile.Web        `json:"web"`
	Features       []profile.Feature  `json:"features"`
	Handover       profile.Handover   `json:"handover"`
	Tags           []string           `json:"tags"`
	Resources      []resourceViewLite `json:"resources"`
}

type credentialView struct {
	Default         string   `json:"default"`
	Allowed         []string `json:"allowed"`
	SecretExpiry    string   `json:"secretExpiry,omitempty"`
	MaxSecretExpiry string   `json:"maxSecretExpiry,omitempty"`
}

type inputView struct {
	profile.Input
	Flag string `json:"flag"`
}

type permissionView struct {
	Resource             string `json:"resource"`
	ResourceAppID        string `json:"resourceAppId"`
	Type                 string `json:"type"`
	Name                 string `json:"name"`
	ID                   string `json:"id"`
	DisplayName          string `json:"displayName"`
	Description          string `json:"description"`
	AdminConsentRequired bool   `json:"adminConsentRequired"`
	Feature              string `json:"feature,omitempty"`
}

type roleView struct {
	Name        string `json:"name"`
	TemplateID  string `json:"templateId"`
	Description string `json:"description"`
	Feature     string `json:"feature,omitempty"`
}

type resourceViewLite struct {
	DisplayName string `json:"displayName"`
	AppID       string `json:"appId"`
}

func showView(p *profile.Profile) profileView {
	v := profileView{
		ID: p.ID, Product: p.Product, Description: p.Description, Source: p.Source, Guide: p.Guide,
		DisplayName: p.DisplayName, Audience: p.Audience,
		Credential:     credentialView{Default: p.Credential.Default, Allowed: p.Credential.Allowed},
		IdentifierURIs: nonNil(p.IdentifierURIs), Web: p.Web, Features: p.Features, Handover: p.Handover,
		Tags:        []string{profile.Tag, profile.TagProfilePrefix + p.ID},
		Inputs:      []inputView{},
		Permissions: []permissionView{}, DirectoryRoles: []roleView{},
	}
	if v.Features == nil {
		v.Features = []profile.Feature{}
	}
	v.Web.RedirectURIs = nonNil(v.Web.RedirectURIs)
	if p.AllowsCredential(profile.CredentialSecret) {
		v.Credential.SecretExpiry = p.Credential.SecretExpiry.String()
		v.Credential.MaxSecretExpiry = p.Credential.MaxSecretExpiry.String()
	}
	for _, in := range p.Inputs {
		v.Inputs = append(v.Inputs, inputView{Input: in, Flag: in.Flag()})
	}
	seen := map[string]bool{}
	for _, perm := range p.Permissions {
		v.Permissions = append(v.Permissions, permissionView{
			Resource: perm.Resource, ResourceAppID: perm.ResourceAppID, Type: string(perm.Type), Name: perm.Name, ID: perm.ID,
			DisplayName: perm.DisplayName, Description: perm.Description, AdminConsentRequired: perm.AdminConsentRequired, Feature: perm.Feature,
		})
		if !seen[perm.ResourceAppID] {
			seen[perm.ResourceAppID] = true
			v.Resources = append(v.Resources, resourceViewLite{DisplayName: perm.Resource, AppID: perm.ResourceAppID})
		}
	}
	for _, r := range p.DirectoryRoles {
		v.DirectoryRoles = append(v.DirectoryRoles, roleView{Name: r.Name, TemplateID: r.TemplateID, Description: r.Description, Feature: r.Feature})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func showText(w io.Writer, p *profile.Profile) error {
	var b strings.Builder
	src := "built-in profile"
	if p.Source != "built-in" {
		src = "profile file " + p.Source
	}
	fmt.Fprintf(&b, "%s (%s) — %s\n%s\n", p.Product, p.ID, src, p.Description)
	if p.Guide != "" {
		fmt.Fprintf(&b, "Follows the vendor's guide: %s\n", p.Guide)
	}

	b.WriteString("\nApp registration\n")
	fmt.Fprintf(&b, "  Display name   %s (change with --name)\n", p.DisplayName)
	aud := fmt.Sprintf("%s (%s)", p.Audience.Default, profile.SignInAudience[p.Audience.Default])
	if len(p.Audience.Choices) > 1 {
		aud += "; --audience " + strings.Join(p.Audience.Choices, " or ")
	}
	fmt.Fprintf(&b, "  Account type   %s\n", aud)
	fmt.Fprintf(&b, "  Credential     %s\n", credentialText(p))
	if len(p.IdentifierURIs) > 0 {
		fmt.Fprintf(&b, "  Identifier URI %s\n", strings.Join(p.IdentifierURIs, ", "))
	}
	if len(p.Web.RedirectURIs) > 0 {
		t := strings.Join(p.Web.RedirectURIs, ", ")
		if p.Web.IDTokenIssuance != nil {
			if *p.Web.IDTokenIssuance {
				t += " (ID tokens on)"
			} else {
				t += " (ID tokens off)"
			}
		}
		fmt.Fprintf(&b, "  Redirect URI   web: %s\n", t)
	}
	fmt.Fprintf(&b, "  Tags           %s, %s%s\n", profile.Tag, profile.TagProfilePrefix, p.ID)

	b.WriteString("\nPermissions (setup grants admin consent for all of them)\n")
	for _, perm := range p.Permissions {
		if perm.Feature != "" {
			continue
		}
		writePermission(&b, perm.Permission, "  ")
	}
	if roles := rolesFor(p, ""); len(roles) > 0 {
		b.WriteString("\nDirectory roles for the app's service principal\n")
		for _, r := range roles {
			fmt.Fprintf(&b, "  %s — %s\n", r.Name, r.Description)
		}
	}
	if len(p.Inputs) > 0 {
		b.WriteString("\nInputs\n")
		for _, in := range p.Inputs {
			req := "optional"
			if in.Required {
				req = "required"
			}
			kind := map[string]string{profile.InputURL: "https URL", profile.InputURLList: "one or more https URLs", profile.InputString: "text"}[in.Type]
			if in.VerifiedDomain {
				kind += " on a verified domain of the tenant"
			}
			fmt.Fprintf(&b, "  %s  %s (%s, %s)\n", in.Flag(), in.Label, req, kind)
			if in.Help != "" {
				fmt.Fprintf(&b, "      %s\n", in.Help)
			}
			if in.Example != "" {
				fmt.Fprintf(&b, "      e.g. %s\n", in.Example)
			}
		}
	}
	if len(p.Features) > 0 {
		b.WriteString("\nOptional features\n")
		for _, ft := range p.Features {
			fmt.Fprintf(&b, "  --with %s  %s: %s\n", ft.ID, ft.Title, ft.Description)
			for _, perm := range p.Permissions {
				if perm.Feature == ft.ID {
					writePermission(&b, perm.Permission, "      adds ")
				}
			}
			for _, r := range rolesFor(p, ft.ID) {
				fmt.Fprintf(&b, "      adds directory role %s — %s\n", r.Name, r.Description)
			}
		}
	}
	fmt.Fprintf(&b, "\nHand-over (%s; --output handover prints exactly this)\n", map[string]string{"json": "JSON", "text": "label: value lines"}[p.Handover.Format])
	for _, h := range p.Handover.Fields {
		fmt.Fprintf(&b, "  %-22s ← %s\n", h.Label, describeTemplate(h.Value))
	}
	_, err := io.WriteString(w, layout.Text(layout.Lines(strings.TrimRight(b.String(), "\n"), layout.Width(w))))
	return err
}

func writePermission(b *strings.Builder, perm catalog.Permission, prefix string) {
	consent := ""
	if perm.Type == catalog.Delegated && !perm.AdminConsentRequired {
		consent = ", user-consentable"
	}
	fmt.Fprintf(b, "%s%s · %s%s · %s\n", prefix, perm.Resource, perm.Type, consent, perm.Name)
	if perm.DisplayName != "" || perm.Description != "" {
		fmt.Fprintf(b, "%s    %s: %s\n", strings.Repeat(" ", len(prefix)), perm.DisplayName, perm.Description)
	}
}

func rolesFor(p *profile.Profile, feature string) []profile.Role {
	var out []profile.Role
	for _, r := range p.DirectoryRoles {
		if r.Feature == feature {
			out = append(out, r)
		}
	}
	return out
}

func credentialText(p *profile.Profile) string {
	switch p.Credential.Default {
	case profile.CredentialSecret:
		return fmt.Sprintf("client secret, %s by default (at most %s; --secret-expiry)", p.Credential.SecretExpiry.Human(), p.Credential.MaxSecretExpiry.Human())
	case profile.CredentialCertificate:
		return "certificate: upload yours with --certificate-file (PEM or DER), or let entra-link generate an RSA key pair (--certificate-out DIR)"
	default:
		return "none (the product brings its own)"
	}
}

var templateNames = map[string]string{
	"clientId": "application (client) ID", "tenantId": "directory (tenant) ID", "clientSecret": "client secret value",
	"clientSecretExpiresAt": "client secret expiry date", "cloud": "cloud name", "cloudTitle": "national cloud",
	"displayName": "app display name", "certificateThumbprint": "certificate thumbprint",
	"certificateExpiresAt": "certificate expiry date", "tenantDomain": "tenant's initial domain",
	"authorityHost": "sign-in host", "graphEndpoint": "Microsoft Graph endpoint",
}

func describeTemplate(t string) string {
	return profile.Render(t, func(name string) string {
		if d, ok := templateNames[name]; ok {
			return d
		}
		return "input " + name
	})
}
