package graph

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Conversions between the SDK's models and entra-link's domain types.
// The SDK's getters return pointers; these helpers read nil as zero.

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolean(p *bool) bool { return p != nil && *p }

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func uid(p *uuid.UUID) string {
	if p == nil {
		return ""
	}
	return p.String()
}

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

func fromApplication(m models.Applicationable) Application {
	if m == nil {
		return Application{}
	}
	a := Application{
		ID:              str(m.GetId()),
		AppID:           str(m.GetAppId()),
		DisplayName:     str(m.GetDisplayName()),
		SignInAudience:  str(m.GetSignInAudience()),
		Tags:            m.GetTags(),
		IdentifierURIs:  m.GetIdentifierUris(),
		Web:             fromWeb(m.GetWeb()),
		CreatedDateTime: tm(m.GetCreatedDateTime()),
		PublisherDomain: str(m.GetPublisherDomain()),
	}
	for _, r := range m.GetRequiredResourceAccess() {
		if r == nil {
			continue
		}
		rra := RequiredResourceAccess{ResourceAppID: str(r.GetResourceAppId())}
		for _, ra := range r.GetResourceAccess() {
			if ra == nil {
				continue
			}
			rra.ResourceAccess = append(rra.ResourceAccess, ResourceAccess{ID: uid(ra.GetId()), Type: str(ra.GetTypeEscaped())})
		}
		a.RequiredResourceAccess = append(a.RequiredResourceAccess, rra)
	}
	for _, p := range m.GetPasswordCredentials() {
		if p != nil {
			a.PasswordCredentials = append(a.PasswordCredentials, fromPassword(p))
		}
	}
	for _, k := range m.GetKeyCredentials() {
		if k != nil {
			a.KeyCredentials = append(a.KeyCredentials, fromKey(k))
		}
	}
	return a
}

func fromWeb(w models.WebApplicationable) Web {
	if w == nil {
		return Web{}
	}
	out := Web{RedirectURIs: w.GetRedirectUris()}
	if ig := w.GetImplicitGrantSettings(); ig != nil {
		out.EnableIDTokenIssuance = boolean(ig.GetEnableIdTokenIssuance())
		out.EnableAccessTokenIssuance = boolean(ig.GetEnableAccessTokenIssuance())
	}
	return out
}

// fromPassword never copies secretText: only AddPassword reads it, explicitly.
func fromPassword(p models.PasswordCredentialable) PasswordCredential {
	return PasswordCredential{
		KeyID:         uid(p.GetKeyId()),
		DisplayName:   str(p.GetDisplayName()),
		Hint:          str(p.GetHint()),
		StartDateTime: tm(p.GetStartDateTime()),
		EndDateTime:   tm(p.GetEndDateTime()),
	}
}

func fromKey(k models.KeyCredentialable) KeyCredential {
	return KeyCredential{
		KeyID:               uid(k.GetKeyId()),
		DisplayName:         str(k.GetDisplayName()),
		Type:                str(k.GetTypeEscaped()),
		Usage:               str(k.GetUsage()),
		CustomKeyIdentifier: k.GetCustomKeyIdentifier(),
		Key:                 k.GetKey(),
		StartDateTime:       tm(k.GetStartDateTime()),
		EndDateTime:         tm(k.GetEndDateTime()),
	}
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

func fromServicePrincipal(m models.ServicePrincipalable) ServicePrincipal {
	if m == nil {
		return ServicePrincipal{}
	}
	sp := ServicePrincipal{
		ID:          str(m.GetId()),
		AppID:       str(m.GetAppId()),
		DisplayName: str(m.GetDisplayName()),
		Tags:        m.GetTags(),
	}
	for _, r := range m.GetAppRoles() {
		if r == nil {
			continue
		}
		sp.AppRoles = append(sp.AppRoles, AppRole{
			ID:                 uid(r.GetId()),
			Value:              str(r.GetValue()),
			DisplayName:        str(r.GetDisplayName()),
			Description:        str(r.GetDescription()),
			AllowedMemberTypes: r.GetAllowedMemberTypes(),
			IsEnabled:          boolean(r.GetIsEnabled()),
		})
	}
	for _, s := range m.GetOauth2PermissionScopes() {
		if s == nil {
			continue
		}
		sp.Scopes = append(sp.Scopes, PermissionScope{
			ID:                      uid(s.GetId()),
			Value:                   str(s.GetValue()),
			Type:                    str(s.GetTypeEscaped()),
			AdminConsentDisplayName: str(s.GetAdminConsentDisplayName()),
			AdminConsentDescription: str(s.GetAdminConsentDescription()),
			IsEnabled:               boolean(s.GetIsEnabled()),
		})
	}
	return sp
}

func fromAppRoleAssignment(m models.AppRoleAssignmentable) AppRoleAssignment {
	if m == nil {
		return AppRoleAssignment{}
	}
	return AppRoleAssignment{
		ID:          str(m.GetId()),
		PrincipalID: uid(m.GetPrincipalId()),
		ResourceID:  uid(m.GetResourceId()),
		AppRoleID:   uid(m.GetAppRoleId()),
	}
}

func fromGrant(m models.OAuth2PermissionGrantable) PermissionGrant {
	if m == nil {
		return PermissionGrant{}
	}
	return PermissionGrant{
		ID:          str(m.GetId()),
		ClientID:    str(m.GetClientId()),
		ConsentType: str(m.GetConsentType()),
		PrincipalID: str(m.GetPrincipalId()),
		ResourceID:  str(m.GetResourceId()),
		Scope:       str(m.GetScope()),
	}
}

func fromRoleAssignment(m models.UnifiedRoleAssignmentable) RoleAssignment {
	if m == nil {
		return RoleAssignment{}
	}
	return RoleAssignment{
		ID:               str(m.GetId()),
		PrincipalID:      str(m.GetPrincipalId()),
		RoleDefinitionID: str(m.GetRoleDefinitionId()),
		DirectoryScopeID: str(m.GetDirectoryScopeId()),
	}
}

func fromOrganization(m models.Organizationable) Organization {
	if m == nil {
		return Organization{}
	}
	o := Organization{ID: str(m.GetId()), DisplayName: str(m.GetDisplayName())}
	for _, d := range m.GetVerifiedDomains() {
		if d == nil {
			continue
		}
		o.VerifiedDomains = append(o.VerifiedDomains, VerifiedDomain{
			Name:      str(d.GetName()),
			IsDefault: boolean(d.GetIsDefault()),
			IsInitial: boolean(d.GetIsInitial()),
		})
	}
	return o
}

func fromDirectoryRole(m models.DirectoryRoleable) DirectoryRole {
	if m == nil {
		return DirectoryRole{}
	}
	return DirectoryRole{
		ID:             str(m.GetId()),
		DisplayName:    str(m.GetDisplayName()),
		RoleTemplateID: str(m.GetRoleTemplateId()),
	}
}
