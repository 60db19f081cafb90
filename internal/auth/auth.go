// Package auth signs the admin in (design.md §2 --auth, §6 least privilege):
// it picks the azidentity credential for a method, points it at the right
// national or custom cloud, asks interactive sign-ins for the least-privilege
// delegated scopes only, caches tokens for the run, keeps browser and
// device-code sign-ins for later commands (signins.go), and turns sign-in
// failures into sentences an admin can act on.
//
// Create one credential per process (NewCredential) and share it: that is
// what makes one run sign in once.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/cloud"
)

// The --auth methods.
const (
	MethodBrowser         = "browser"
	MethodDeviceCode      = "device-code"
	MethodAzureCLI        = "azure-cli"
	MethodEnv             = "env"
	MethodManagedIdentity = "managed-identity"
)

// Methods lists the --auth values in help order.
func Methods() []string {
	return []string{MethodBrowser, MethodDeviceCode, MethodAzureCLI, MethodEnv, MethodManagedIdentity}
}

// DefaultLoginClientID is the public client admins sign in through:
// Microsoft Graph Command Line Tools, which may request any delegated Graph
// scope (unlike the Azure CLI's client, which is pre-authorised for a fixed
// set that lacks RoleManagement.ReadWrite.Directory).
const DefaultLoginClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// DelegatedScopes are the only delegated Graph permissions an interactive
// sign-in asks for (design.md §6). They are requested on the cloud's own
// Graph host, e.g. https://graph.microsoft.us/Application.ReadWrite.All.
var DelegatedScopes = []string{
	"Application.ReadWrite.All",
	"AppRoleAssignment.ReadWrite.All",
	"DelegatedPermissionGrant.ReadWrite.All",
	"RoleManagement.ReadWrite.Directory",
	"Organization.Read.All",
}

// Options selects and configures the credential.
type Options struct {
	// Method is the --auth value; "" means DefaultMethod.
	Method string
	// Tenant is a tenant GUID or verified domain. "" means "organizations"
	// for user sign-ins and AZURE_TENANT_ID for env.
	Tenant string
	// Cloud supplies the authority host and Graph endpoint; the zero value
	// means the global cloud. A Custom cloud disables MSAL instance
	// discovery (the authority is not one Microsoft's discovery knows).
	Cloud cloud.Cloud
	// LoginClientID is the public client for browser/device-code sign-in
	// (default DefaultLoginClientID).
	LoginClientID string
	// HTTPClient carries the sign-in's HTTP traffic (the run's client, see
	// cli.Factory.HTTPClient); nil means azcore's default.
	HTTPClient *http.Client
	// DeviceCodePrompt shows the device-code instructions; nil writes them
	// to stderr.
	DeviceCodePrompt func(ctx context.Context, message string) error
	// SignIns, when set, keeps browser and device-code sign-ins for later
	// commands (per cloud, tenant and login client); nil signs in afresh.
	SignIns *SignInStore
	// Notify tells the user which saved sign-in is used or where a new one
	// is kept (one line each); nil is silent.
	Notify func(string)
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Trace, when set (--verbose), gets one line per sign-in request
	// (method, host, path, status, duration; never a body or a token).
	Trace io.Writer
}

// DefaultMethod is browser when a desktop session is likely (macOS,
// Windows, or DISPLAY/WAYLAND_DISPLAY elsewhere) and the process is neither
// in an SSH session nor in a container; otherwise device-code, which works
// anywhere a human can read a code.
func DefaultMethod(getenv func(string) string, goos string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, v := range []string{"SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT"} {
		if getenv(v) != "" {
			return MethodDeviceCode
		}
	}
	// Markers container runtimes and hosted dev environments set.
	for _, v := range []string{"container", "KUBERNETES_SERVICE_HOST", "CODESPACES", "REMOTE_CONTAINERS"} {
		if getenv(v) != "" {
			return MethodDeviceCode
		}
	}
	switch goos {
	case "darwin", "windows":
		return MethodBrowser
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return MethodBrowser
	}
	return MethodDeviceCode
}

// NewCredential builds the credential for o.Method. The result caches
// tokens in memory per scope set, asks interactive sign-ins for
// DelegatedScopes when a caller asks for the cloud's Graph ".default", and
// returns *SignInError on failure.
func NewCredential(o Options) (azcore.TokenCredential, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	method := strings.ToLower(strings.TrimSpace(o.Method))
	if method == "" {
		method = DefaultMethod(getenv, runtime.GOOS)
	}
	c := o.Cloud
	if c.AuthorityHost == "" {
		c = cloud.Global
	}
	rec := newNetRecorder(o.HTTPClient, o.Trace)
	clientOpts := azcore.ClientOptions{
		Cloud: azcloud.Configuration{
			ActiveDirectoryAuthorityHost: strings.TrimRight(c.AuthorityHost, "/") + "/",
			Services:                     map[azcloud.ServiceName]azcloud.ServiceConfiguration{},
		},
		Transport: rec.transporter(),
	}
	// Instance discovery asks login.microsoftonline.com which authorities
	// are genuine and what their aliases are: a round trip per sign-in that
	// tells nothing new for the four national clouds (their authorities are
	// the ones MSAL trusts already), and a custom authority is unknown to it
	// by definition.
	noDiscovery := true
	loginClient := o.LoginClientID
	if loginClient == "" {
		loginClient = DefaultLoginClientID
	}
	userTenant := o.Tenant
	if userTenant == "" {
		userTenant = "organizations"
	}

	var (
		inner azcore.TokenCredential
		err   error
		hints = hintContext{method: method, sslCertFile: getenv("SSL_CERT_FILE")}
	)
	// A browser or device-code sign-in kept from an earlier command, used
	// silently (and replaced by a new sign-in when it no longer works).
	var saved *SavedSignIn
	var persistent azidentity.Cache
	var record azidentity.AuthenticationRecord
	if o.SignIns != nil && (method == MethodBrowser || method == MethodDeviceCode) {
		key := SignInKey{Cloud: c.Name, AuthorityHost: strings.TrimRight(c.AuthorityHost, "/"), Tenant: strings.ToLower(userTenant), LoginClientID: strings.ToLower(loginClient)}
		saved, persistent = o.SignIns.open(key, method)
		if saved.Storage == StorageProtected {
			record = saved.Record
		}
	}
	switch method {
	case MethodBrowser:
		var cred *azidentity.InteractiveBrowserCredential
		cred, err = azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions: clientOpts, ClientID: loginClient, TenantID: userTenant, DisableInstanceDiscovery: noDiscovery,
			Cache: persistent, AuthenticationRecord: record, DisableAutomaticAuthentication: saved != nil,
		})
		if err == nil {
			inner = cred
			if saved != nil {
				inner = &persistentCred{inner: cred, store: o.SignIns, saved: saved, notify: o.Notify}
			}
		}
	case MethodDeviceCode:
		prompt := o.DeviceCodePrompt
		if prompt == nil {
			prompt = func(_ context.Context, msg string) error {
				_, err := io.WriteString(os.Stderr, msg+"\n")
				return err
			}
		}
		var cred *azidentity.DeviceCodeCredential
		cred, err = azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: clientOpts, ClientID: loginClient, TenantID: userTenant, DisableInstanceDiscovery: noDiscovery,
			UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error { return prompt(ctx, m.Message) },
			Cache:      persistent, AuthenticationRecord: record, DisableAutomaticAuthentication: saved != nil,
		})
		if err == nil {
			inner = cred
			if saved != nil {
				inner = &persistentCred{inner: cred, store: o.SignIns, saved: saved, notify: o.Notify}
			}
		}
	case MethodAzureCLI:
		// The Azure CLI signs in through its own client and cloud
		// configuration (az cloud set); only the tenant is ours to pass.
		inner, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.Tenant})
	case MethodEnv:
		var e envCred
		e, err = newEnvCredential(getenv, o.Tenant, clientOpts, noDiscovery)
		inner, hints.secretVar, hints.certVar = e.cred, e.secretVar, e.certVar
	case MethodManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOpts}
		if id := getenv("AZURE_CLIENT_ID"); id != "" {
			mo.ID = azidentity.ClientID(id) // a user-assigned identity
		}
		inner, err = azidentity.NewManagedIdentityCredential(mo)
	default:
		return nil, fmt.Errorf("invalid value %q for --auth: valid values are %s", o.Method, strings.Join(Methods(), ", "))
	}
	if err != nil {
		var se *SignInError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, &SignInError{Method: method, Err: err, Hint: "could not set up the " + method + " sign-in: " + err.Error()}
	}

	cc := &cachingCredential{inner: inner, hints: hints, net: rec, entries: map[string]*cacheEntry{}}
	if method == MethodBrowser || method == MethodDeviceCode {
		cc.mapScopes = delegatedScopeMapper(c.GraphEndpoint)
	}
	return cc, nil
}

// delegatedScopeMapper replaces a request for <graph>/.default with the
// explicit least-privilege scopes on that host.
//
// Why: the graph client always asks for <graph>/.default. For a public
// client, ".default" at the first interactive sign-in means "whatever this
// client has been consented to" — for Microsoft Graph Command Line Tools
// that can be much more than entra-link needs, or too little. azidentity's
// public-client GetToken first tries MSAL's AcquireTokenSilent for the
// requested scopes with the signed-in account and only then goes
// interactive, so asking for the explicit list on every call gets exactly
// that consent prompt once, and silent refreshes after it. (A later
// ".default" request would also be served silently from the refresh token,
// but the first sign-in must carry the explicit scopes.)
func delegatedScopeMapper(graphEndpoint string) func([]string) []string {
	host := strings.TrimRight(graphEndpoint, "/")
	def := host + "/.default"
	explicit := make([]string, len(DelegatedScopes))
	for i, s := range DelegatedScopes {
		explicit[i] = host + "/" + s
	}
	return func(scopes []string) []string {
		if len(scopes) == 1 && strings.EqualFold(scopes[0], def) {
			return append([]string(nil), explicit...)
		}
		return scopes
	}
}

// GraphScopes returns DelegatedScopes on the cloud's Graph host — what an
// interactive sign-in consents to.
func GraphScopes(c cloud.Cloud) []string {
	if c.GraphEndpoint == "" {
		c = cloud.Global
	}
	return delegatedScopeMapper(c.GraphEndpoint)([]string{strings.TrimRight(c.GraphEndpoint, "/") + "/.default"})
}
