package graph

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// DirectoryObject is a user or service principal, as an owner.
type DirectoryObject struct {
	ID                string `json:"id"`
	Type              string `json:"@odata.type"` // #microsoft.graph.user, #microsoft.graph.servicePrincipal
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// ApplicationOwners is GET /applications/{id}/owners, all pages.
func (c *Client) ApplicationOwners(ctx context.Context, appObjectID string) ([]DirectoryObject, error) {
	const op = "list the app's owners"
	if _, err := parseUUID("application object id", appObjectID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	first := func(ctx context.Context) (*abs.RequestInformation, error) {
		return c.applications().ByApplicationId(appObjectID).Owners().ToGetRequestInformation(ctx, nil)
	}
	return listAll[DirectoryObject](ctx, c, op, first, nil)
}

// AddApplicationOwner is POST /applications/{id}/owners/$ref with the
// directory object principalID (a user or service principal). An owner
// already there is IsConflict ("One or more added object references
// already exist"). An app created a moment ago may not have replicated:
// a 404 that does not name the owner is retried; one that does means there
// is no such user and is returned at once (IsNotFound).
func (c *Client) AddApplicationOwner(ctx context.Context, appObjectID, principalID string) error {
	const op = "add an owner to the app"
	if _, err := parseUUID("application object id", appObjectID); err != nil {
		return &Error{Op: op, Err: err}
	}
	if _, err := parseUUID("owner object id", principalID); err != nil {
		return &Error{Op: op, Err: err}
	}
	body := models.NewReferenceCreate()
	body.SetOdataId(ptr(c.baseURL + "/directoryObjects/" + principalID))
	owner := strings.ToLower(principalID)
	appNotThere := func(e *Error) bool {
		return e.Status == http.StatusNotFound && !strings.Contains(strings.ToLower(e.Message), owner)
	}
	return c.send(ctx, op, retryPolicy{repeatable: true, replicated: appNotThere},
		func(ctx context.Context) (*abs.RequestInformation, error) {
			return c.applications().ByApplicationId(appObjectID).Owners().Ref().ToPostRequestInformation(ctx, body, nil)
		}, nil)
}

// User is GET /users/{id | userPrincipalName}: who a user is. It needs
// User.ReadBasic.All (or more), which entra-link's sign-in does not ask
// for: a 403 is IsForbidden.
func (c *Client) User(ctx context.Context, idOrUPN string) (DirectoryObject, error) {
	const op = "look up a user"
	key := strings.TrimSpace(idOrUPN)
	if key == "" || strings.ContainsAny(key, "/?#") {
		return DirectoryObject{}, &Error{Op: op, Message: "invalid user " + strconvQuote(idOrUPN)}
	}
	var u DirectoryObject
	err := c.send(ctx, op, readPolicy, func(context.Context) (*abs.RequestInformation, error) {
		// Built by hand: the users request builders are the SDK's largest
		// package, for one GET.
		target, err := url.Parse(c.baseURL + "/users/" + url.PathEscape(key) + "?$select=id,displayName,userPrincipalName")
		if err != nil {
			return nil, err
		}
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*target)
		ri.Headers.TryAdd("Accept", "application/json")
		return ri, nil
	}, &u)
	if err != nil {
		return DirectoryObject{}, err
	}
	if u.ID == "" {
		return DirectoryObject{}, &Error{Op: op, Message: "Graph returned no user"}
	}
	u.Type = "#microsoft.graph.user"
	return u, nil
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
