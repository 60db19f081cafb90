package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
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

// RenewToken gets a new access token from the sign-in, bypassing every
// cache, and says who it acts as. Entra puts a role in a token's wids
// only when it issues the token, so a role activated in PIM after the
// sign-in counts only in a new one. The claims request for a token issued
// from now on is the challenge form MSAL honours by skipping its cached
// access token and redeeming the refresh token (no interaction where the
// sign-in keeps one); credentials that cannot answer it fail.
func (c *Client) RenewToken(ctx context.Context) (Identity, error) {
	const op = "renew the sign-in's token"
	claims := fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, time.Now().Unix())
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}, Claims: claims})
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

// defaultUserRole is the "User" pseudo-role template id Entra puts in every
// member's wids claim; it grants nothing administrative.
const defaultUserRole = "b79fbf4d-3ef9-4689-8143-76b194e85509"

// MyDirectoryRoles lists the tenant-wide directory roles the signed-in
// identity holds: its role assignments with directoryScopeId "/" (GET
// /roleManagement/directory/roleAssignments?$filter=principalId eq '…',
// allowed by the delegated RoleManagement.ReadWrite.Directory entra-link
// signs in with), joined with the role template ids of the token's wids
// claim (which also covers roles held through role-assignable groups).
// PIM-eligible roles appear only once activated.
//
// /me/transitiveMemberOf/microsoft.graph.directoryRole is not used: it
// needs User.Read or a directory-read scope, which the least-privilege
// sign-in (design.md §6) does not ask for. If a user may not read role
// assignments (403), the wids claim alone answers.
func (c *Client) MyDirectoryRoles(ctx context.Context, id Identity) ([]DirectoryRole, error) {
	const op = "list my directory roles"
	if id.ObjectID == "" {
		return nil, &Error{Op: op, Message: "the access token has no oid claim"}
	}
	var ids []string
	seen := map[string]bool{}
	add := func(roleID string) {
		k := strings.ToLower(roleID)
		if roleID == "" || k == defaultUserRole || seen[k] {
			return
		}
		seen[k] = true
		ids = append(ids, roleID)
	}
	as, err := c.RoleAssignments(ctx, id.ObjectID)
	switch {
	case err == nil:
		for _, a := range as {
			if a.DirectoryScopeID == "/" || a.DirectoryScopeID == "" {
				add(a.RoleDefinitionID) // others are scoped to an administrative unit or one app
			}
		}
	case IsForbidden(err) && !id.AppOnly:
	default:
		return nil, err
	}
	for _, w := range id.RoleIDs {
		add(w)
	}
	// Names are not looked up here: that would cost another sequential
	// round trip per role in every preflight, and callers match on the
	// template id (built-in roles' names are in the catalogue).
	out := make([]DirectoryRole, 0, len(ids))
	for _, roleID := range ids {
		out = append(out, DirectoryRole{ID: roleID, RoleTemplateID: roleID})
	}
	return out, nil
}

// EligibleRole is a directory role the signed-in user may activate in PIM
// (a unifiedRoleEligibilityScheduleInstance): it grants nothing until then.
type EligibleRole struct {
	RoleTemplateID   string    `json:"roleDefinitionId"`
	DirectoryScopeID string    `json:"directoryScopeId"`
	EndDateTime      time.Time `json:"endDateTime"`
}

// MyEligibleRoles is GET /roleManagement/directory/roleEligibilityScheduleInstances/
// filterByCurrentUser(on='principal') (endpoints.md §13): the roles the
// signed-in user is eligible for in PIM, allowed by the delegated
// RoleManagement.ReadWrite.Directory entra-link signs in with. Eligibility
// through a group (PIM for Groups) is not listed. A tenant without PIM
// answers with an error; callers treat any error as "not known".
func (c *Client) MyEligibleRoles(ctx context.Context) ([]EligibleRole, error) {
	const op = "list my eligible directory roles"
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return rolemanagement.NewRoleManagementRequestBuilderInternal(map[string]string{}, c.adapter).Directory().
			RoleEligibilityScheduleInstances().FilterByCurrentUserWithOn(ptr("principal")).ToGetRequestInformation(ctx, nil)
	}
	out, err := listAll[EligibleRole](ctx, c, op, first, nil)
	for i := range out {
		out[i].EndDateTime = utc(out[i].EndDateTime)
	}
	return out, err
}
