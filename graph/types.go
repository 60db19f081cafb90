package graph

import "time"

// Application is an app registration (Graph "application" resource), reduced
// to the properties entra-link reads and writes.
type Application struct {
	ID                     string                   `json:"id"`    // object id
	AppID                  string                   `json:"appId"` // application (client) id
	DisplayName            string                   `json:"displayName"`
	SignInAudience         string                   `json:"signInAudience"`
	Tags                   []string                 `json:"tags"`
	IdentifierURIs         []string                 `json:"identifierUris"`
	Web                    Web                      `json:"web"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
	PasswordCredentials    []PasswordCredential     `json:"passwordCredentials"`
	KeyCredentials         []KeyCredential          `json:"keyCredentials"`
	CreatedDateTime        time.Time                `json:"createdDateTime"`
	PublisherDomain        string                   `json:"publisherDomain"`
	// UniqueName is the app's alternate key (the upsert key); "" when it
	// has none. It can be set once and never changed.
	UniqueName string `json:"uniqueName"`
	// Notes is the app's free-text notes (at most 1024 characters).
	Notes string `json:"notes"`
	// ServiceManagementReference links the app to an ITSM or service
	// catalogue entry; some tenants require it on new apps.
	ServiceManagementReference string `json:"serviceManagementReference"`
}

// Web is the application's web platform configuration.
type Web struct {
	RedirectURIs          []string `json:"redirectUris"`
	EnableIDTokenIssuance bool     `json:"enableIdTokenIssuance"`
	// EnableAccessTokenIssuance is the implicit-grant access token switch.
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
}

// RequiredResourceAccess lists the permissions an app requests on one resource.
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one requested permission: Type "Role" (application) or "Scope" (delegated).
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// PasswordCredential is a client secret. SecretText is set only in the
// result of AddPassword; Graph never returns it again.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	SecretText    string    `json:"-"`
}

// KeyCredential is a certificate on an application. Key (DER) is only
// populated when it was read with $select=keyCredentials on one object, or
// when it is being uploaded.
type KeyCredential struct {
	KeyID               string    `json:"keyId"`
	DisplayName         string    `json:"displayName"`
	Type                string    `json:"type"`  // AsymmetricX509Cert
	Usage               string    `json:"usage"` // Verify
	CustomKeyIdentifier []byte    `json:"customKeyIdentifier"`
	Key                 []byte    `json:"key"`
	StartDateTime       time.Time `json:"startDateTime"`
	EndDateTime         time.Time `json:"endDateTime"`
}

// ApplicationUpdate is a PATCH body: nil fields are left unchanged.
// Collections given here replace the app's collection wholesale, as in Graph.
type ApplicationUpdate struct {
	DisplayName            *string
	SignInAudience         *string
	Tags                   *[]string
	IdentifierURIs         *[]string
	Web                    *Web
	RequiredResourceAccess *[]RequiredResourceAccess
	KeyCredentials         *[]KeyCredential
	// UniqueName can be set only while the app has none.
	UniqueName *string
	Notes      *string
	// ServiceManagementReference: "" clears it.
	ServiceManagementReference *string
}

// ServicePrincipal is an enterprise application (Graph "servicePrincipal").
type ServicePrincipal struct {
	ID          string            `json:"id"`
	AppID       string            `json:"appId"`
	DisplayName string            `json:"displayName"`
	Tags        []string          `json:"tags"`
	AppRoles    []AppRole         `json:"appRoles"`
	Scopes      []PermissionScope `json:"oauth2PermissionScopes"`
}

// AppRole is an application permission published by a resource service principal.
type AppRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName"`
	Description        string   `json:"description"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	IsEnabled          bool     `json:"isEnabled"`
}

// PermissionScope is a delegated permission published by a resource service principal.
type PermissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type"` // Admin or User
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
	AdminConsentDescription string `json:"adminConsentDescription"`
	IsEnabled               bool   `json:"isEnabled"`
}

// AppRoleAssignment grants an app role of ResourceID to PrincipalID.
type AppRoleAssignment struct {
	ID          string `json:"id"`
	PrincipalID string `json:"principalId"`
	ResourceID  string `json:"resourceId"`
	AppRoleID   string `json:"appRoleId"`
}

// PermissionGrant is an oauth2PermissionGrant (delegated consent).
type PermissionGrant struct {
	ID          string `json:"id"`
	ClientID    string `json:"clientId"`    // client service principal object id
	ConsentType string `json:"consentType"` // AllPrincipals or Principal
	PrincipalID string `json:"principalId"`
	ResourceID  string `json:"resourceId"` // resource service principal object id
	Scope       string `json:"scope"`      // space-separated scope values
}

// RoleAssignment is a directory role assignment (unifiedRoleAssignment).
type RoleAssignment struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

// Organization is the tenant.
type Organization struct {
	ID              string           `json:"id"` // tenant id
	DisplayName     string           `json:"displayName"`
	VerifiedDomains []VerifiedDomain `json:"verifiedDomains"`
}

// VerifiedDomain is one of the tenant's verified domains.
type VerifiedDomain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault"`
	IsInitial bool   `json:"isInitial"`
}

// InitialDomain returns the tenant's initial (*.onmicrosoft.com) domain.
func (o Organization) InitialDomain() string {
	for _, d := range o.VerifiedDomains {
		if d.IsInitial {
			return d.Name
		}
	}
	if len(o.VerifiedDomains) > 0 {
		return o.VerifiedDomains[0].Name
	}
	return ""
}

// DirectoryRole is an activated directory role the caller is a member of.
type DirectoryRole struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	RoleTemplateID string `json:"roleTemplateId"`
}

// Identity describes who the client is signed in as, read from the access
// token's claims (no round trip).
type Identity struct {
	ObjectID    string   // oid
	TenantID    string   // tid
	AppOnly     bool     // idtyp=app or no scp
	Name        string   // upn / preferred_username, or the app's display name
	ClientAppID string   // appid / azp
	Scopes      []string // scp (delegated)
	Roles       []string // roles (app-only)
	RoleIDs     []string // wids: directory role template ids
}
