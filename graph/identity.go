package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
)

// WhoAmI reads who the client acts as from the claims of its own access
// token for Graph. The token is decoded, not verified: it came from our
// credential, and Graph verifies it on every call.
func (c *Client) WhoAmI(ctx context.Context) (Identity, error) {
	const op = "who am I"
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return Identity{}, &Error{Op: op, Err: &signInError{err: err}}
	}
	id, err := identityFromToken(tok.Token)
	if err != nil {
		return Identity{}, &Error{Op: op, Err: err}
	}
	return id, nil
}

// tokenClaims are the access-token claims entra-link reads
// (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
type tokenClaims struct {
	OID               string   `json:"oid"`
	TID               string   `json:"tid"`
	IDType            string   `json:"idtyp"`
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	UniqueName        string   `json:"unique_name"`
	AppDisplayName    string   `json:"app_displayname"`
	AppID             string   `json:"appid"`
	AZP               string   `json:"azp"`
	SCP               string   `json:"scp"`
	Roles             []string `json:"roles"`
	WIDs              []string `json:"wids"`
}

func identityFromToken(token string) (Identity, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Identity{}, errors.New("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Identity{}, errors.New("the access token's payload is not base64url")
	}
	var cl tokenClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return Identity{}, errors.New("the access token's payload is not JSON")
	}
	id := Identity{
		ObjectID:    cl.OID,
		TenantID:    cl.TID,
		ClientAppID: cl.AppID,
		Scopes:      strings.Fields(cl.SCP),
		Roles:       cl.Roles,
		RoleIDs:     cl.WIDs,
	}
	if id.ClientAppID == "" {
		id.ClientAppID = cl.AZP
	}
	// idtyp=app is only present when the app asked for it (optional claim);
	// a token without scp is app-only in any case.
	id.AppOnly = strings.EqualFold(cl.IDType, "app") || (cl.SCP == "" && !strings.EqualFold(cl.IDType, "user"))
	if id.AppOnly {
		id.Name = cl.AppDisplayName
	} else {
		for _, n := range []string{cl.UPN, cl.PreferredUsername, cl.UniqueName} {
			if n != "" {
				id.Name = n
				break
			}
		}
	}
	return id, nil
}

// Organization is GET /organization: the signed-in tenant.
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	const op = "get organization"
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return organization.NewOrganizationRequestBuilderInternal(map[string]string{}, c.adapter).ToGetRequestInformation(ctx,
			&organization.OrganizationRequestBuilderGetRequestConfiguration{
				QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id", "displayName", "verifiedDomains"}},
			})
	}
	orgs, err := listAll[Organization](ctx, c, op, first, nil)
	if err != nil {
		return Organization{}, err
	}
	for _, o := range orgs {
		if o.ID != "" {
			return o, nil
		}
	}
	return Organization{}, &Error{Op: op, Message: "Graph returned no organization"}
}

// MyDirectoryRoles lists the active directory roles of the signed-in
// identity. For a user: GET /me/transitiveMemberOf/microsoft.graph.directoryRole
// (roles held directly or through role-assignable groups; PIM-eligible roles
// appear only once activated). For an app-only token: the service
// principal's role assignments; their DisplayName is empty, RoleTemplateID
// is the role definition id (the template id for built-in roles).
func (c *Client) MyDirectoryRoles(ctx context.Context, id Identity) ([]DirectoryRole, error) {
	if id.AppOnly {
		if id.ObjectID == "" {
			return nil, &Error{Op: "list my directory roles", Message: "the access token has no oid claim"}
		}
		as, err := c.RoleAssignments(ctx, id.ObjectID)
		if err != nil {
			return nil, err
		}
		out := make([]DirectoryRole, 0, len(as))
		seen := map[string]bool{}
		for _, a := range as {
			if a.DirectoryScopeID != "" && a.DirectoryScopeID != "/" {
				continue // scoped to an administrative unit or one app: not tenant-wide
			}
			if seen[a.RoleDefinitionID] {
				continue
			}
			seen[a.RoleDefinitionID] = true
			out = append(out, DirectoryRole{ID: a.RoleDefinitionID, RoleTemplateID: a.RoleDefinitionID})
		}
		return out, nil
	}
	const op = "list my directory roles"
	// The users request builders are avoided on purpose (the package is
	// ~185k lines); one raw request does.
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		u, err := url.Parse(c.baseURL + "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true&$select=id,displayName,roleTemplateId")
		if err != nil {
			return nil, err
		}
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*u)
		ri.Headers.TryAdd("Accept", "application/json")
		return ri, nil
	}
	// ConsistencyLevel: eventual is what Graph documents for OData casts
	// on transitiveMemberOf.
	return listAll[DirectoryRole](ctx, c, op, first, map[string]string{"ConsistencyLevel": "eventual"})
}
