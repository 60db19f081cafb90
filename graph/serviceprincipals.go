package graph

import (
	"context"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"
)

var servicePrincipalSelect = []string{"id", "appId", "displayName", "tags", "appRoles", "oauth2PermissionScopes"}

func (c *Client) servicePrincipals() *serviceprincipals.ServicePrincipalsRequestBuilder {
	return serviceprincipals.NewServicePrincipalsRequestBuilderInternal(map[string]string{}, c.adapter)
}

// ServicePrincipalByAppID is GET /servicePrincipals(appId='…') with appRoles
// and oauth2PermissionScopes. A 404 means the tenant has no service
// principal for that app and is returned at once (IsNotFound).
func (c *Client) ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error) {
	return c.servicePrincipalByAppID(ctx, appID, readPolicy)
}

func (c *Client) servicePrincipalByAppID(ctx context.Context, appID string, p retryPolicy) (ServicePrincipal, error) {
	const op = "get service principal by appId"
	if _, err := parseUUID("appId", appID); err != nil {
		return ServicePrincipal{}, &Error{Op: op, Err: err}
	}
	var sp ServicePrincipal
	err := c.send(ctx, op, p, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.spByAppID(appID).ToGetRequestInformation(ctx, &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: servicePrincipalSelect},
		})
	}, &sp)
	if err != nil {
		return ServicePrincipal{}, err
	}
	if sp.ID == "" {
		return ServicePrincipal{}, &Error{Op: op, Message: "Graph returned no service principal"}
	}
	return sp, nil
}

func (c *Client) spByAppID(appID string) *serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilder {
	return serviceprincipalswithappid.NewServicePrincipalsWithAppIdRequestBuilderInternal(map[string]string{}, c.adapter, ptr(appID))
}

// UpsertServicePrincipal is PATCH /servicePrincipals(appId='…') with
// Prefer: create-if-missing {tags} (endpoints.md §10.2): the app's service
// principal is created (201) or, when it exists, its tags set (204) and it
// is read back; created says which. Idempotent, so ambiguous failures are
// retried; right after the app was created Graph may not see it yet, which
// is retried as replication.
func (c *Client) UpsertServicePrincipal(ctx context.Context, appID string, tags []string) (out ServicePrincipal, created bool, err error) {
	const op = "create or update service principal"
	if _, err := parseUUID("appId", appID); err != nil {
		return ServicePrincipal{}, false, &Error{Op: op, Err: err}
	}
	body := models.NewServicePrincipal()
	if len(tags) > 0 {
		body.SetTags(tags)
	}
	var sp ServicePrincipal
	err = c.send(ctx, op, retryPolicy{repeatable: true, replicated: appNotReplicated}, func(ctx context.Context) (*abs.RequestInformation, error) {
		cfg := &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderPatchRequestConfiguration{Headers: abs.NewRequestHeaders()}
		cfg.Headers.Add("Prefer", "create-if-missing")
		return c.spByAppID(appID).ToPatchRequestInformation(ctx, body, cfg)
	}, &sp)
	if err != nil {
		return ServicePrincipal{}, false, err
	}
	if sp.ID != "" {
		return sp, true, nil
	}
	// 204: it exists, so a 404 is replication lag.
	out, err = c.servicePrincipalByAppID(ctx, appID, retryPolicy{repeatable: true, replicated: objectNotReplicated})
	return out, false, err
}

// ServicePrincipalsByName lists the service principals whose displayName
// equals name (all pages). In an app's home tenant its service principal
// carries the app's name, so this finds it in the same round trip as the
// app's own lookup by name.
func (c *Client) ServicePrincipalsByName(ctx context.Context, displayName string) ([]ServicePrincipal, error) {
	const op = "list service principals by name"
	filter := "displayName eq " + odataQuote(displayName)
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.servicePrincipals().ToGetRequestInformation(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{Filter: &filter, Select: servicePrincipalSelect},
		})
	}
	return listAll[ServicePrincipal](ctx, c, op, first, nil)
}

// CreateServicePrincipal is POST /servicePrincipals {appId, tags}. Right
// after the app was created Graph may not see it yet ("The appId '…' of
// the service principal does not reference a valid application object");
// that is retried. If a retried attempt finds the principal already there
// (409, IsConflict), the caller reads it with ServicePrincipalByAppID.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string, tags []string) (ServicePrincipal, error) {
	const op = "create service principal"
	if _, err := parseUUID("appId", appID); err != nil {
		return ServicePrincipal{}, &Error{Op: op, Err: err}
	}
	body := models.NewServicePrincipal()
	body.SetAppId(ptr(appID))
	if len(tags) > 0 {
		body.SetTags(tags)
	}
	var sp ServicePrincipal
	err := c.send(ctx, op, retryPolicy{repeatable: true, replicated: appNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.servicePrincipals().ToPostRequestInformation(ctx, body, nil)
		}, &sp)
	if err != nil {
		return ServicePrincipal{}, err
	}
	if sp.ID == "" {
		return ServicePrincipal{}, &Error{Op: op, Message: "Graph returned no service principal"}
	}
	return sp, nil
}

// UpdateServicePrincipalTags is PATCH /servicePrincipals/{id} {tags}: the
// tags replace the service principal's own (an app's tags are not copied
// to an existing service principal, endpoints.md §12).
func (c *Client) UpdateServicePrincipalTags(ctx context.Context, objectID string, tags []string) error {
	const op = "update service principal"
	if _, err := parseUUID("service principal object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	body := models.NewServicePrincipal()
	body.SetTags(nonNil(tags))
	return c.send(ctx, op, retryPolicy{repeatable: true, replicated: objectNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.servicePrincipals().ByServicePrincipalId(objectID).ToPatchRequestInformation(ctx, body, nil)
		}, nil)
}

// DeleteServicePrincipal is DELETE /servicePrincipals/{id}.
func (c *Client) DeleteServicePrincipal(ctx context.Context, objectID string) error {
	const op = "delete service principal"
	if _, err := parseUUID("service principal object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.servicePrincipals().ByServicePrincipalId(objectID).ToDeleteRequestInformation(ctx, nil)
	}, nil)
}

// AppRoleAssignments is GET /servicePrincipals/{id}/appRoleAssignments: the
// app roles granted to the service principal, all pages.
func (c *Client) AppRoleAssignments(ctx context.Context, principalID string) ([]AppRoleAssignment, error) {
	const op = "list app role assignments"
	if _, err := parseUUID("service principal object id", principalID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.servicePrincipals().ByServicePrincipalId(principalID).AppRoleAssignments().ToGetRequestInformation(ctx, nil)
	}
	return listAll[AppRoleAssignment](ctx, c, op, first, nil)
}

// AssignAppRole is POST /servicePrincipals/{resourceId}/appRoleAssignedTo
// (admin consent for one application permission). Replication errors about
// a just-created principal are retried; a duplicate comes back as
// IsConflict ("Permission being assigned already exists on the object").
func (c *Client) AssignAppRole(ctx context.Context, a AppRoleAssignment) (AppRoleAssignment, error) {
	const op = "assign app role"
	principal, err := parseUUID("principal id", a.PrincipalID)
	if err != nil {
		return AppRoleAssignment{}, &Error{Op: op, Err: err}
	}
	resource, err := parseUUID("resource id", a.ResourceID)
	if err != nil {
		return AppRoleAssignment{}, &Error{Op: op, Err: err}
	}
	role, err := parseUUID("app role id", a.AppRoleID)
	if err != nil {
		return AppRoleAssignment{}, &Error{Op: op, Err: err}
	}
	body := models.NewAppRoleAssignment()
	body.SetPrincipalId(principal)
	body.SetResourceId(resource)
	body.SetAppRoleId(role)
	var out AppRoleAssignment
	published := func() bool { return c.publishesAppRole(ctx, resource.String(), role.String()) }
	err = c.send(ctx, op, retryPolicy{repeatable: true, replicated: appRoleNotReplicated(published)},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.servicePrincipals().ByServicePrincipalId(resource.String()).AppRoleAssignedTo().ToPostRequestInformation(ctx, body, nil)
		}, &out)
	if err != nil {
		return AppRoleAssignment{}, err
	}
	if out.ID == "" {
		return AppRoleAssignment{}, &Error{Op: op, Message: "Graph returned no app role assignment"}
	}
	return out, nil
}

// publishesAppRole reports whether the resource service principal lists
// the app role, enabled. A read that fails counts as "no": the caller then
// stops retrying rather than waiting on a guess.
func (c *Client) publishesAppRole(ctx context.Context, resourceID, roleID string) bool {
	var sp ServicePrincipal
	err := c.send(ctx, "read the resource's app roles", readPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.servicePrincipals().ByServicePrincipalId(resourceID).ToGetRequestInformation(ctx,
			&serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "appRoles"}},
			})
	}, &sp)
	if err != nil {
		return false
	}
	for _, r := range sp.AppRoles {
		if strings.EqualFold(r.ID, roleID) && r.IsEnabled {
			return true
		}
	}
	return false
}

// DeleteAppRoleAssignment is DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{id}.
func (c *Client) DeleteAppRoleAssignment(ctx context.Context, resourceID, assignmentID string) error {
	const op = "delete app role assignment"
	if _, err := parseUUID("resource id", resourceID); err != nil {
		return &Error{Op: op, Err: err}
	}
	if assignmentID == "" {
		return &Error{Op: op, Message: "no assignment id"}
	}
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.servicePrincipals().ByServicePrincipalId(resourceID).AppRoleAssignedTo().ByAppRoleAssignmentId(assignmentID).ToDeleteRequestInformation(ctx, nil)
	}, nil)
}
