package profile

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/catalog"
)

// Tags that mark apps entra-link manages (design.md §6).
const (
	Tag              = "entra-link"
	TagProfilePrefix = "entra-link:profile:"
	TagFeaturePrefix = "entra-link:feature:"
)

// ProfileFromTags returns the profile id recorded in an app's tags.
func ProfileFromTags(tags []string) string {
	for _, t := range tags {
		if id, ok := strings.CutPrefix(t, TagProfilePrefix); ok {
			return id
		}
	}
	return ""
}

// FeaturesFromTags returns the features recorded in an app's tags.
func FeaturesFromTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if f, ok := strings.CutPrefix(t, TagFeaturePrefix); ok {
			out = append(out, f)
		}
	}
	return out
}

// Request is what the user asked for: filled by flags or by the wizard.
type Request struct {
	DisplayName string
	AppID       string
	// Values are the profile inputs by id (server-url, redirect-uri, …).
	Values          map[string][]string
	Audience        string
	Credential      string
	SecretExpiry    string
	CertificateFile string
	CertificateOut  string
	Features        []string
	// ServiceManagementReference is --service-management-reference.
	ServiceManagementReference string
	// Owners are --owner values: "me", a user's object ID or user
	// principal name.
	Owners []string
	// AllowPrivilegedOwners lets Owners be added to an app that holds
	// directory roles or permissions that can grant more (see Privileges).
	AllowPrivilegedOwners bool
	// Placeholders is for a dry run: a required value nobody gave becomes a
	// placeholder naming its flag ("<--server-url>") instead of an error.
	Placeholders bool
	// DefaultCertificateOut is where a certificate to generate goes when
	// neither CertificateFile nor CertificateOut is given; "" means
	// DefaultCertificateOut(p). (Each tenant of a run across several has
	// its own.)
	DefaultCertificateOut string
}

// DefaultCertificateOut is where a generated key pair goes when neither
// --certificate-file nor --certificate-out was given: the dry run, the
// review, the run and the wizard's suggestion alike.
func DefaultCertificateOut(p *Profile) string { return "./" + p.ID + "-cert" }

// Placeholder is the stand-in a dry run shows for a value of flag that was
// not given.
func Placeholder(flag string) string { return "<" + flag + ">" }

// Spec is the desired state of one app registration.
type Spec struct {
	Profile     *Profile
	DisplayName string
	// DisplayNameSet: the name was asked for (--name); an existing app
	// keeps its own name otherwise.
	DisplayNameSet bool
	AppID          string // existing app to configure ("" = find or create)
	Audience       string
	// AudienceSet: the audience was asked for (--audience); an existing
	// app keeps an audience the profile allows otherwise.
	AudienceSet    bool
	SignInAudience string
	IdentifierURIs []string
	RedirectURIs   []string
	// IDTokenIssuance is enforced when non-nil.
	IDTokenIssuance *bool
	Permissions     []Permission
	Roles           []Role
	Features        []string
	Tags            []string

	Credential   string
	SecretExpiry Lifetime
	// SecretExpirySet: the lifetime was asked for (--secret-expiry); an app
	// management policy's limit then refuses a longer one instead of
	// shortening it.
	SecretExpirySet bool
	CertificateFile string
	CertificateOut  string
	// CertificateOutDefault: CertificateOut is the default directory, not
	// one the user gave (--certificate-out).
	CertificateOutDefault bool

	// ServiceManagementReference is set on the app (some tenants require
	// one on new apps); "" leaves the app's as it is.
	ServiceManagementReference string
	// Owners are the requested owners, as given (OwnerMe, an object ID or
	// a user principal name).
	Owners []string

	Values map[string][]string
	// VerifiedDomainHosts must be verified domains of the tenant.
	VerifiedDomainHosts []string
	// Placeholders are the flags whose values a dry run shows as
	// placeholders (Request.Placeholders).
	Placeholders []string
}

// Missing is a required value nobody supplied.
type Missing struct {
	Flag        string
	Description string
}

// MissingError lists every required value that is missing, with the flag
// that supplies each one.
type MissingError struct {
	Missing []Missing
}

func (e *MissingError) Error() string {
	var b strings.Builder
	if len(e.Missing) == 1 {
		b.WriteString("1 required value is missing (and prompting is off):")
	} else {
		fmt.Fprintf(&b, "%d required values are missing (and prompting is off):", len(e.Missing))
	}
	width := 0
	for _, m := range e.Missing {
		width = max(width, len(m.Flag))
	}
	for _, m := range e.Missing {
		fmt.Fprintf(&b, "\n  %-*s  %s", width, m.Flag, m.Description)
	}
	return b.String()
}

// InvalidError is a value that was supplied but is not valid.
type InvalidError struct {
	Flag string
	Msg  string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid value for %s: %s", e.Flag, e.Msg) }

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// MissingValues lists the profile's required inputs that r leaves empty.
// Which certificate a certificate credential needs is decided by the plan:
// none when the app already has a valid one.
func MissingValues(p *Profile, r Request) []Missing {
	var out []Missing
	for _, in := range p.Inputs {
		if in.Required && len(nonEmpty(r.Values[in.ID])) == 0 {
			desc := in.Label
			if in.Example != "" {
				desc += " (e.g. " + in.Example + ")"
			}
			out = append(out, Missing{Flag: in.Flag(), Description: desc})
		}
	}
	return out
}

func nonEmpty(v []string) []string {
	var out []string
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// Resolve validates r against p and returns the desired state. now is used
// to compare lifetimes. Errors are *MissingError or *InvalidError.
func Resolve(p *Profile, r Request, now time.Time) (*Spec, error) {
	s := &Spec{Profile: p, Values: map[string][]string{}}

	s.DisplayName = strings.TrimSpace(r.DisplayName)
	s.DisplayNameSet = s.DisplayName != ""
	if s.DisplayName == "" {
		s.DisplayName = p.DisplayName
	}
	if len(s.DisplayName) > 120 {
		return nil, &InvalidError{Flag: "--name", Msg: fmt.Sprintf("the display name is %d characters long; Entra allows at most 120", len(s.DisplayName))}
	}
	if strings.ContainsAny(s.DisplayName, "\n\r\t") {
		return nil, &InvalidError{Flag: "--name", Msg: "the display name must be a single line"}
	}

	if r.AppID != "" {
		if !IsGUID(r.AppID) {
			return nil, &InvalidError{Flag: "--app-id", Msg: fmt.Sprintf("%q is not an application (client) ID: want a GUID such as 00001111-aaaa-2222-bbbb-3333cccc4444", r.AppID)}
		}
		s.AppID = strings.ToLower(r.AppID)
	}

	// Inputs: reject values the profile does not take, validate the rest.
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := nonEmpty(r.Values[k])
		if len(vals) == 0 {
			continue
		}
		in, ok := p.Input(k)
		if !ok {
			return nil, &InvalidError{Flag: Input{ID: k}.Flag(), Msg: fmt.Sprintf("profile %s takes no %s%s", p.ID, k, inputList(p))}
		}
		if len(vals) > 1 && in.Type != InputURLList {
			return nil, &InvalidError{Flag: in.Flag(), Msg: fmt.Sprintf("give %s once (got %d values)", in.Label, len(vals))}
		}
		for i, v := range vals {
			norm, err := validateInput(in, v)
			if err != nil {
				return nil, &InvalidError{Flag: in.Flag(), Msg: err.Error()}
			}
			vals[i] = norm
		}
		if dup := firstDuplicate(vals); dup != "" {
			return nil, &InvalidError{Flag: in.Flag(), Msg: fmt.Sprintf("%s is given twice", dup)}
		}
		s.Values[k] = vals
		if in.VerifiedDomain {
			for _, v := range vals {
				u, _ := url.Parse(v)
				s.VerifiedDomainHosts = append(s.VerifiedDomainHosts, strings.ToLower(u.Hostname()))
			}
		}
	}
	// Audience.
	s.Audience = p.Audience.Default
	if r.Audience != "" {
		a := strings.ToLower(strings.TrimSpace(r.Audience))
		if _, ok := SignInAudience[a]; !ok {
			return nil, &InvalidError{Flag: "--audience", Msg: fmt.Sprintf("%q is not an audience; valid values: %s, %s", r.Audience, AudienceSingleTenant, AudienceMultiTenant)}
		}
		if !p.AllowsAudience(a) {
			return nil, &InvalidError{Flag: "--audience", Msg: fmt.Sprintf("profile %s supports only %s", p.ID, strings.Join(p.Audience.Choices, ", "))}
		}
		s.Audience = a
		s.AudienceSet = true
	}
	s.SignInAudience = SignInAudience[s.Audience]

	// Features.
	for _, f := range r.Features {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if _, ok := p.Feature(f); !ok {
			valid := "it has no optional features"
			if ids := p.FeatureIDs(); len(ids) > 0 {
				valid = "valid features: " + strings.Join(ids, ", ")
			}
			return nil, &InvalidError{Flag: "--with", Msg: fmt.Sprintf("profile %s has no feature %q; %s", p.ID, f, valid)}
		}
		if !slices.Contains(s.Features, f) {
			s.Features = append(s.Features, f)
		}
	}
	sort.Strings(s.Features)
	for _, perm := range p.Permissions {
		if perm.Feature == "" || slices.Contains(s.Features, perm.Feature) {
			s.Permissions = append(s.Permissions, perm)
		}
	}
	for _, role := range p.DirectoryRoles {
		if role.Feature == "" || slices.Contains(s.Features, role.Feature) {
			s.Roles = append(s.Roles, role)
		}
	}

	// Credential.
	if err := resolveCredential(s, p, r, now); err != nil {
		return nil, err
	}
	if err := resolveApp(s, r); err != nil {
		return nil, err
	}
	if m := MissingValues(p, r); len(m) > 0 {
		if !r.Placeholders {
			return nil, &MissingError{Missing: m}
		}
		for _, in := range p.Inputs {
			if in.Required && len(s.Values[in.ID]) == 0 {
				s.Values[in.ID] = []string{Placeholder(strings.TrimSuffix(in.Flag(), "=…"))}
				s.Placeholders = append(s.Placeholders, in.Flag())
			}
		}
	}
	if s.Credential == CredentialCertificate && s.CertificateFile == "" && s.CertificateOut == "" {
		s.CertificateOut, s.CertificateOutDefault = r.DefaultCertificateOut, true
		if s.CertificateOut == "" {
			s.CertificateOut = DefaultCertificateOut(p)
		}
	}

	// URIs.
	s.IdentifierURIs = expand(p.IdentifierURIs, s.Values)
	s.RedirectURIs = expand(p.Web.RedirectURIs, s.Values)
	s.IDTokenIssuance = p.Web.IDTokenIssuance

	s.Tags = []string{Tag, TagProfilePrefix + p.ID}
	for _, f := range s.Features {
		s.Tags = append(s.Tags, TagFeaturePrefix+f)
	}
	if tag := InputsTag(p, s.Values); tag != "" && len(s.Placeholders) == 0 {
		s.Tags = append(s.Tags, tag)
	}
	return s, nil
}

func resolveCredential(s *Spec, p *Profile, r Request, now time.Time) error {
	s.Credential = p.Credential.Default
	if r.Credential != "" {
		c := strings.ToLower(strings.TrimSpace(r.Credential))
		switch c {
		case CredentialSecret, CredentialCertificate, CredentialNone:
		default:
			return &InvalidError{Flag: "--credential", Msg: fmt.Sprintf("%q is not a credential type; valid values: secret, certificate, none", r.Credential)}
		}
		if !p.AllowsCredential(c) {
			return &InvalidError{Flag: "--credential", Msg: fmt.Sprintf("%s needs a %s credential (profile %s allows: %s)",
				p.Product, p.Credential.Default, p.ID, strings.Join(p.Credential.Allowed, ", "))}
		}
		s.Credential = c
	}
	if r.SecretExpiry != "" && s.Credential != CredentialSecret {
		return &InvalidError{Flag: "--secret-expiry", Msg: fmt.Sprintf("applies only to client secrets, and this run adds a %s credential", s.Credential)}
	}
	if (r.CertificateFile != "" || r.CertificateOut != "") && s.Credential != CredentialCertificate {
		flag := "--certificate-file"
		if r.CertificateFile == "" {
			flag = "--certificate-out"
		}
		return &InvalidError{Flag: flag, Msg: fmt.Sprintf("applies only to --credential certificate (this run adds: %s)", s.Credential)}
	}
	if r.CertificateFile != "" && r.CertificateOut != "" {
		return &InvalidError{Flag: "--certificate-out", Msg: "cannot be combined with --certificate-file: --certificate-file uploads your certificate, --certificate-out generates a new key pair"}
	}
	s.CertificateFile = r.CertificateFile
	s.CertificateOut = r.CertificateOut
	if s.Credential == CredentialSecret {
		s.SecretExpiry = p.Credential.SecretExpiry
		if r.SecretExpiry != "" {
			l, err := ParseLifetime(r.SecretExpiry)
			if err != nil {
				return &InvalidError{Flag: "--secret-expiry", Msg: err.Error()}
			}
			if l.Exceeds(p.Credential.MaxSecretExpiry, now) {
				return &InvalidError{Flag: "--secret-expiry", Msg: fmt.Sprintf("%s is longer than profile %s allows (at most %s); choose e.g. 90d, 6m, 1y",
					r.SecretExpiry, p.ID, p.Credential.MaxSecretExpiry.Human())}
			}
			if l.AddTo(now).Before(now.Add(24 * time.Hour)) {
				return &InvalidError{Flag: "--secret-expiry", Msg: "a secret must live at least one day"}
			}
			s.SecretExpiry = l
			s.SecretExpirySet = true
		}
	}
	return nil
}

// OwnerMe is the --owner value naming the signed-in admin.
const OwnerMe = "me"

// resolveApp checks the app's own properties: the service management
// reference and the owners. An owner can add a credential to the app and
// act as it, so owners of an app that holds privileges are refused unless
// asked for explicitly.
func resolveApp(s *Spec, r Request) error {
	ref := strings.TrimSpace(r.ServiceManagementReference)
	if strings.ContainsAny(ref, "\n\r\t") || len(ref) > 128 {
		return &InvalidError{Flag: "--service-management-reference", Msg: "want one line of at most 128 characters, e.g. the ID of the app's entry in your service catalogue (ITSM, ServiceNow)"}
	}
	s.ServiceManagementReference = ref
	for _, o := range r.Owners {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case strings.EqualFold(o, OwnerMe):
			o = OwnerMe
		case IsGUID(o):
			o = strings.ToLower(o)
		case strings.Count(o, "@") == 1 && !strings.HasPrefix(o, "@") && !strings.HasSuffix(o, "@") && !strings.ContainsAny(o, " /?#"):
		default:
			return &InvalidError{Flag: "--owner", Msg: fmt.Sprintf("%q is not a user: give me (the signed-in admin), a user principal name such as alex@contoso.com, or a user's object ID", o)}
		}
		if !slices.ContainsFunc(s.Owners, func(x string) bool { return strings.EqualFold(x, o) }) {
			s.Owners = append(s.Owners, o)
		}
	}
	if len(s.Owners) > 0 && !r.AllowPrivilegedOwners {
		if why := Privileges(s.Permissions, s.Roles); len(why) > 0 {
			return &InvalidError{Flag: "--owner", Msg: fmt.Sprintf("%s's app holds %s, and an owner can add a credential to it and act with them. Owners are off for such apps; add --allow-privileged-owners to add them anyway",
				s.Profile.Product, strings.Join(why, " and "))}
		}
	}
	return nil
}

// privilegedAppRoles are Microsoft Graph application permissions with
// which an app can grant itself (or anyone) more: whoever can add a
// credential to an app holding one can too.
var privilegedAppRoles = []string{"RoleManagement.ReadWrite.Directory", "AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All"}

// Privileges names, in words, what makes an app privileged: the directory
// roles it holds and the Microsoft Graph application permissions that let
// it grant itself more. Empty for an app an owner cannot escalate through.
func Privileges(perms []Permission, roles []Role) []string {
	var out []string
	if len(roles) > 0 {
		names := make([]string, 0, len(roles))
		for _, r := range roles {
			names = append(names, r.Name)
		}
		what := "the directory role "
		if len(names) > 1 {
			what = "the directory roles "
		}
		out = append(out, what+strings.Join(names, ", "))
	}
	var app []string
	for _, p := range perms {
		if p.Type == catalog.Application && strings.EqualFold(p.ResourceAppID, catalog.GraphAppID) && slices.Contains(privilegedAppRoles, p.Name) {
			app = append(app, p.Name)
		}
	}
	if len(app) > 0 {
		out = append(out, "the Microsoft Graph application permission "+strings.Join(app, ", "))
	}
	return out
}

func inputList(p *Profile) string {
	if len(p.Inputs) == 0 {
		return " (it needs no inputs)"
	}
	flags := make([]string, 0, len(p.Inputs))
	for _, in := range p.Inputs {
		flags = append(flags, in.Flag())
	}
	return " (its inputs: " + strings.Join(flags, ", ") + ")"
}

func firstDuplicate(vals []string) string {
	seen := map[string]bool{}
	for _, v := range vals {
		k := strings.ToLower(v)
		if seen[k] {
			return v
		}
		seen[k] = true
	}
	return ""
}

// validateInput checks one value and returns its normalised form.
func validateInput(in Input, v string) (string, error) {
	switch in.Type {
	case InputURL, InputURLList:
		return validateURL(v, in.Type == InputURLList && !in.VerifiedDomain)
	default:
		if len(v) > 1024 {
			return "", fmt.Errorf("%s is longer than 1024 characters", in.Label)
		}
		return v, nil
	}
}

// validateURL accepts absolute https URLs (and, for redirect URIs,
// http://localhost), as Entra does for web redirect URIs and identifier URIs.
func validateURL(v string, allowLocalhostHTTP bool) (string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return "", fmt.Errorf("%q is not an absolute URL; want e.g. https://app.example.com/path", v)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	switch {
	case scheme == "https":
	case scheme == "http" && allowLocalhostHTTP && (host == "localhost" || host == "127.0.0.1"):
	case scheme == "http":
		if allowLocalhostHTTP {
			return "", fmt.Errorf("%q uses http; Entra accepts http only for localhost — use https", v)
		}
		return "", fmt.Errorf("%q uses http; it must be an https URL", v)
	default:
		return "", fmt.Errorf("%q must be an https URL", v)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q must not contain a user name or password", v)
	}
	if u.Fragment != "" || strings.Contains(v, "#") {
		return "", fmt.Errorf("%q must not contain a fragment (#…)", v)
	}
	if strings.Contains(host, "*") {
		return "", fmt.Errorf("%q: wildcards are not allowed", v)
	}
	if len(v) > 256 {
		return "", fmt.Errorf("%q is longer than the 256 characters Entra allows", v)
	}
	u.Scheme = scheme
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// expand renders URI templates: an item that is exactly "{{list-input}}"
// becomes one item per value.
func expand(templates []string, values map[string][]string) []string {
	out := []string{}
	for _, t := range templates {
		if m := templateVarRef.FindStringSubmatch(t); m != nil && m[0] == strings.TrimSpace(t) {
			out = append(out, values[m[1]]...)
			continue
		}
		out = append(out, Render(t, func(name string) string {
			if v := values[name]; len(v) > 0 {
				return v[0]
			}
			return ""
		}))
	}
	return out
}

// Render replaces each {{name}} in t with lookup(name).
func Render(t string, lookup func(string) string) string {
	return templateVarRef.ReplaceAllStringFunc(t, func(m string) string {
		return lookup(templateVarRef.FindStringSubmatch(m)[1])
	})
}
