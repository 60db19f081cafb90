package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/iostreams"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// tenant is an in-process sandbox tenant that commands run against through
// the real sign-in (azidentity, --auth env) and Graph client, over TLS.
type tenant struct {
	t  testing.TB
	sb *sandbox.Server
	// env is the process environment commands see.
	env map[string]string
	// wrap, when set, wraps the transport (fault and interrupt injection).
	wrap func(http.RoundTripper) http.RoundTripper
}

func newTenant(t testing.TB, opts ...sandboxtest.Option) *tenant {
	t.Helper()
	sb := sandboxtest.New(t, opts...)
	ti := sb.Tenant()
	return &tenant{t: t, sb: sb, env: map[string]string{
		"AZURE_TENANT_ID":     ti.TenantID,
		"AZURE_CLIENT_ID":     ti.ClientID,
		"AZURE_CLIENT_SECRET": ti.ClientSecret,
		// The journal of the secrets runs add: one machine per tenant.
		"XDG_STATE_HOME": t.TempDir(),
	}}
}

// run executes entra-link against the tenant with ctx.
func (tt *tenant) runCtx(ctx context.Context, args ...string) result {
	tt.t.Helper()
	io, _, _, _ := iostreams.Test()
	var rt http.RoundTripper = tt.sb.Transport()
	if tt.wrap != nil {
		rt = tt.wrap(rt)
	}
	f := &Factory{IO: io, Now: time.Now, Getenv: func(k string) string { return tt.env[k] }, HTTPClient: clientWith(rt)}
	code := Run(ctx, f, args)
	return result{
		stdout: io.Out.(interface{ String() string }).String(),
		stderr: io.ErrOut.(interface{ String() string }).String(),
		code:   code,
	}
}

func (tt *tenant) run(args ...string) result {
	tt.t.Helper()
	return tt.runCtx(context.Background(), args...)
}

// setup runs `setup --auth env --yes -o json` and decodes the result.
func (tt *tenant) setup(wantCode int, args ...string) (map[string]any, result) {
	tt.t.Helper()
	r := tt.run(append([]string{"setup", "--auth", "env", "--yes", "--output", "json"}, args...)...)
	if r.code != wantCode {
		tt.t.Fatalf("setup %v: exit %d, want %d\nstderr:\n%s\nstdout:\n%s", args, r.code, wantCode, r.stderr, r.stdout)
	}
	var obj map[string]any
	if r.stdout != "" {
		if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
			tt.t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
		}
	}
	return obj, r
}

// sbState is /_sandbox/state: the tenant's objects, without secrets.
type sbState struct {
	Applications []struct {
		ID                     string   `json:"id"`
		AppID                  string   `json:"appId"`
		DisplayName            string   `json:"displayName"`
		UniqueName             string   `json:"uniqueName"`
		SignInAudience         string   `json:"signInAudience"`
		Tags                   []string `json:"tags"`
		IdentifierURIs         []string `json:"identifierUris"`
		WebRedirectURIs        []string `json:"webRedirectUris"`
		RequiredResourceAccess []struct {
			ResourceAppID  string `json:"resourceAppId"`
			ResourceAccess []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"resourceAccess"`
		} `json:"requiredResourceAccess"`
		PasswordCredentials []struct {
			KeyID       string `json:"keyId"`
			DisplayName string `json:"displayName"`
			EndDateTime string `json:"endDateTime"`
		} `json:"passwordCredentials"`
		KeyCredentials []struct {
			KeyID               string `json:"keyId"`
			CustomKeyIdentifier string `json:"customKeyIdentifier"`
		} `json:"keyCredentials"`
		Owners                     []string `json:"owners"`
		Notes                      string   `json:"notes"`
		ServiceManagementReference string   `json:"serviceManagementReference"`
	} `json:"applications"`
	ServicePrincipals []struct {
		ID             string   `json:"id"`
		AppID          string   `json:"appId"`
		DisplayName    string   `json:"displayName"`
		Tags           []string `json:"tags"`
		DirectoryRoles []string `json:"directoryRoles"`
	} `json:"servicePrincipals"`
	AppRoleAssignments []struct {
		ID                  string `json:"id"`
		PrincipalID         string `json:"principalId"`
		ResourceID          string `json:"resourceId"`
		ResourceDisplayName string `json:"resourceDisplayName"`
		AppRole             string `json:"appRole"`
	} `json:"appRoleAssignments"`
	Grants []struct {
		ID          string `json:"id"`
		ClientID    string `json:"clientId"`
		ResourceID  string `json:"resourceId"`
		ConsentType string `json:"consentType"`
		Scope       string `json:"scope"`
	} `json:"oauth2PermissionGrants"`
	RoleAssignments []struct {
		ID               string `json:"id"`
		PrincipalID      string `json:"principalId"`
		RoleName         string `json:"roleName"`
		DirectoryScopeID string `json:"directoryScopeId"`
	} `json:"roleAssignments"`
}

func (tt *tenant) state() sbState {
	tt.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, tt.sb.URL()+"/_sandbox/state", nil)
	resp, err := (&http.Client{Transport: tt.sb.Transport()}).Do(req)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s sbState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		tt.t.Fatal(err)
	}
	return s
}

// app returns the application with the given client id.
func (s sbState) app(t *testing.T, appID string) (i int) {
	t.Helper()
	for i, a := range s.Applications {
		if a.AppID == appID {
			return i
		}
	}
	t.Fatalf("no application %s in the sandbox", appID)
	return -1
}

func (s sbState) spOf(appID string) string {
	for _, sp := range s.ServicePrincipals {
		if sp.AppID == appID {
			return sp.ID
		}
	}
	return ""
}

// consented lists "Resource/AppRole" for the app roles granted to principal.
func (s sbState) consented(principal string) []string {
	var out []string
	for _, a := range s.AppRoleAssignments {
		if a.PrincipalID == principal {
			out = append(out, a.ResourceDisplayName+"/"+a.AppRole)
		}
	}
	slices.Sort(out)
	return out
}

func (s sbState) roles(principal string) []string {
	var out []string
	for _, r := range s.RoleAssignments {
		if r.PrincipalID == principal && r.DirectoryScopeID == "/" {
			out = append(out, r.RoleName)
		}
	}
	slices.Sort(out)
	return out
}

// writes counts the state-changing Graph requests since index from.
func (tt *tenant) writes(from int) []string {
	var out []string
	for _, r := range tt.sb.Requests()[from:] {
		if strings.HasSuffix(r.Path, "/$batch") {
			continue // its items are recorded one by one
		}
		if r.Kind != "token" && r.Kind != "sandbox" && r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// token proves a client secret works: it obtains a Graph token with it
// through the real azidentity client-credentials flow.
func (tt *tenant) token(clientID, secret string, authority string, scope string) (azcore.AccessToken, error) {
	tt.t.Helper()
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: policy.ClientOptions{
		Transport: &http.Client{Transport: tt.sb.Transport()},
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authority},
	}}
	cred, err := azidentity.NewClientSecretCredential(tt.sb.Tenant().TenantID, clientID, secret, opts)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
}

// clientWith is a Factory.HTTPClient whose client sends through rt.
func clientWith(rt http.RoundTripper) func() (*http.Client, error) {
	return func() (*http.Client, error) { return &http.Client{Transport: rt}, nil }
}

// transportFunc adapts a function to http.RoundTripper.
type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hosts lists the distinct hosts of the requests since index from.
func (tt *tenant) hosts(from int) []string {
	var out []string
	for _, r := range tt.sb.Requests()[from:] {
		if r.Kind != "sandbox" && !slices.Contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	slices.Sort(out)
	return out
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
