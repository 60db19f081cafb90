package graph

import (
	"context"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/policies"
)

// AppManagementPolicy is an app management policy (endpoints.md §11): the
// tenant default (GET /policies/defaultAppManagementPolicy, its
// applicationRestrictions) or a policy assigned to one app (its
// restrictions), reduced to what governs an application's credentials and
// identifier URIs.
type AppManagementPolicy struct {
	ID          string
	DisplayName string
	// Default marks the tenant default; otherwise the policy is assigned to
	// an app and replaces the default for it.
	Default bool
	Enabled bool
	// Passwords and Keys are the restrictions on client secrets and
	// certificates.
	Passwords []CredentialRestriction
	Keys      []CredentialRestriction
	// NonDefaultURIs and URIsWithoutTenantID are identifierUriConfiguration's
	// nonDefaultUriAddition and uriAdditionWithoutUniqueTenantIdentifier
	// (nil: not set).
	NonDefaultURIs      *URIRestriction
	URIsWithoutTenantID *URIRestriction
}

// CredentialRestriction is a passwordCredentialConfiguration or
// keyCredentialConfiguration.
type CredentialRestriction struct {
	// Type is the restrictionType: passwordAddition, passwordLifetime,
	// customPasswordAddition, symmetricKeyAddition, symmetricKeyLifetime,
	// asymmetricKeyLifetime, …
	Type string
	// MaxLifetime is an ISO 8601 duration (lifetime restrictions only).
	MaxLifetime string
	// Since is restrictForAppsCreatedAfterDateTime: the restriction applies
	// to apps created on or after it (zero: all apps).
	Since time.Time
	// Disabled is state "disabled".
	Disabled bool
	// Exemptions: excludeActors names callers the restriction does not
	// apply to, which the caller cannot tell from here.
	Exemptions bool
}

// URIRestriction is an identifierUriRestriction.
type URIRestriction struct {
	Since    time.Time
	Disabled bool
	// ExemptV2 and ExemptSAML: apps receiving v2 access tokens and SAML apps
	// are exempt; nil means Entra's default (exempt).
	ExemptV2   *bool
	ExemptSAML *bool
	Exemptions bool
}

type wireCredentialRestriction struct {
	RestrictionType string     `json:"restrictionType"`
	MaxLifetime     *string    `json:"maxLifetime"`
	Since           *time.Time `json:"restrictForAppsCreatedAfterDateTime"`
	State           *string    `json:"state"`
	ExcludeActors   *struct {
		CustomSecurityAttributes []any `json:"customSecurityAttributes"`
	} `json:"excludeActors"`
}

type wireURIRestriction struct {
	Since         *time.Time `json:"restrictForAppsCreatedAfterDateTime"`
	State         *string    `json:"state"`
	ExcludeV2     *bool      `json:"excludeAppsReceivingV2Tokens"`
	ExcludeSAML   *bool      `json:"excludeSaml"`
	ExcludeActors *struct {
		CustomSecurityAttributes []any `json:"customSecurityAttributes"`
	} `json:"excludeActors"`
}

type wireURIConfiguration struct {
	NonDefault       *wireURIRestriction `json:"nonDefaultUriAddition"`
	WithoutUniqueTID *wireURIRestriction `json:"uriAdditionWithoutUniqueTenantIdentifier"`
}

type wireRestrictions struct {
	PasswordCredentials []wireCredentialRestriction `json:"passwordCredentials"`
	KeyCredentials      []wireCredentialRestriction `json:"keyCredentials"`
	// identifierUris: in a tenant policy's applicationRestrictions; in a
	// per-app policy's restrictions.applicationRestrictions.
	IdentifierURIs          *wireURIConfiguration `json:"identifierUris"`
	ApplicationRestrictions *struct {
		IdentifierURIs *wireURIConfiguration `json:"identifierUris"`
	} `json:"applicationRestrictions"`
}

type wireAppManagementPolicy struct {
	ID                      string            `json:"id"`
	DisplayName             string            `json:"displayName"`
	IsEnabled               *bool             `json:"isEnabled"`
	ApplicationRestrictions *wireRestrictions `json:"applicationRestrictions"` // tenant default
	Restrictions            *wireRestrictions `json:"restrictions"`            // per-app policy
}

func (w wireAppManagementPolicy) toDomain(isDefault bool) AppManagementPolicy {
	p := AppManagementPolicy{ID: w.ID, DisplayName: w.DisplayName, Default: isDefault}
	// A per-app policy is enabled unless it says otherwise; the tenant
	// default is off unless it says so.
	p.Enabled = !isDefault
	if w.IsEnabled != nil {
		p.Enabled = *w.IsEnabled
	}
	r := w.Restrictions
	if isDefault {
		r = w.ApplicationRestrictions
	}
	if r == nil {
		return p
	}
	cred := func(in []wireCredentialRestriction) []CredentialRestriction {
		var out []CredentialRestriction
		for _, c := range in {
			cr := CredentialRestriction{Type: c.RestrictionType, Disabled: c.State != nil && *c.State == "disabled",
				Exemptions: c.ExcludeActors != nil && len(c.ExcludeActors.CustomSecurityAttributes) > 0}
			if c.MaxLifetime != nil {
				cr.MaxLifetime = *c.MaxLifetime
			}
			if c.Since != nil {
				cr.Since = c.Since.UTC()
			}
			out = append(out, cr)
		}
		return out
	}
	p.Passwords, p.Keys = cred(r.PasswordCredentials), cred(r.KeyCredentials)
	uris := r.IdentifierURIs
	if uris == nil && r.ApplicationRestrictions != nil {
		uris = r.ApplicationRestrictions.IdentifierURIs
	}
	if uris != nil {
		uri := func(w *wireURIRestriction) *URIRestriction {
			if w == nil {
				return nil
			}
			u := &URIRestriction{Disabled: w.State != nil && *w.State == "disabled", ExemptV2: w.ExcludeV2, ExemptSAML: w.ExcludeSAML,
				Exemptions: w.ExcludeActors != nil && len(w.ExcludeActors.CustomSecurityAttributes) > 0}
			if w.Since != nil {
				u.Since = w.Since.UTC()
			}
			return u
		}
		p.NonDefaultURIs, p.URIsWithoutTenantID = uri(uris.NonDefault), uri(uris.WithoutUniqueTID)
	}
	return p
}

// DefaultAppManagementPolicy is GET /policies/defaultAppManagementPolicy:
// the tenant's default restrictions on app credentials and identifier URIs.
// It needs Policy.Read.All and, for a user, a role that may read policies
// (Global Reader is the least one): a 403 is IsForbidden.
func (c *Client) DefaultAppManagementPolicy(ctx context.Context) (AppManagementPolicy, error) {
	const op = "get the default app management policy"
	var w wireAppManagementPolicy
	err := c.send(ctx, op, readPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return policies.NewPoliciesRequestBuilderInternal(map[string]string{}, c.adapter).DefaultAppManagementPolicy().ToGetRequestInformation(ctx, nil)
	}, &w)
	if err != nil {
		return AppManagementPolicy{}, err
	}
	return w.toDomain(true), nil
}

// AppManagementPolicies is GET /applications/{id}/appManagementPolicies:
// the policy assigned to the app, if any (at most one), which replaces the
// tenant default for it.
func (c *Client) AppManagementPolicies(ctx context.Context, appObjectID string) ([]AppManagementPolicy, error) {
	const op = "list the app's app management policies"
	if _, err := parseUUID("application object id", appObjectID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(appObjectID).AppManagementPolicies().ToGetRequestInformation(ctx, nil)
	}
	items, err := listAll[wireAppManagementPolicy](ctx, c, op, first, nil)
	if err != nil {
		return nil, err
	}
	out := make([]AppManagementPolicy, 0, len(items))
	for _, w := range items {
		out = append(out, w.toDomain(false))
	}
	return out, nil
}
