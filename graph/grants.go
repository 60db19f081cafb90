package graph

import (
	"context"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
)

func (c *Client) grants() *oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilder {
	return oauth2permissiongrants.NewOauth2PermissionGrantsRequestBuilderInternal(map[string]string{}, c.adapter)
}

func (c *Client) roleAssignments() *rolemanagement.DirectoryRoleAssignmentsRequestBuilder {
	return rolemanagement.NewRoleManagementRequestBuilderInternal(map[string]string{}, c.adapter).Directory().RoleAssignments()
}

// PermissionGrants is GET /oauth2PermissionGrants?$filter=clientId eq '…'
// (the filter Graph documents to minimise replication delay), all pages.
func (c *Client) PermissionGrants(ctx context.Context, clientID string) ([]PermissionGrant, error) {
	const op = "list permission grants"
	if _, err := parseUUID("client service principal id", clientID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	filter := "clientId eq " + odataQuote(clientID)
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.grants().ToGetRequestInformation(ctx, &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
			QueryParameters: &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetQueryParameters{Filter: &filter},
		})
	}
	return listAll[PermissionGrant](ctx, c, op, first, nil)
}

// CreatePermissionGrant is POST /oauth2PermissionGrants (admin consent for
// delegated permissions of one resource). ConsentType defaults to
// AllPrincipals. A grant for the same client/resource pair already existing
// is a 409 (IsConflict): update its scope instead.
func (c *Client) CreatePermissionGrant(ctx context.Context, g PermissionGrant) (PermissionGrant, error) {
	const op = "create permission grant"
	if _, err := parseUUID("client service principal id", g.ClientID); err != nil {
		return PermissionGrant{}, &Error{Op: op, Err: err}
	}
	if _, err := parseUUID("resource service principal id", g.ResourceID); err != nil {
		return PermissionGrant{}, &Error{Op: op, Err: err}
	}
	scope := strings.Join(strings.Fields(g.Scope), " ")
	if scope == "" {
		return PermissionGrant{}, &Error{Op: op, Message: "no scopes to grant"}
	}
	consent := g.ConsentType
	if consent == "" {
		consent = "AllPrincipals"
	}
	body := models.NewOAuth2PermissionGrant()
	body.SetClientId(ptr(g.ClientID))
	body.SetResourceId(ptr(g.ResourceID))
	body.SetConsentType(ptr(consent))
	if g.PrincipalID != "" {
		body.SetPrincipalId(ptr(g.PrincipalID))
	}
	body.SetScope(ptr(scope))
	var out PermissionGrant
	err := c.send(ctx, op, retryPolicy{repeatable: true, replicated: principalNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.grants().ToPostRequestInformation(ctx, body, nil)
		}, &out)
	if err != nil {
		return PermissionGrant{}, err
	}
	if out.ID == "" {
		return PermissionGrant{}, &Error{Op: op, Message: "Graph returned no permission grant"}
	}
	return out, nil
}

// UpdatePermissionGrantScope is PATCH /oauth2PermissionGrants/{id} {scope}.
// The scope replaces the old one: pass the union to add scopes.
func (c *Client) UpdatePermissionGrantScope(ctx context.Context, grantID, scope string) error {
	const op = "update permission grant"
	if grantID == "" {
		return &Error{Op: op, Message: "no grant id"}
	}
	body := models.NewOAuth2PermissionGrant()
	body.SetScope(ptr(strings.Join(strings.Fields(scope), " ")))
	return c.send(ctx, op, retryPolicy{repeatable: true, replicated: objectNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.grants().ByOAuth2PermissionGrantId(grantID).ToPatchRequestInformation(ctx, body, nil)
		}, nil)
}

// DeletePermissionGrant is DELETE /oauth2PermissionGrants/{id}.
func (c *Client) DeletePermissionGrant(ctx context.Context, grantID string) error {
	const op = "delete permission grant"
	if grantID == "" {
		return &Error{Op: op, Message: "no grant id"}
	}
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.grants().ByOAuth2PermissionGrantId(grantID).ToDeleteRequestInformation(ctx, nil)
	}, nil)
}

// RoleAssignments is GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…', all pages.
func (c *Client) RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error) {
	const op = "list directory role assignments"
	if _, err := parseUUID("principal id", principalID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	filter := "principalId eq " + odataQuote(principalID)
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.roleAssignments().ToGetRequestInformation(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter},
		})
	}
	return listAll[RoleAssignment](ctx, c, op, first, nil)
}

// AssignDirectoryRole is POST /roleManagement/directory/roleAssignments
// with directoryScopeId "/" (tenant-wide). roleDefinitionID may be the
// built-in role's template id. A 404/400 about the just-created principal is
// retried; an existing assignment comes back as IsConflict.
func (c *Client) AssignDirectoryRole(ctx context.Context, principalID, roleDefinitionID string) (RoleAssignment, error) {
	const op = "assign directory role"
	if _, err := parseUUID("principal id", principalID); err != nil {
		return RoleAssignment{}, &Error{Op: op, Err: err}
	}
	if _, err := parseUUID("role definition id", roleDefinitionID); err != nil {
		return RoleAssignment{}, &Error{Op: op, Err: err}
	}
	body := models.NewUnifiedRoleAssignment()
	body.SetPrincipalId(ptr(principalID))
	body.SetRoleDefinitionId(ptr(roleDefinitionID))
	body.SetDirectoryScopeId(ptr("/"))
	var out RoleAssignment
	err := c.send(ctx, op, retryPolicy{repeatable: true, replicated: principalNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.roleAssignments().ToPostRequestInformation(ctx, body, nil)
		}, &out)
	if err != nil {
		return RoleAssignment{}, err
	}
	if out.ID == "" {
		return RoleAssignment{}, &Error{Op: op, Message: "Graph returned no role assignment"}
	}
	return out, nil
}

// DeleteRoleAssignment is DELETE /roleManagement/directory/roleAssignments/{id}.
func (c *Client) DeleteRoleAssignment(ctx context.Context, assignmentID string) error {
	const op = "delete directory role assignment"
	if assignmentID == "" {
		return &Error{Op: op, Message: "no assignment id"}
	}
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.roleAssignments().ByUnifiedRoleAssignmentId(assignmentID).ToDeleteRequestInformation(ctx, nil)
	}, nil)
}
