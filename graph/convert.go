package graph

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Request bodies are the SDK's models (typed, with the @odata.type Graph
// expects); responses are decoded with encoding/json into the domain types,
// whose JSON tags are Graph's property names, or into the wire types below
// where Graph's shape differs.

func ptr[T any](v T) *T { return &v }

// parseUUID validates a GUID the caller passed in.
func parseUUID(what, s string) (*uuid.UUID, error) {
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid %s %q: want a GUID", what, s)
	}
	return &u, nil
}

// nonNil keeps an explicitly empty collection a JSON [] on the wire: kiota
// omits nil slices, which in a PATCH would mean "leave unchanged" instead of
// "clear".
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toWeb(w Web) models.WebApplicationable {
	m := models.NewWebApplication()
	m.SetRedirectUris(nonNil(w.RedirectURIs))
	ig := models.NewImplicitGrantSettings()
	ig.SetEnableIdTokenIssuance(ptr(w.EnableIDTokenIssuance))
	ig.SetEnableAccessTokenIssuance(ptr(w.EnableAccessTokenIssuance))
	m.SetImplicitGrantSettings(ig)
	return m
}

func toRequiredResourceAccess(in []RequiredResourceAccess) ([]models.RequiredResourceAccessable, error) {
	out := make([]models.RequiredResourceAccessable, 0, len(in))
	for _, r := range in {
		m := models.NewRequiredResourceAccess()
		m.SetResourceAppId(ptr(r.ResourceAppID))
		ras := make([]models.ResourceAccessable, 0, len(r.ResourceAccess))
		for _, a := range r.ResourceAccess {
			id, err := parseUUID("permission id", a.ID)
			if err != nil {
				return nil, err
			}
			if a.Type != "Role" && a.Type != "Scope" {
				return nil, fmt.Errorf("invalid permission type %q for %s: want Role or Scope", a.Type, a.ID)
			}
			ra := models.NewResourceAccess()
			ra.SetId(id)
			ra.SetTypeEscaped(ptr(a.Type))
			ras = append(ras, ra)
		}
		m.SetResourceAccess(ras)
		out = append(out, m)
	}
	return out, nil
}

func toKeyCredentials(in []KeyCredential) ([]models.KeyCredentialable, error) {
	out := make([]models.KeyCredentialable, 0, len(in))
	for _, k := range in {
		m := models.NewKeyCredential()
		if k.KeyID != "" {
			id, err := parseUUID("key id", k.KeyID)
			if err != nil {
				return nil, err
			}
			m.SetKeyId(id)
		}
		if k.DisplayName != "" {
			m.SetDisplayName(ptr(k.DisplayName))
		}
		m.SetTypeEscaped(ptr(k.Type))
		m.SetUsage(ptr(k.Usage))
		if len(k.CustomKeyIdentifier) > 0 {
			m.SetCustomKeyIdentifier(k.CustomKeyIdentifier)
		}
		if len(k.Key) == 0 {
			// Graph would reject it anyway; saying so here names the key.
			return nil, fmt.Errorf("key credential %q has no key: read the application with ApplicationByID before merging", k.KeyID)
		}
		m.SetKey(k.Key)
		if !k.StartDateTime.IsZero() {
			m.SetStartDateTime(ptr(k.StartDateTime.UTC()))
		}
		if !k.EndDateTime.IsZero() {
			m.SetEndDateTime(ptr(k.EndDateTime.UTC()))
		}
		out = append(out, m)
	}
	return out, nil
}

// wireApplication is Graph's application where it differs from
// Application: web.implicitGrantSettings is nested.
type wireApplication struct {
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	SignInAudience         string                   `json:"signInAudience"`
	Tags                   []string                 `json:"tags"`
	IdentifierURIs         []string                 `json:"identifierUris"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
	PasswordCredentials    []PasswordCredential     `json:"passwordCredentials"`
	KeyCredentials         []KeyCredential          `json:"keyCredentials"`
	CreatedDateTime        time.Time                `json:"createdDateTime"`
	PublisherDomain        string                   `json:"publisherDomain"`
	UniqueName             string                   `json:"uniqueName"`
	Notes                  *string                  `json:"notes"`
	ServiceManagementRef   *string                  `json:"serviceManagementReference"`
	Web                    *struct {
		RedirectURIs          []string `json:"redirectUris"`
		ImplicitGrantSettings *struct {
			EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
			EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
		} `json:"implicitGrantSettings"`
	} `json:"web"`
}

func (w wireApplication) toDomain() Application {
	a := Application{
		ID: w.ID, AppID: w.AppID, DisplayName: w.DisplayName, SignInAudience: w.SignInAudience,
		Tags: w.Tags, IdentifierURIs: w.IdentifierURIs, RequiredResourceAccess: w.RequiredResourceAccess,
		PasswordCredentials: w.PasswordCredentials, KeyCredentials: w.KeyCredentials,
		CreatedDateTime: utc(w.CreatedDateTime), PublisherDomain: w.PublisherDomain, UniqueName: w.UniqueName,
	}
	if w.Notes != nil {
		a.Notes = *w.Notes
	}
	if w.ServiceManagementRef != nil {
		a.ServiceManagementReference = *w.ServiceManagementRef
	}
	if w.Web != nil {
		a.Web.RedirectURIs = w.Web.RedirectURIs
		if ig := w.Web.ImplicitGrantSettings; ig != nil {
			a.Web.EnableIDTokenIssuance = ig.EnableIDTokenIssuance
			a.Web.EnableAccessTokenIssuance = ig.EnableAccessTokenIssuance
		}
	}
	for i := range a.PasswordCredentials {
		p := &a.PasswordCredentials[i]
		p.StartDateTime, p.EndDateTime, p.SecretText = utc(p.StartDateTime), utc(p.EndDateTime), ""
	}
	for i := range a.KeyCredentials {
		k := &a.KeyCredentials[i]
		k.StartDateTime, k.EndDateTime = utc(k.StartDateTime), utc(k.EndDateTime)
	}
	return a
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// wirePassword is addPassword's answer: the one place secretText appears.
type wirePassword struct {
	PasswordCredential
	SecretText string `json:"secretText"`
}

// page is one page of a Graph collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}
