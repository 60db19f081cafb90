// Package graph is entra-link's Microsoft Graph client: the only package that
// imports msgraph-sdk-go. It exposes small domain types (types.go), the API
// interface (api.go) implemented by *Client, one error type (*Error), and a
// single retry policy (retry.go).
//
// Only the SDK's models, the leaf request-builder packages entra-link needs
// and msgraph-sdk-go-core are used — never the root package, which drags in
// every request builder (minutes of compile time, a 50 MB binary).
//
// The SDK builds requests (request builders for URLs and queries, models
// for JSON bodies) and kiota's adapter authenticates them; responses are
// decoded here with encoding/json. Letting kiota parse responses into
// models would make the linker keep every model type: kiota's parser calls
// GetFieldDeserializers, whose nested discriminator functions reach all
// ~3,500 of them. Measured on the entra-link binary: 54.0 MB with kiota
// parsing, 18.4 MB without.
package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// sdkVersion is the msgraph-sdk-go version whose models and builders we
// compile against; it goes into Graph's SdkVersion telemetry header.
const sdkVersion = "1.103.0"

// Options configures a Client.
type Options struct {
	// Endpoint is the Graph host, e.g. https://graph.microsoft.com
	// (cloud.Cloud.GraphEndpoint). Requests go to Endpoint+"/v1.0" and the
	// token is requested for Endpoint+"/.default".
	Endpoint string
	// HTTPClient is the run's HTTP client (cli.Factory.HTTPClient). Its
	// Transport carries the requests under this package's own middleware,
	// timeout and redirect policy; nil (or a nil Transport) means a clone
	// of http.DefaultTransport.
	HTTPClient *http.Client
	// Trace, when set (--verbose), gets one line per HTTP attempt: method,
	// URL, status, duration and attempt number — never headers or bodies.
	Trace io.Writer
	// RetryDeadline bounds the time one operation may spend retrying
	// (default 2 minutes). The context's deadline applies as well.
	RetryDeadline time.Duration
	// UserAgent is sent as User-Agent (default "entra-link").
	UserAgent string
	// RetryBaseDelay is the first backoff step (default 1s); steps double up
	// to RetryMaxDelay (default 15s). A server's Retry-After overrides both.
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps one backoff step.
	RetryMaxDelay time.Duration
	// OnRetry, when set, is told before each retry (progress: "waiting for
	// Entra to replicate…"). It must not block.
	OnRetry func(RetryEvent)
}

// Defaults for Options.
const (
	DefaultRetryDeadline  = 2 * time.Minute
	DefaultRetryBaseDelay = time.Second
	DefaultRetryMaxDelay  = 15 * time.Second
	defaultUserAgent      = "entra-link"
	// requestTimeout bounds one HTTP attempt; Graph's own gateway gives up
	// well before this.
	requestTimeout = 100 * time.Second
)

// Client talks to Microsoft Graph v1.0 for one cloud and one credential.
// It is safe for concurrent use.
type Client struct {
	cred     azcore.TokenCredential
	endpoint string                       // scheme://host[/path], no trailing slash
	baseURL  string                       // endpoint + "/v1.0"
	host     string                       // lower-cased host[:port] the token may be sent to
	scope    string                       // endpoint + "/.default"
	adapter  *khttp.NetHttpRequestAdapter // builds and authenticates requests
	hc       *http.Client                 // sends them through the middleware
	retry    retryConfig
	onRetry  func(RetryEvent)
	tracer   *tracer // --verbose; nil = silent
}

var _ API = (*Client)(nil)

// New builds a Client. cred supplies tokens for Endpoint+"/.default".
func New(cred azcore.TokenCredential, o Options) (*Client, error) {
	if cred == nil {
		return nil, errors.New("graph: new client: no credential")
	}
	endpoint, host, err := parseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cred:     cred,
		endpoint: endpoint,
		baseURL:  endpoint + "/v1.0",
		host:     host,
		scope:    endpoint + "/.default",
		retry: retryConfig{
			deadline:    o.RetryDeadline,
			base:        o.RetryBaseDelay,
			max:         o.RetryMaxDelay,
			maxAttempts: defaultMaxAttempts,
		},
		onRetry: o.OnRetry,
	}
	if c.retry.deadline <= 0 {
		c.retry.deadline = DefaultRetryDeadline
	}
	if c.retry.base <= 0 {
		c.retry.base = DefaultRetryBaseDelay
	}
	if c.retry.max <= 0 {
		c.retry.max = DefaultRetryMaxDelay
	}
	if c.retry.max < c.retry.base {
		c.retry.max = c.retry.base
	}

	var base http.RoundTripper
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		base = o.HTTPClient.Transport
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		base = t.Clone()
	} else {
		return nil, errors.New("graph: new client: net/http's default transport has been replaced and no HTTP client was given")
	}
	c.tracer = newTracer(o.Trace)
	ua := o.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	// The middleware is chosen, not kiota's default set: no RetryHandler
	// (retries live in one place, retry.go), no CompressionHandler (bodies
	// are tiny, and plain JSON keeps fakes and traces simple), no
	// RedirectHandler (Graph does not redirect these calls; a 3xx surfaces
	// as an error instead of re-sending a bearer token somewhere).
	middleware := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}),
		khttp.NewParametersNameDecodingHandler(),
		&wireHandler{userAgent: ua, trace: c.tracer},
	}
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(base, middleware...),
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	// Own registries rather than kiota's process-wide defaults, so nothing
	// here depends on (or changes) global state. Every request body is
	// JSON. No parse-node factory: responses are decoded by this package
	// (see attempt in retry.go).
	writers := absser.NewSerializationWriterFactoryRegistry()
	writers.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	adapter, err := khttp.NewNetHttpRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		&tokenAuth{cred: cred, scope: c.scope, host: host}, absser.NewParseNodeFactoryRegistry(), writers, hc)
	if err != nil {
		return nil, fmt.Errorf("graph: new client: %w", err)
	}
	adapter.SetBaseUrl(c.baseURL)
	c.adapter = adapter
	c.hc = hc
	return c, nil
}

// Endpoint returns the Graph endpoint the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }

// Scope returns the token scope the client requests (Endpoint/.default).
func (c *Client) Scope() string { return c.scope }

func parseEndpoint(raw string) (endpoint, host string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errors.New("graph: new client: no Graph endpoint")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("graph: new client: invalid Graph endpoint %q", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("graph: new client: invalid Graph endpoint %q: want scheme://host", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		// Plain http only for in-process fakes: a bearer token never
		// leaves the machine unencrypted.
	default:
		return "", "", fmt.Errorf("graph: new client: Graph endpoint %q must use https", raw)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/v1.0")
	return u.Scheme + "://" + u.Host + path, strings.ToLower(u.Host), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenAuth puts the bearer token on requests for the client's own Graph
// host and refuses any other host with an error. (kiota's azure provider
// silently sends no token to hosts missing from its allow-list, which turns
// a misconfiguration into a confusing 401.)
type tokenAuth struct {
	cred  azcore.TokenCredential
	scope string
	host  string
}

// signInError marks a failure to get a token; it is never retried here
// because the credential has its own retry and caching.
type signInError struct{ err error }

func (e *signInError) Error() string { return "sign-in failed: " + e.err.Error() }
func (e *signInError) Unwrap() error { return e.err }

// AuthenticateRequest implements kiota's authentication.AuthenticationProvider.
func (a *tokenAuth) AuthenticateRequest(ctx context.Context, ri *abs.RequestInformation, _ map[string]any) error {
	u, err := ri.GetUri()
	if err != nil {
		return fmt.Errorf("build request URL: %w", err)
	}
	if !strings.EqualFold(u.Host, a.host) {
		return fmt.Errorf("refusing to send the Graph token to %s: only %s is trusted", u.Host, a.host)
	}
	tok, err := a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{a.scope}})
	if err != nil {
		return &signInError{err: err}
	}
	ri.Headers.Remove("Authorization")
	ri.Headers.Add("Authorization", "Bearer "+tok.Token)
	return nil
}
