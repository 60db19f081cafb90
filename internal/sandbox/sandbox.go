package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/layout"
)

// Options configures a sandbox tenant.
type Options struct {
	// StateDir holds the persistent state (CA, certificates, tenant.json,
	// state.json). "" means a temporary directory removed on Close.
	StateDir string
	// Listen is the address to listen on; default "127.0.0.1:0".
	Listen string
	// Latency is added to every request.
	Latency time.Duration
	// ThrottleEvery makes every Nth Graph request fail with 429 and
	// Retry-After (Graph's throttling body). 0 disables; N >= 2 keeps a
	// retrying client bounded (1 throttles every request).
	ThrottleEvery int
	// FailEvery makes every Nth Graph request fail with 503. 0 disables.
	FailEvery int
	// ReplicationDelay hides new objects from other collections (and new
	// credentials from the token endpoint) for this long after creation.
	ReplicationDelay time.Duration
	// VerifiedDomains are verified domains in addition to the initial
	// <name>.onmicrosoft.com and contoso.com.
	VerifiedDomains []string
	// Tenants are further tenants to serve besides the home tenant (created
	// when no tenant of that display name exists yet). The bootstrap admin
	// application is multi-tenant: its service principal is a Global
	// Administrator in every tenant, so the same client id and secret reach
	// each one through its own token endpoint.
	Tenants []TenantSpec
	// Log receives one line per request (never secrets or tokens).
	Log io.Writer
}

// Faults are the fault settings that can change at run time.
type Faults struct {
	Latency          time.Duration `json:"latency"`
	ThrottleEvery    int           `json:"throttleEvery"`
	FailEvery        int           `json:"failEvery"`
	ReplicationDelay time.Duration `json:"replicationDelay"`
	// RetryAfter is the Retry-After sent with throttled and failed
	// responses; zero means one second.
	RetryAfter time.Duration `json:"retryAfter"`
}

// Rule injects failures: the next Times requests that match Method, Path
// and ClientID are answered with Status and Body instead of being served
// (Action ""), or are served and then have their response held or dropped
// (Action "hang" or "drop"; see those constants).
type Rule struct {
	// Method matches the HTTP method; "" matches any.
	Method string `json:"method,omitempty"`
	// Path is a regular expression matched against the request path
	// (for Graph without the /v1.0 prefix, e.g. `^/servicePrincipals$`;
	// token requests are matched on their full path). "" matches any.
	Path string `json:"path,omitempty"`
	// ClientID restricts a rule to token requests of this client_id.
	ClientID string `json:"clientId,omitempty"`
	// Times is how many matching requests fail; 0 means 1.
	Times int `json:"times,omitempty"`
	// Status is the HTTP status to answer with (default 500).
	Status int `json:"status,omitempty"`
	// Body is the JSON body. Empty means a Graph error body (Graph paths)
	// or an AADSTS body (token paths) fitting Status.
	Body json.RawMessage `json:"body,omitempty"`
	// Headers are added to the response (e.g. Retry-After).
	Headers map[string]string `json:"headers,omitempty"`
	// Action is "" (answer with Status and Body instead of serving),
	// ActionHang or ActionDrop.
	Action string `json:"action,omitempty"`
	// Skip lets the first Skip matching requests through untouched: with
	// Skip 2 the third match is the first the rule acts on.
	Skip int `json:"skip,omitempty"`
}

// RequestRecord is one request the sandbox answered.
type RequestRecord struct {
	Time     time.Time     `json:"time"`
	Method   string        `json:"method"`
	Host     string        `json:"host"`
	Path     string        `json:"path"` // path and query
	Status   int           `json:"status"`
	Duration time.Duration `json:"duration"`
	// Kind is "graph", "token" (any login endpoint), "arm" (Azure Resource
	// Manager), "batch-item" or "sandbox".
	Kind string `json:"kind"`
	// Fault names the injected fault when one decided the answer:
	// "throttle", "fail", "inject", "replication", "hang" or "drop" (the
	// client got no response: Status 0).
	Fault string `json:"fault,omitempty"`
}

// TenantInfo is what tenant.json holds.
type TenantInfo struct {
	TenantID      string `json:"tenantId"`
	TenantDomain  string `json:"tenantDomain"`
	DisplayName   string `json:"displayName"`
	AuthorityHost string `json:"authorityHost"`
	GraphEndpoint string `json:"graphEndpoint"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	// Tenants lists the further tenants of this sandbox (Options.Tenants,
	// AddTenant); the bootstrap client id and secret work in each.
	Tenants []TenantRef `json:"tenants,omitempty"`
}

// TenantRef names one further tenant in tenant.json.
type TenantRef struct {
	TenantID     string `json:"tenantId"`
	TenantDomain string `json:"tenantDomain"`
	DisplayName  string `json:"displayName"`
}

// TenantSpec describes a further tenant.
type TenantSpec struct {
	DisplayName     string   `json:"displayName"`
	VerifiedDomains []string `json:"verifiedDomains,omitempty"`
}

// maxRecords bounds the request log of a long-running sandbox.
const maxRecords = 10000

// Server is a running sandbox tenant.
type Server struct {
	opts    Options
	dir     string
	tempDir bool

	ca      *keyPair
	tlsCert *keyPair
	signing *keyPair

	ln   net.Listener
	srv  *http.Server
	addr string // host:port the sandbox listens on
	url  string

	mu sync.Mutex
	// t is the tenant a request addresses while it holds mu (see enter);
	// whenever mu is free it is home.
	t               *tenant
	home            *tenant
	bootstrapSecret string
	faults          Faults
	rules           []*activeRule
	graphCount      int
	held            heldSet
	records         []RequestRecord
	deviceCodes     map[string]*deviceCode
	signInUsers     map[string]string       // tenant id → user device-code sign-ins approve as
	authRequests    map[string]*authRequest // authorize requests waiting for the user
	authCodes       map[string]*authCode

	unlock    func()
	closeOnce sync.Once
	closeErr  error
	serveErr  chan error
}

// Start creates or loads the tenant in o.StateDir and starts serving.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	s := &Server{opts: o, dir: o.StateDir, deviceCodes: map[string]*deviceCode{}, signInUsers: map[string]string{},
		authRequests: map[string]*authRequest{}, authCodes: map[string]*authCode{}, serveErr: make(chan error, 1)}
	s.faults = Faults{Latency: o.Latency, ThrottleEvery: o.ThrottleEvery, FailEvery: o.FailEvery, ReplicationDelay: o.ReplicationDelay}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "entra-link-sandbox-")
		if err != nil {
			return nil, fmt.Errorf("create sandbox state directory: %w", err)
		}
		s.dir, s.tempDir = d, true
	} else if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create sandbox state directory: %w", err)
	}
	release, err := lockStateDir(s.dir)
	if err != nil {
		_ = s.cleanup()
		return nil, err
	}
	s.unlock = release
	if err := s.init(ctx); err != nil {
		release()
		_ = s.cleanup() // the init error is the one that matters
		return nil, err
	}
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	host, _, err := net.SplitHostPort(s.opts.Listen)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: %w", s.opts.Listen, err)
	}
	if s.ca, err = loadOrCreateCA(s.dir); err != nil {
		return err
	}
	if s.tlsCert, err = loadOrCreateServerCert(s.dir, s.ca, host); err != nil {
		return err
	}
	if s.signing, err = loadOrCreateSigningKey(s.dir); err != nil {
		return err
	}
	if err := s.loadOrCreateTenant(); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	s.addr = ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// A wildcard listener is reached through loopback.
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	s.url = "https://" + s.addr
	if err := s.writeTenantFile(); err != nil {
		_ = ln.Close()
		return err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.tlsCert.tlsCertificate()}}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          nil,
	}
	go func() {
		err := s.srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	return nil
}

func (s *Server) loadOrCreateTenant() error {
	t, err := loadTenant(s.dir)
	if err != nil {
		return err
	}
	if t == nil {
		t, s.bootstrapSecret = newTenant(s.opts.VerifiedDomains)
		if err := saveTenant(s.dir, t); err != nil {
			return err
		}
	} else {
		var info TenantInfo
		b, err := os.ReadFile(filepath.Join(s.dir, tenantFile))
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Join(s.dir, tenantFile), err)
		}
		if err := json.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("decode %s: %w", filepath.Join(s.dir, tenantFile), err)
		}
		if info.TenantID != t.TenantID {
			return fmt.Errorf("%s belongs to tenant %s but state.json holds tenant %s", filepath.Join(s.dir, tenantFile), info.TenantID, t.TenantID)
		}
		s.bootstrapSecret = info.ClientSecret
		changed := t.seedResources(t.CreatedDateTime)
		if merged := mergeDomains(t.ExtraDomains, s.opts.VerifiedDomains); len(merged) != len(t.ExtraDomains) {
			t.ExtraDomains = merged
			changed = true
		}
		if changed {
			if err := saveTenant(s.dir, t); err != nil {
				return err
			}
		}
	}
	t.ensureMaps()
	s.t, s.home = t, t
	return s.provisionTenants()
}

// writeTenantFile writes tenant.json (0600: it holds the bootstrap secret,
// by contract the one secret the sandbox keeps in clear).
func (s *Server) writeTenantFile() error {
	b, err := json.MarshalIndent(s.Tenant(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode tenant.json: %w", err)
	}
	return writeFileAtomic(filepath.Join(s.dir, tenantFile), append(b, '\n'), 0o600)
}

// URL is the sandbox's own base URL, https://127.0.0.1:PORT. It serves both
// the authority (login) endpoints and Graph (/v1.0).
func (s *Server) URL() string { return s.url }

// StateDir is the directory holding ca.pem, tenant.json and state.json.
func (s *Server) StateDir() string { return s.dir }

// Tenant describes the tenant and its bootstrap admin credentials.
func (s *Server) Tenant() TenantInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := s.tenantInfo(s.home)
	for _, o := range s.home.Tenants {
		info.Tenants = append(info.Tenants, TenantRef{TenantID: o.TenantID, TenantDomain: o.InitialDomain, DisplayName: o.DisplayName})
	}
	return info
}

// tenantInfo describes one tenant with the bootstrap credentials. Callers
// hold s.mu.
func (s *Server) tenantInfo(t *tenant) TenantInfo {
	return TenantInfo{
		TenantID:      t.TenantID,
		TenantDomain:  t.InitialDomain,
		DisplayName:   t.DisplayName,
		AuthorityHost: s.url,
		GraphEndpoint: s.url,
		ClientID:      s.home.BootstrapAppID,
		ClientSecret:  s.bootstrapSecret,
	}
}

// CACertPEM is the PEM of the CA that signed the server certificate.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.ca.certPEM...) }

// Transport returns an HTTP transport that trusts the sandbox CA and dials
// the sandbox both for its own address and for every Microsoft login, Graph
// and Resource Manager host of the four national clouds, keeping the
// real Host header and TLS server name. Any other host is refused, so a
// client configured with real cloud URLs reaches the sandbox and nothing else.
func (s *Server) Transport() *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	known := map[string]bool{}
	for _, h := range append(cloud.KnownHosts(), armHosts()...) {
		known[strings.ToLower(h)] = true
	}
	sandboxAddr := s.addr
	_, port, _ := net.SplitHostPort(sandboxAddr)
	var d net.Dialer
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("sandbox transport: %w", err)
			}
			host = strings.ToLower(host)
			switch {
			case known[host] && p == "443":
			case (host == "127.0.0.1" || host == "localhost" || host == "::1") && p == port:
			default:
				return nil, fmt.Errorf("sandbox transport: refusing to dial %s: not a Microsoft login, Graph or Resource Manager host, nor the sandbox", addr)
			}
			return d.DialContext(ctx, "tcp", sandboxAddr)
		},
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.records...)
}

// SetFaults replaces the fault settings and restarts the every-Nth counters.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.graphCount = 0
}

// CurrentFaults returns the fault settings in effect.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Inject adds a failure rule (see Rule). Rules are consulted in order.
func (s *Server) Inject(r Rule) {
	ar, err := newActiveRule(r)
	if err != nil {
		// An invalid pattern can only come from a test or the inspection
		// API; match nothing rather than everything.
		ar = &activeRule{Rule: r, never: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, ar)
}

// CreatePrincipal seeds an application and service principal with a secret,
// the given Microsoft Graph application permissions (by name, consented) and
// directory roles (by name) in the home tenant, and returns its client id
// and secret. The objects are immediately usable (not subject to the
// replication delay). CreatePrincipalIn does the same in any tenant.
func (s *Server) CreatePrincipal(ctx context.Context, name string, graphAppRoles []string, directoryRoles []string) (clientID, secret string, err error) {
	return s.CreatePrincipalIn(ctx, "", name, graphAppRoles, directoryRoles)
}

// CreateUser adds a member user <name>@<initial domain> of the home tenant
// holding the given active directory roles (by name) and returns its object
// id and user principal name. CreateUserIn does the same in any tenant and
// takes PIM-eligible roles too.
func (s *Server) CreateUser(ctx context.Context, name string, directoryRoles []string) (userID, upn string, err error) {
	return s.CreateUserIn(ctx, UserSpec{Name: name, Roles: directoryRoles})
}

// SignInAs makes later device-code sign-ins to the user's tenant approve as
// the user with this user principal name (default: that tenant's seeded
// admin@<initial domain>).
func (s *Server) SignInAs(upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.allTenants() {
		if u := t.userByUPN(upn); u != nil {
			s.signInUsers[t.TenantID] = str(u.Props, "id")
			return nil
		}
	}
	return fmt.Errorf("sandbox: no user %q", upn)
}

// signInUserID is the user device-code sign-ins to the addressed tenant
// approve as. Callers hold s.mu.
func (s *Server) signInUserID() string {
	if id := s.signInUsers[s.t.TenantID]; id != "" {
		return id
	}
	return s.t.AdminUserID
}

// Close stops the server; a temporary state directory is removed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.abandonHeld()
		if s.srv != nil {
			// In-flight requests get a moment to finish; idle HTTP/2
			// connections would otherwise hold Shutdown for the protocol's
			// one-second GOAWAY grace, so whatever remains is closed.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
			if err := <-s.serveErr; err != nil && s.closeErr == nil {
				s.closeErr = fmt.Errorf("sandbox server: %w", err)
			}
		}
		if s.unlock != nil {
			s.unlock()
		}
		if err := s.cleanup(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// cleanup removes a temporary state directory.
func (s *Server) cleanup() error {
	if !s.tempDir {
		return nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove sandbox state directory: %w", err)
	}
	return nil
}

// banner is what `entra-link sandbox` prints once it listens, laid out for
// width columns: where it is, where ca.pem and tenant.json are, who signs
// in (never the secret).
func (s *Server) banner(width int) []string {
	info := s.Tenant()
	f := s.CurrentFaults()
	pairs := [][2]string{
		{"tenant", fmt.Sprintf("%s (%s, %s)", info.TenantID, info.TenantDomain, info.DisplayName)},
		{"authority host", info.AuthorityHost},
		{"graph endpoint", info.GraphEndpoint + "/v1.0"},
		{"CA certificate", filepath.Join(s.dir, caCertFile) + " (trust it with SSL_CERT_FILE, NODE_EXTRA_CA_CERTS or REQUESTS_CA_BUNDLE)"},
		{"credentials", filepath.Join(s.dir, tenantFile) + " (bootstrap admin " + info.ClientID + ", Global Administrator)"},
		{"sign-in user", "admin@" + info.TenantDomain + " (device code: approved automatically; browser: the sign-in page asks for the user name only)"},
	}
	for _, o := range info.Tenants {
		pairs = append(pairs, [2]string{"also tenant", fmt.Sprintf("%s (%s)", o.TenantDomain, o.DisplayName)})
	}
	pairs = append(pairs,
		[2]string{"inspect", s.URL() + "/_sandbox/state " + s.URL() + "/_sandbox/requests"},
		[2]string{"administer", s.URL() + "/_sandbox/users, /groups, /tenants, …"})
	if f != (Faults{}) {
		pairs = append(pairs, [2]string{"faults", fmt.Sprintf("latency=%s throttle-every=%d fail-every=%d replication-delay=%s", f.Latency, f.ThrottleEvery, f.FailEvery, f.ReplicationDelay)})
	}
	out := layout.Wrap("entra-link sandbox: an emulated Entra tenant at "+s.URL(), width)
	out = append(out, layout.Labeled("  ", pairs, width)...)
	return append(out, "Press Ctrl-C to stop.")
}

// Serve runs a sandbox until ctx is cancelled, printing a banner to stdout
// (the URL, the tenant, where ca.pem and tenant.json are; never the secret).
// It is what `entra-link sandbox` runs.
func Serve(ctx context.Context, o Options, stdout io.Writer) error {
	if o.StateDir == "" {
		return errors.New("sandbox: a state directory is required (--state-dir)")
	}
	s, err := Start(ctx, o)
	if err != nil {
		return err
	}
	_, _ = io.WriteString(stdout, layout.Text(s.banner(layout.Width(stdout))))
	select {
	case <-ctx.Done():
	case err := <-s.serveErr:
		s.serveErr <- err // let Close see it
	}
	return s.Close()
}
