// Package profile reads product profiles — one declarative YAML file per
// product saying what its Entra app registration needs — validates them
// against the embedded permission catalogue, and resolves a profile plus the
// user's inputs into a Spec: the desired state that setup plans and applies.
package profile

import (
	"github.com/entra-link/entra-link/internal/catalog"
)

// Credential types.
const (
	CredentialSecret      = "secret"
	CredentialCertificate = "certificate"
	CredentialNone        = "none"
)

// Audiences (the --audience values) and the Graph signInAudience they map to.
const (
	AudienceSingleTenant = "single-tenant"
	AudienceMultiTenant  = "multi-tenant"
)

// SignInAudience maps an --audience value to Graph's signInAudience.
var SignInAudience = map[string]string{
	AudienceSingleTenant: "AzureADMyOrg",
	AudienceMultiTenant:  "AzureADMultipleOrgs",
}

// Input types.
const (
	InputURL     = "url"      // one https URL
	InputURLList = "url-list" // one or more https URLs (repeatable flag)
	InputString  = "string"
)

// Profile is a parsed, validated product profile.
type Profile struct {
	// Source is where the profile came from: "built-in" or a file path.
	Source string `json:"-"`

	ID          string `json:"id"`
	Product     string `json:"product"`
	Description string `json:"description"`
	// Guide names the vendor's setup guide the profile follows.
	Guide       string `json:"guide,omitempty"`
	DisplayName string `json:"displayName"`

	Audience       Audience         `json:"audience"`
	Credential     CredentialPolicy `json:"credential"`
	Inputs         []Input          `json:"inputs"`
	Permissions    []Permission     `json:"permissions"`
	DirectoryRoles []Role           `json:"directoryRoles"`
	Web            Web              `json:"web"`
	IdentifierURIs []string         `json:"identifierUris"`
	Features       []Feature        `json:"features"`
	Handover       Handover         `json:"handover"`
}

// Audience says which sign-in audiences the product supports.
type Audience struct {
	Default string   `json:"default"`
	Choices []string `json:"choices"`
}

// CredentialPolicy says which credential the product uses.
type CredentialPolicy struct {
	Default         string   `json:"default"`
	Allowed         []string `json:"allowed"`
	SecretExpiry    Lifetime `json:"-"`
	MaxSecretExpiry Lifetime `json:"-"`
}

// Input is a value the user must (or may) supply, such as Relution's server URL.
type Input struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Help     string `json:"help,omitempty"`
	Example  string `json:"example,omitempty"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	// VerifiedDomain: the URL's host must be a verified domain of the tenant
	// (Entra rejects https identifier URIs on other hosts).
	VerifiedDomain bool `json:"verifiedDomain,omitempty"`
}

// Flag is the command-line flag that supplies the input.
func (in Input) Flag() string {
	switch in.ID {
	case "server-url":
		return "--server-url"
	case "redirect-uri":
		return "--redirect-uri"
	}
	return "--input " + in.ID + "=…"
}

// Permission is one permission a profile requests, resolved against the catalogue.
type Permission struct {
	catalog.Permission
	// Feature is the optional feature that adds this permission ("" = always).
	Feature string `json:"feature,omitempty"`
}

// Role is one directory role assigned to the app's service principal.
type Role struct {
	catalog.DirectoryRole
	Feature string `json:"feature,omitempty"`
}

// Web is the web platform configuration; values are templates.
type Web struct {
	RedirectURIs []string `json:"redirectUris"`
	// IDTokenIssuance, when set, is enforced on the app.
	IDTokenIssuance *bool `json:"idTokenIssuance,omitempty"`
}

// Feature is an optional part of a profile, switched on with --with ID.
type Feature struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Handover says how the values are handed to the product.
type Handover struct {
	// Format is "text" (label: value lines) or "json" (an object of label: value, in order).
	Format    string          `json:"format"`
	Fields    []HandoverField `json:"fields"`
	NextSteps []string        `json:"nextSteps"`
}

// HandoverField is one value under the product's own label.
type HandoverField struct {
	Label string `json:"label"`
	// Value is a template such as "{{clientId}}".
	Value string `json:"value"`
}

// HasInput reports whether the profile declares the input id.
func (p *Profile) HasInput(id string) bool {
	_, ok := p.Input(id)
	return ok
}

// Input returns the declared input with the given id.
func (p *Profile) Input(id string) (Input, bool) {
	for _, in := range p.Inputs {
		if in.ID == id {
			return in, true
		}
	}
	return Input{}, false
}

// Feature returns the optional feature with the given id.
func (p *Profile) Feature(id string) (Feature, bool) {
	for _, f := range p.Features {
		if f.ID == id {
			return f, true
		}
	}
	return Feature{}, false
}

// FeatureIDs lists the optional features' ids.
func (p *Profile) FeatureIDs() []string {
	out := make([]string, 0, len(p.Features))
	for _, f := range p.Features {
		out = append(out, f.ID)
	}
	return out
}

// AllowsCredential reports whether the credential type is allowed.
func (p *Profile) AllowsCredential(t string) bool {
	for _, a := range p.Credential.Allowed {
		if a == t {
			return true
		}
	}
	return false
}

// AllowsAudience reports whether the audience is one of the profile's choices.
func (p *Profile) AllowsAudience(a string) bool {
	for _, c := range p.Audience.Choices {
		if c == a {
			return true
		}
	}
	return false
}
