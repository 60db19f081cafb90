package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithappid"
	"github.com/microsoftgraph/msgraph-sdk-go/applicationswithuniquename"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// applicationSelect names every property the Application type carries.
// Naming keyCredentials in $select on a single object is what makes Graph
// return the certificates' key bytes (needed to PATCH keyCredentials
// without dropping existing certificates).
var applicationSelect = []string{
	"id", "appId", "displayName", "signInAudience", "tags", "identifierUris", "web",
	"requiredResourceAccess", "passwordCredentials", "keyCredentials", "createdDateTime", "publisherDomain", "uniqueName",
	"notes", "serviceManagementReference",
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

// applicationBody is the body that creates app with exactly the given
// properties (displayName, signInAudience, tags, identifierUris, web,
// requiredResourceAccess, keyCredentials, notes, serviceManagementReference).
// Nothing is added: no default
// User.Read permission, unlike the portal.
func applicationBody(app Application) (models.Applicationable, error) {
	if strings.TrimSpace(app.DisplayName) == "" {
		return nil, fmt.Errorf("display name is required")
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
			return nil, err
		}
		body.SetRequiredResourceAccess(rra)
	}
	if len(app.KeyCredentials) > 0 {
		kc, err := toKeyCredentials(app.KeyCredentials)
		if err != nil {
			return nil, err
		}
		body.SetKeyCredentials(kc)
	}
	if app.Notes != "" {
		body.SetNotes(ptr(app.Notes))
	}
	if app.ServiceManagementReference != "" {
		body.SetServiceManagementReference(ptr(app.ServiceManagementReference))
	}
	return body, nil
}

// UpsertApplication is PATCH /applications(uniqueName='…') with Prefer:
// create-if-missing (endpoints.md §10.1): the app with this unique name is
// created with app's properties (201), or, when it exists, updated with them
// (204) and read back. created says which. The request is idempotent, so
// every ambiguous failure is retried: a repeat after an attempt that did
// create the app finds it. A unique name held by another application (one
// in the recycle bin) is IsKeyTaken.
func (c *Client) UpsertApplication(ctx context.Context, uniqueName string, app Application) (out Application, created bool, err error) {
	const op = "create or update application by unique name"
	if strings.TrimSpace(uniqueName) == "" {
		return Application{}, false, &Error{Op: op, Err: fmt.Errorf("unique name is required")}
	}
	body, err := applicationBody(app)
	if err != nil {
		return Application{}, false, &Error{Op: op, Err: err}
	}
	var w wireApplication
	err = c.send(ctx, op, retryPolicy{repeatable: true}, func(ctx context.Context) (*abs.RequestInformation, error) {
		cfg := &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderPatchRequestConfiguration{Headers: abs.NewRequestHeaders()}
		cfg.Headers.Add("Prefer", "create-if-missing")
		return c.byUniqueName(uniqueName).ToPatchRequestInformation(ctx, body, cfg)
	}, &w)
	if err != nil {
		return Application{}, false, err
	}
	if w.ID != "" {
		return w.toDomain(), true, nil
	}
	// 204: it existed (made by another run at the same time, or by an
	// earlier attempt of this one). It exists, so a 404 is replication lag.
	out, err = c.applicationByUniqueName(ctx, uniqueName)
	return out, false, err
}

func (c *Client) byUniqueName(uniqueName string) *applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilder {
	return applicationswithuniquename.NewApplicationsWithUniqueNameRequestBuilderInternal(map[string]string{}, c.adapter,
		ptr(strings.ReplaceAll(uniqueName, "'", "''")))
}

// applicationByUniqueName is GET /applications(uniqueName='…') for an app
// known to exist.
func (c *Client) applicationByUniqueName(ctx context.Context, uniqueName string) (Application, error) {
	const op = "get application by unique name"
	var w wireApplication
	err := c.send(ctx, op, retryPolicy{repeatable: true, replicated: objectNotReplicated}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.byUniqueName(uniqueName).ToGetRequestInformation(ctx,
			&applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderGetRequestConfiguration{
				QueryParameters: &applicationswithuniquename.ApplicationsWithUniqueNameRequestBuilderGetQueryParameters{Select: applicationSelect},
			})
	}, &w)
	if err != nil {
		return Application{}, err
	}
	return asApplication(op, w)
}

// UpdateApplication is PATCH /applications/{id} with the non-nil fields of
// u. Collections replace the app's collections wholesale (Graph's PATCH
// semantics), so KeyCredentials must hold the existing certificates too —
// read them with ApplicationByID. A 404 right after the app was created is
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
	if u.UniqueName != nil {
		body.SetUniqueName(ptr(*u.UniqueName))
	}
	if u.Notes != nil {
		body.SetNotes(ptr(*u.Notes))
	}
	if u.ServiceManagementReference != nil {
		body.SetServiceManagementReference(ptr(*u.ServiceManagementReference))
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
// displayName must be unique to this call (entra-link puts a per-run token
// in it): it is how a credential an ambiguously failed attempt created is
// recognised. Such a failure (503, 504, timeout, reset) is retried only
// after the app's credentials have been read back and that credential
// removed, so a repeat never leaves a second secret nobody has. 429 and a
// 404 right after the app was created mean nothing was made and are
// retried as they are. MayHaveTakenEffect reports the one case in which
// the outcome is unknown (the read-back failed too).
func (c *Client) AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (PasswordCredential, error) {
	const op = "add client secret"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return PasswordCredential{}, &Error{Op: op, Err: err}
	}
	if strings.TrimSpace(displayName) == "" {
		return PasswordCredential{}, &Error{Op: op, Err: fmt.Errorf("a display name unique to the call is required")}
	}
	pc := models.NewPasswordCredential()
	pc.SetDisplayName(ptr(displayName))
	if !end.IsZero() {
		pc.SetEndDateTime(ptr(end.UTC()))
	}
	body := applications.NewItemAddPasswordPostRequestBody()
	body.SetPasswordCredential(pc)
	undo := func(ctx context.Context) (string, error) { return c.removePasswordsNamed(ctx, objectID, displayName) }
	var w wirePassword
	err := c.send(ctx, op, retryPolicy{replicated: objectNotReplicated, undo: undo}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).AddPassword().ToPostRequestInformation(ctx, body, nil)
	}, &w)
	if err != nil {
		return PasswordCredential{}, err
	}
	if w.SecretText == "" {
		// A credential nobody can use: take it back.
		e := &Error{Op: op, Message: "Graph returned no secret"}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
		defer cancel()
		if _, uerr := undo(uctx); uerr != nil {
			e.unsettled, e.undoErr = true, uerr
		}
		return PasswordCredential{}, e
	}
	out := w.PasswordCredential
	out.StartDateTime, out.EndDateTime = utc(out.StartDateTime), utc(out.EndDateTime)
	out.SecretText = w.SecretText
	return out, nil
}

// removePasswordsNamed reads the app's client secrets back and removes each
// one named displayName: addPassword's undo.
func (c *Client) removePasswordsNamed(ctx context.Context, objectID, displayName string) (string, error) {
	pcs, err := c.passwordCredentials(ctx, objectID)
	if err != nil {
		return "", err
	}
	n := 0
	for _, pc := range pcs {
		if pc.DisplayName != displayName {
			continue
		}
		if err := c.RemovePassword(ctx, objectID, pc.KeyID); err != nil && !IsNotFound(err) {
			return "", err
		}
		n++
	}
	if n == 0 {
		return "", nil
	}
	return "removed the secret the failed attempt had created", nil
}

// passwordCredentials is GET /applications/{id}?$select=id,passwordCredentials.
// The app exists (a secret was just being added to it): a 404 is
// replication lag.
func (c *Client) passwordCredentials(ctx context.Context, objectID string) ([]PasswordCredential, error) {
	const op = "read the app's client secrets back"
	var w wireApplication
	err := c.send(ctx, op, retryPolicy{repeatable: true, replicated: objectNotReplicated}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).ToGetRequestInformation(ctx,
			&applications.ApplicationItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &applications.ApplicationItemRequestBuilderGetQueryParameters{Select: []string{"id", "passwordCredentials"}},
			})
	}, &w)
	if err != nil {
		return nil, err
	}
	return w.PasswordCredentials, nil
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

// AddKey is POST /applications/{id}/addKey: it adds one certificate,
// proven by proof, a JWT signed with the private key of one of the app's
// valid certificates (endpoints.md §1.7). An app needs no permission to
// roll its own keys this way. Each call adds a certificate, so only
// throttling (which means nothing was done) is retried; an ambiguous
// failure is reported for the caller to read the app back.
func (c *Client) AddKey(ctx context.Context, objectID string, key KeyCredential, proof string) (KeyCredential, error) {
	const op = "add certificate (addKey)"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return KeyCredential{}, &Error{Op: op, Err: err}
	}
	kcs, err := toKeyCredentials([]KeyCredential{key})
	if err != nil {
		return KeyCredential{}, &Error{Op: op, Err: err}
	}
	body := applications.NewItemAddKeyPostRequestBody()
	body.SetKeyCredential(kcs[0])
	body.SetProof(ptr(proof))
	var w KeyCredential
	err = c.send(ctx, op, retryPolicy{replicated: objectNotReplicated}, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).AddKey().ToPostRequestInformation(ctx, body, nil)
	}, &w)
	if err != nil {
		return KeyCredential{}, err
	}
	w.StartDateTime, w.EndDateTime = utc(w.StartDateTime), utc(w.EndDateTime)
	return w, nil
}

// RemoveKey is POST /applications/{id}/removeKey, proven like AddKey.
func (c *Client) RemoveKey(ctx context.Context, objectID, keyID, proof string) error {
	const op = "remove certificate (removeKey)"
	if _, err := parseUUID("application object id", objectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	kid, err := parseUUID("certificate key id", keyID)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	body := applications.NewItemRemoveKeyPostRequestBody()
	body.SetKeyId(kid)
	body.SetProof(ptr(proof))
	return c.send(ctx, op, idempotentPolicy, func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(objectID).RemoveKey().ToPostRequestInformation(ctx, body, nil)
	}, nil)
}
