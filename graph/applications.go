package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// applicationSelect names every property the Application type carries.
// Naming keyCredentials in $select on a single object is what makes Graph
// return the certificates' key bytes (needed to PATCH keyCredentials
// without dropping existing certificates).
var applicationSelect = []string{
	"id", "appId", "displayName", "signInAudience", "tags", "identifierUris", "web",
	"requiredResourceAccess", "passwordCredentials", "keyCredentials", "createdDateTime", "publisherDomain",
}

func (c *Client) applications() *applications.ApplicationsRequestBuilder {
	return applications.NewApplicationsRequestBuilderInternal(map[string]string{}, c.adapter)
}

// odataQuote quotes a value for an OData $filter string literal.
func odataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func asApplication(op string, w wireApplication) (Application, error) {
	if w.ID == "" {
		return Application{}, &Error{Op: op, Message: "Graph returned no application"}
	}
	return w.toDomain(), nil
}

// ApplicationByAppID is GET /applications(appId='…').
func (c *Client) ApplicationByAppID(ctx context.Context, appID string) (Application, error) {
	const op = "get application by appId"
	if _, err := parseUUID("appId", appID); err != nil {
		return Application{}, &Error{Op: op, Err: err}
	}
	var w wireApplication
	err := c.send(ctx, op, readPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		b := applicationswithappid.NewApplicationsWithAppIdRequestBuilderInternal(map[string]string{}, c.adapter, ptr(appID))
		return b.ToGetRequestInformation(ctx, nil)
	}, &w)
	if err != nil {
		return Application{}, err
	}
	return asApplication(op, w)
}

// ApplicationByID is GET /applications/{id}?$select=…,keyCredentials, so the
// result's KeyCredentials carry their Key bytes.
func (c *Client) ApplicationByID(ctx context.Context, objectID string) (Application, error) {
	const op = "get application"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return Application{}, &Error{Op: op, Err: err}
	}
	var w wireApplication
	err := c.send(ctx, op, readPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).ToGetRequestInformation(ctx,
			&applications.ApplicationItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: applicationSelect},
			})
	}, &w)
	if err != nil {
		return Application{}, err
	}
	return asApplication(op, w)
}

// ApplicationsByTag lists applications carrying tag, all pages.
func (c *Client) ApplicationsByTag(ctx context.Context, tag string) ([]Application, error) {
	return c.listApplications(ctx, "list applications by tag", "tags/any(t:t eq "+odataQuote(tag)+")")
}

// ApplicationsByName lists applications whose displayName equals name, all pages.
func (c *Client) ApplicationsByName(ctx context.Context, displayName string) ([]Application, error) {
	return c.listApplications(ctx, "list applications by name", "displayName eq "+odataQuote(displayName))
}

// listApplications asks for Graph's largest page (so that a tenant's
// entra-link apps come in one round trip, not one per hundred) and uses
// Graph's default property set rather than $select:
// naming keyCredentials in a list $select is rate-limited (150/min per
// tenant), and the defaults already include every property we read
// (keyCredentials without their key bytes).
func (c *Client) listApplications(ctx context.Context, op, filter string) ([]Application, error) {
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ToGetRequestInformation(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{Filter: &filter, Top: ptr(int32(maxPageSize))},
		})
	}
	items, err := listAll[wireApplication](ctx, c, op, first, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Application, 0, len(items))
	for _, w := range items {
		out = append(out, w.toDomain())
	}
	return out, nil
}

// CreateApplication is POST /applications with exactly the given properties
// (displayName, signInAudience, tags, identifierUris, web,
// requiredResourceAccess, keyCredentials). Nothing is added: no default
// User.Read permission, unlike the portal.
//
// Never retried after an ambiguous failure (503/504/timeout): the app may
// exist already, and a second POST would create a duplicate. Callers that
// see such an error look the app up by tag before trying again.
func (c *Client) CreateApplication(ctx context.Context, app Application) (Application, error) {
	const op = "create application"
	if strings.TrimSpace(app.DisplayName) == "" {
		return Application{}, &Error{Op: op, Err: fmt.Errorf("display name is required")}
	}
	body := models.NewApplication()
	body.SetDisplayName(ptr(app.DisplayName))
	if app.SignInAudience != "" {
		body.SetSignInAudience(ptr(app.SignInAudience))
	}
	if len(app.Tags) > 0 {
		body.SetTags(app.Tags)
	}
	if len(app.IdentifierURIs) > 0 {
		body.SetIdentifierUris(app.IdentifierURIs)
	}
	if len(app.Web.RedirectURIs) > 0 || app.Web.EnableIDTokenIssuance || app.Web.EnableAccessTokenIssuance {
		body.SetWeb(toWeb(app.Web))
	}
	if len(app.RequiredResourceAccess) > 0 {
		rra, err := toRequiredResourceAccess(app.RequiredResourceAccess)
		if err != nil {
			return Application{}, &Error{Op: op, Err: err}
		}
		body.SetRequiredResourceAccess(rra)
	}
	if len(app.KeyCredentials) > 0 {
		kc, err := toKeyCredentials(app.KeyCredentials)
		if err != nil {
			return Application{}, &Error{Op: op, Err: err}
		}
		body.SetKeyCredentials(kc)
	}
	var w wireApplication
	err := c.send(ctx, op, retryPolicy{}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ToPostRequestInformation(ctx, body, nil)
	}, &w)
	if err != nil {
		return Application{}, err
	}
	return asApplication(op, w)
}

// UpdateApplication is PATCH /applications/{id} with the non-nil fields of
// u. Collections replace the app's collections wholesale (Graph's PATCH
// semantics), so KeyCredentials must hold the existing certificates too —
// read them with ApplicationByID. A 404 right after CreateApplication is
// replication lag and is retried.
func (c *Client) UpdateApplication(ctx context.Context, objectID string, u ApplicationUpdate) error {
	const op = "update application"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	body := models.NewApplication()
	if u.DisplayName != nil {
		body.SetDisplayName(ptr(*u.DisplayName))
	}
	if u.SignInAudience != nil {
		body.SetSignInAudience(ptr(*u.SignInAudience))
	}
	if u.Tags != nil {
		body.SetTags(nonNil(*u.Tags))
	}
	if u.IdentifierURIs != nil {
		body.SetIdentifierUris(nonNil(*u.IdentifierURIs))
	}
	if u.Web != nil {
		body.SetWeb(toWeb(*u.Web))
	}
	if u.RequiredResourceAccess != nil {
		rra, err := toRequiredResourceAccess(*u.RequiredResourceAccess)
		if err != nil {
			return &Error{Op: op, Err: err}
		}
		body.SetRequiredResourceAccess(rra)
	}
	if u.KeyCredentials != nil {
		kc, err := toKeyCredentials(*u.KeyCredentials)
		if err != nil {
			return &Error{Op: op, Err: err}
		}
		body.SetKeyCredentials(kc)
	}
	return c.send(ctx, op, retryPolicy{repeatable: true, replicated: objectNotReplicated},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.applications().ByApplicationId(objectID).ToPatchRequestInformation(ctx, body, nil)
		}, nil)
}

// DeleteApplication is DELETE /applications/{id}; Graph moves the app (and
// with it its service principal) to deleted items for 30 days.
func (c *Client) DeleteApplication(ctx context.Context, objectID string) error {
	const op = "delete application"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).ToDeleteRequestInformation(ctx, nil)
	}, nil)
}

// AddPassword is POST /applications/{id}/addPassword. The result's
// SecretText is the only copy of the secret Graph will ever hand out.
//
// Retried on 429 and on 404 (the app was created a moment ago), both of
// which mean no secret was made; never after an ambiguous failure, since a
// repeat would mint a second secret and lose the first.
func (c *Client) AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (PasswordCredential, error) {
	const op = "add client secret"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return PasswordCredential{}, &Error{Op: op, Err: err}
	}
	pc := models.NewPasswordCredential()
	if displayName != "" {
		pc.SetDisplayName(ptr(displayName))
	}
	if !end.IsZero() {
		pc.SetEndDateTime(ptr(end.UTC()))
	}
	body := applications.NewItemAddPasswordPostRequestBody()
	body.SetPasswordCredential(pc)
	var w wirePassword
	err := c.send(ctx, op, retryPolicy{replicated: objectNotReplicated}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).AddPassword().ToPostRequestInformation(ctx, body, nil)
	}, &w)
	if err != nil {
		return PasswordCredential{}, err
	}
	if w.SecretText == "" {
		return PasswordCredential{}, &Error{Op: op, Message: "Graph returned no secret"}
	}
	out := w.PasswordCredential
	out.StartDateTime, out.EndDateTime = utc(out.StartDateTime), utc(out.EndDateTime)
	out.SecretText = w.SecretText
	return out, nil
}

// RemovePassword is POST /applications/{id}/removePassword.
func (c *Client) RemovePassword(ctx context.Context, objectID, keyID string) error {
	const op = "remove client secret"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	kid, err := parseUUID("secret key id", keyID)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	body := applications.NewItemRemovePasswordPostRequestBody()
	body.SetKeyId(kid)
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).RemovePassword().ToPostRequestInformation(ctx, body, nil)
	}, nil)
}
