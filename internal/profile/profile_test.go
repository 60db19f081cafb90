package profile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// TestBuiltinsMatchProducts checks each built-in profile against what
// products.md says the product needs.
func TestBuiltinsMatchProducts(t *testing.T) {
	type want struct {
		displayName string
		credential  string
		app         []string // Graph/Exchange application permissions
		delegated   []string
		roles       []string
		feature     map[string][]string // feature → extra permissions+roles
		handover    []string
		format      string
		inputs      []string
	}
	tests := map[string]want{
		"relution": {displayName: "Relution", credential: "secret",
			app:      []string{"User.Read.All", "Group.Read.All", "Device.ReadWrite.All"},
			handover: []string{"Application (client) ID", "Directory (tenant) ID", "Client secret"}, format: "text",
			inputs: []string{"server-url"}},
		"hire2retire": {displayName: "Hire2Retire", credential: "certificate",
			app:      []string{"User.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "User.EnableDisableAccount.All"},
			roles:    []string{"User Administrator"},
			feature:  map[string][]string{"exchange": {"Exchange.ManageAsApp", "Exchange Administrator"}},
			handover: []string{"Entra ID National cloud", "Client ID", "Tenant ID"}, format: "text"},
		"entitle": {displayName: "Entitle", credential: "secret",
			app:      []string{"Directory.ReadWrite.All", "RoleManagement.ReadWrite.Directory"},
			handover: []string{"client_id", "secret", "tenant"}, format: "json"},
		"unify": {displayName: "Unify Integration", credential: "secret",
			delegated: []string{"offline_access", "User.ReadWrite.All", "Group.ReadWrite.All", "People.Read.All"},
			handover:  []string{"Client ID", "Tenant ID", "Client secret"}, format: "text",
			inputs: []string{"redirect-uri"}},
		"roger365": {displayName: "ROGER365.io Azure Entra replicator", credential: "secret",
			app:      []string{"User.Read.All"},
			handover: []string{"Tenant Id", "Client id (App id)", "Client Secret"}, format: "text"},
	}
	if got := BuiltinIDs(); !slices.Equal(got, []string{"relution", "hire2retire", "entitle", "unify", "roger365"}) {
		t.Fatalf("BuiltinIDs = %v", got)
	}
	for id, w := range tests {
		t.Run(id, func(t *testing.T) {
			p, err := Builtin(id)
			if err != nil {
				t.Fatal(err)
			}
			if p.DisplayName != w.displayName || p.Credential.Default != w.credential {
				t.Errorf("displayName/credential = %q/%q", p.DisplayName, p.Credential.Default)
			}
			var app, del, roles []string
			features := map[string][]string{}
			for _, perm := range p.Permissions {
				if perm.Feature != "" {
					features[perm.Feature] = append(features[perm.Feature], perm.Name)
					continue
				}
				if perm.Type == "application" {
					app = append(app, perm.Name)
				} else {
					del = append(del, perm.Name)
				}
			}
			for _, r := range p.DirectoryRoles {
				if r.Feature != "" {
					features[r.Feature] = append(features[r.Feature], r.Name)
					continue
				}
				roles = append(roles, r.Name)
			}
			eq := func(name string, got, want []string) {
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			eq("application permissions", app, w.app)
			eq("delegated permissions", del, w.delegated)
			eq("roles", roles, w.roles)
			for f, extra := range w.feature {
				eq("feature "+f, features[f], extra)
			}
			if len(features) != len(w.feature) {
				t.Errorf("features = %v", features)
			}
			var labels []string
			for _, h := range p.Handover.Fields {
				labels = append(labels, h.Label)
			}
			eq("handover labels", labels, w.handover)
			if p.Handover.Format != w.format {
				t.Errorf("handover format = %s", p.Handover.Format)
			}
			var inputs []string
			for _, in := range p.Inputs {
				inputs = append(inputs, in.ID)
			}
			eq("inputs", inputs, w.inputs)
			if p.Audience.Default != AudienceSingleTenant {
				t.Errorf("audience default = %s", p.Audience.Default)
			}
		})
	}
}

func TestRelutionURIs(t *testing.T) {
	p, _ := Builtin("relution")
	s, err := Resolve(p, Request{Values: map[string][]string{"server-url": {"https://Relution.Contoso.com/"}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://relution.contoso.com/"}
	if !slices.Equal(s.IdentifierURIs, want) || !slices.Equal(s.RedirectURIs, want) {
		t.Errorf("URIs = %v / %v", s.IdentifierURIs, s.RedirectURIs)
	}
	if s.IDTokenIssuance == nil || *s.IDTokenIssuance {
		t.Error("relution must switch ID token issuance off")
	}
	if !slices.Equal(s.VerifiedDomainHosts, []string{"relution.contoso.com"}) {
		t.Errorf("VerifiedDomainHosts = %v", s.VerifiedDomainHosts)
	}
	if s.SignInAudience != "AzureADMyOrg" || !slices.Equal(s.Tags, []string{"entra-link", "entra-link:profile:relution", InputsTag(p, map[string][]string{"server-url": {"https://relution.contoso.com/"}})}) {
		t.Errorf("audience/tags = %s %v", s.SignInAudience, s.Tags)
	}
	if got := s.SecretExpiry.AddTo(now); !got.Equal(now.AddDate(1, 0, 0)) {
		t.Errorf("default expiry = %v", got)
	}
}

// TestInputsTag: the fingerprint of the URI inputs setup applied is
// recorded in a tag; another value (or one more) changes it, the order of
// a list does not, and a profile whose URIs take no input has none.
func TestInputsTag(t *testing.T) {
	unify, _ := Builtin("unify")
	a := InputsTag(unify, map[string][]string{"redirect-uri": {"https://a.example.com/cb", "https://b.example.com/cb"}})
	b := InputsTag(unify, map[string][]string{"redirect-uri": {"https://b.example.com/cb", "https://a.example.com/cb"}})
	c := InputsTag(unify, map[string][]string{"redirect-uri": {"https://a.example.com/cb"}})
	if a != b || a == c || !strings.HasPrefix(a, TagInputsPrefix) || len(a) != len(TagInputsPrefix)+12 {
		t.Errorf("tags %q %q %q", a, b, c)
	}
	if InputsTagOf([]string{"entra-link", a}) != a || InputsTagOf([]string{"entra-link"}) != "" {
		t.Error("InputsTagOf")
	}
	entitle, _ := Builtin("entitle")
	if tag := InputsTag(entitle, map[string][]string{}); tag != "" {
		t.Errorf("entitle: %q", tag)
	}
	s, err := Resolve(entitle, Request{}, now)
	if err != nil || slices.ContainsFunc(s.Tags, func(t string) bool { return strings.HasPrefix(t, TagInputsPrefix) }) {
		t.Errorf("entitle's tags %v: %v", s.Tags, err)
	}
}

func TestUnifyRedirects(t *testing.T) {
	p, _ := Builtin("unify")
	s, err := Resolve(p, Request{Audience: "multi-tenant", Values: map[string][]string{
		"redirect-uri": {"https://a.example.com/cb", "http://localhost:8080/cb"}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.RedirectURIs, []string{"https://a.example.com/cb", "http://localhost:8080/cb"}) || len(s.IdentifierURIs) != 0 {
		t.Errorf("URIs = %v / %v", s.RedirectURIs, s.IdentifierURIs)
	}
	if s.SignInAudience != "AzureADMultipleOrgs" || s.IDTokenIssuance != nil {
		t.Errorf("audience = %s, idtoken = %v", s.SignInAudience, s.IDTokenIssuance)
	}
}

func TestHire2RetireFeatures(t *testing.T) {
	p, _ := Builtin("hire2retire")
	base, err := Resolve(p, Request{CertificateFile: "h.cer"}, now)
	if err != nil {
		t.Fatal(err)
	}
	with, err := Resolve(p, Request{CertificateFile: "h.cer", Features: []string{"exchange"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Permissions) != 4 || len(base.Roles) != 1 || len(with.Permissions) != 5 || len(with.Roles) != 2 {
		t.Errorf("base %d/%d, with exchange %d/%d", len(base.Permissions), len(base.Roles), len(with.Permissions), len(with.Roles))
	}
	if !slices.Contains(with.Tags, "entra-link:feature:exchange") || slices.Contains(base.Tags, "entra-link:feature:exchange") {
		t.Errorf("tags: %v / %v", base.Tags, with.Tags)
	}
	if got := FeaturesFromTags(with.Tags); !slices.Equal(got, []string{"exchange"}) {
		t.Errorf("FeaturesFromTags = %v", got)
	}
	if ProfileFromTags(with.Tags) != "hire2retire" {
		t.Error("ProfileFromTags")
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		req     Request
		flag    string
		want    string
	}{
		{"server url missing", "relution", Request{}, "--server-url", "required value is missing"},
		{"http server url", "relution", Request{Values: map[string][]string{"server-url": {"http://relution.contoso.com"}}}, "--server-url", "must be an https URL"},
		{"relative url", "relution", Request{Values: map[string][]string{"server-url": {"relution.contoso.com"}}}, "--server-url", "not an absolute URL"},
		{"server url twice", "relution", Request{Values: map[string][]string{"server-url": {"https://a.contoso.com", "https://b.contoso.com"}}}, "--server-url", "give Relution server URL once"},
		{"fragment", "unify", Request{Values: map[string][]string{"redirect-uri": {"https://a.example.com/cb#x"}}}, "--redirect-uri", "fragment"},
		{"http redirect", "unify", Request{Values: map[string][]string{"redirect-uri": {"http://app.example.com/cb"}}}, "--redirect-uri", "http only for localhost"},
		{"duplicate redirect", "unify", Request{Values: map[string][]string{"redirect-uri": {"https://a.example.com/cb", "https://A.example.com/cb"}}}, "--redirect-uri", "given twice"},
		{"input not taken", "entitle", Request{Values: map[string][]string{"server-url": {"https://x.contoso.com"}}}, "--server-url", "profile entitle takes no server-url"},
		{"unknown input", "entitle", Request{Values: map[string][]string{"color": {"red"}}}, "--input color=…", "takes no color"},
		{"bad app id", "entitle", Request{AppID: "not-a-guid"}, "--app-id", "want a GUID"},
		{"long name", "entitle", Request{DisplayName: strings.Repeat("x", 121)}, "--name", "at most 120"},
		{"audience not allowed", "relution", Request{Audience: "multi-tenant", Values: map[string][]string{"server-url": {"https://r.contoso.com"}}}, "--audience", "supports only single-tenant"},
		{"audience unknown", "unify", Request{Audience: "everyone", Values: map[string][]string{"redirect-uri": {"https://a.example.com"}}}, "--audience", "valid values: single-tenant, multi-tenant"},
		{"unknown feature", "hire2retire", Request{CertificateFile: "x.cer", Features: []string{"sharepoint"}}, "--with", "valid features: exchange"},
		{"feature on featureless", "entitle", Request{Features: []string{"exchange"}}, "--with", "it has no optional features"},
		{"credential not allowed", "entitle", Request{Credential: "certificate"}, "--credential", "allows: secret"},
		{"credential unknown", "entitle", Request{Credential: "password"}, "--credential", "valid values: secret, certificate, none"},
		{"expiry too long", "entitle", Request{SecretExpiry: "3y"}, "--secret-expiry", "at most 2 years"},
		{"expiry 25 months", "entitle", Request{SecretExpiry: "25m"}, "--secret-expiry", "at most 2 years"},
		{"expiry malformed", "entitle", Request{SecretExpiry: "5x"}, "--secret-expiry", "unknown unit"},
		{"expiry zero", "entitle", Request{SecretExpiry: "0d"}, "--secret-expiry", "positive whole number"},
		{"expiry for certificate", "hire2retire", Request{CertificateFile: "x.cer", SecretExpiry: "90d"}, "--secret-expiry", "applies only to client secrets"},
		{"cert file for secret", "entitle", Request{CertificateFile: "x.cer"}, "--certificate-file", "applies only to --credential certificate"},
		{"file and out", "hire2retire", Request{CertificateFile: "x.cer", CertificateOut: "d"}, "--certificate-out", "cannot be combined with --certificate-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Builtin(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Resolve(p, tt.req, now)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.flag) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q should name %s and say %q", err, tt.flag, tt.want)
			}
			var ie *InvalidError
			var me *MissingError
			if !errors.As(err, &ie) && !errors.As(err, &me) {
				t.Errorf("error type %T, want *InvalidError or *MissingError", err)
			}
		})
	}
}

func TestLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		str  string
	}{
		{"90d", now.AddDate(0, 0, 90), "90d"},
		{"12w", now.AddDate(0, 0, 84), "12w"},
		{"6m", now.AddDate(0, 6, 0), "6m"},
		{"24m", now.AddDate(2, 0, 0), "24m"},
		{"1y", now.AddDate(1, 0, 0), "1y"},
		{" 6 Months ", now.AddDate(0, 6, 0), "6m"},
		{"2years", now.AddDate(2, 0, 0), "2y"},
	}
	for _, tt := range tests {
		l, err := ParseLifetime(tt.in)
		if err != nil {
			t.Errorf("ParseLifetime(%q): %v", tt.in, err)
			continue
		}
		if got := l.AddTo(now); !got.Equal(tt.want) || l.String() != tt.str {
			t.Errorf("ParseLifetime(%q) = %v (%s), want %v (%s)", tt.in, got, l, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "d", "90", "-5d", "1.5y", "10q", "99999999999d"} {
		if _, err := ParseLifetime(bad); err == nil {
			t.Errorf("ParseLifetime(%q) should fail", bad)
		}
	}
	two := Lifetime{N: 2, Unit: 'y'}
	if (Lifetime{N: 24, Unit: 'm'}).Exceeds(two, now) || !(Lifetime{N: 731, Unit: 'd'}).Exceeds(two, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Exceeds is wrong around two years")
	}
	if (Lifetime{N: 1, Unit: 'y'}).Human() != "1 year" || (Lifetime{N: 6, Unit: 'm'}).Human() != "6 months" {
		t.Error("Human")
	}
}

func TestMissingErrorListsEverything(t *testing.T) {
	e := &MissingError{Missing: []Missing{{"--profile", "the product"}, {"--server-url", "Relution server URL"}}}
	msg := e.Error()
	for _, w := range []string{"2 required values are missing", "--profile", "--server-url", "Relution server URL"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q missing %q", msg, w)
		}
	}
}

func TestLoadFileFromDisk(t *testing.T) {
	data, err := os.ReadFile("testdata/custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "custom.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != path || p.ID != "acme-hr" || len(p.Permissions) != 2 || len(p.Inputs) != 1 {
		t.Errorf("loaded %+v", p)
	}
	s, err := Resolve(p, Request{Values: map[string][]string{"portal-url": {"https://acme.example.com/signin"}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.RedirectURIs, []string{"https://acme.example.com/signin"}) {
		t.Errorf("redirects = %v", s.RedirectURIs)
	}
	if _, err := LoadFile(filepath.Join(dir, "nope.yaml")); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file error = %v", err)
	}
}

// TestResolvePlaceholders: a dry run resolves without prompting: a
// required input nobody gave is a placeholder naming its flag, and a
// certificate to generate goes to ./<profile>-cert.
func TestResolvePlaceholders(t *testing.T) {
	rel, _ := Builtin("relution")
	s, err := Resolve(rel, Request{Placeholders: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.IdentifierURIs, []string{"<--server-url>"}) || !slices.Equal(s.Placeholders, []string{"--server-url"}) || len(s.VerifiedDomainHosts) != 0 {
		t.Errorf("relution: uris %v placeholders %v hosts %v", s.IdentifierURIs, s.Placeholders, s.VerifiedDomainHosts)
	}
	h2r, _ := Builtin("hire2retire")
	s, err = Resolve(h2r, Request{Placeholders: true}, now)
	if err != nil || s.CertificateOut != "./hire2retire-cert" {
		t.Errorf("hire2retire: %v, certificate out %q", err, s.CertificateOut)
	}
	if _, err := Resolve(rel, Request{}, now); err == nil {
		t.Error("without placeholders a missing server URL is an error")
	}
}
