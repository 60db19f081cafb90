package graph

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// SignIn is one service principal sign-in of an app (the sign-in logs,
// auditLogs/signIns), reduced to which credential it presented.
type SignIn struct {
	ID      string    `json:"id"`
	Created time.Time `json:"createdDateTime"`
	AppID   string    `json:"appId"`
	// CredentialKeyID is the key id of the secret or certificate the app
	// presented ("" when Entra could not tell, e.g. a wrong secret).
	CredentialKeyID string `json:"servicePrincipalCredentialKeyId"`
	// CredentialThumbprint is the certificate's, for certificate sign-ins.
	CredentialThumbprint string `json:"servicePrincipalCredentialThumbprint"`
	// CredentialType is clientSecret, certificate or none.
	CredentialType string `json:"clientCredentialType"`
	Status         struct {
		ErrorCode int `json:"errorCode"`
	} `json:"status"`
}

// Succeeded reports whether the sign-in got a token.
func (s SignIn) Succeeded() bool { return s.Status.ErrorCode == 0 }

// signInPage bounds the sign-ins read: the newest ones, one page.
const signInPage = 100

// ServicePrincipalSignIns lists the app's newest service principal
// sign-ins, newest first (one page of at most 100).
//
// It is a request to Graph's beta endpoint, built by hand: only beta's
// signIn has servicePrincipalCredentialKeyId, and only beta lists service
// principal sign-ins at all (v1.0's auditLogs/signIns holds interactive
// user sign-ins only, and beta too unless the filter names
// signInEventTypes). Needs AuditLog.Read.All and Directory.Read.All, and
// for a user one of the roles that may read sign-in reports; a 403 is
// IsForbidden.
func (c *Client) ServicePrincipalSignIns(ctx context.Context, appID string) ([]SignIn, error) {
	const op = "read the app's sign-ins"
	if _, err := parseUUID("appId", appID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	q := url.Values{}
	q.Set("$filter", "signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '"+strings.ToLower(appID)+"'")
	q.Set("$top", strconv.Itoa(signInPage))
	target, err := url.Parse(c.endpoint + "/beta/auditLogs/signIns?" + strings.ReplaceAll(q.Encode(), "+", "%20"))
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	var pg page[SignIn]
	err = c.send(ctx, op, readPolicy, func(context.Context) (*abs.RequestInformation, error) {
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*target)
		ri.Headers.TryAdd("Accept", "application/json")
		return ri, nil
	}, &pg)
	if err != nil {
		return nil, err
	}
	out := pg.Value
	if len(out) > signInPage {
		out = out[:signInPage]
	}
	for i := range out {
		out[i].Created = out[i].Created.UTC()
	}
	return out, nil
}
