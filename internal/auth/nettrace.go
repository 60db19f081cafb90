package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/entra-link/entra-link/internal/networds"
)

// netRecorder is the sign-in's transport: it sends through the run's HTTP
// client and remembers the last request that got no response at all, with
// its cause. azidentity flattens MSAL's errors into strings (the TLS
// verification error of a wrong SSL_CERT_FILE comes out as "unable to
// resolve an endpoint: server response error:"), so this is where the cause
// is still an error value.
type netRecorder struct {
	hc *http.Client
	// trace, when set (--verbose), gets one line per request: method,
	// host and path, status, duration — never a query, header or body
	// (the client secret, the assertion and the tokens travel in those).
	trace io.Writer
	trMu  sync.Mutex

	mu   sync.Mutex
	seq  int
	last *netFailure
}

// netFailure is a request that got no HTTP response.
type netFailure struct {
	seq  int
	host string
	err  error
}

func newNetRecorder(hc *http.Client, trace io.Writer) *netRecorder {
	if hc == nil && trace != nil {
		hc = &http.Client{}
	}
	return &netRecorder{hc: hc, trace: trace}
}

// transporter is what azcore gets: nil (its default transport, nothing
// recorded) when there is no client, never a nil client in the interface.
func (r *netRecorder) transporter() policy.Transporter {
	if r == nil || r.hc == nil {
		return nil
	}
	return r
}

// Do implements policy.Transporter.
func (r *netRecorder) Do(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := r.hc.Do(req)
	r.traceLine(req, resp, err, time.Since(start))
	if err != nil {
		r.mu.Lock()
		r.seq++
		r.last = &netFailure{seq: r.seq, host: req.URL.Hostname(), err: err}
		r.mu.Unlock()
		if _, untrusted := trustCause(err); untrusted {
			// Asking again cannot make the certificate trusted; azcore
			// would otherwise retry for about 20 seconds.
			return nil, nonRetriable{err}
		}
	}
	return resp, err
}

// traceLine writes "sign-in: POST https://login.microsoftonline.com/…/oauth2/v2.0/token -> 200 (143ms)".
func (r *netRecorder) traceLine(req *http.Request, resp *http.Response, err error, d time.Duration) {
	if r.trace == nil {
		return
	}
	result := "no answer"
	switch {
	case resp != nil:
		result = strconv.Itoa(resp.StatusCode)
	case err != nil:
		result = "no answer: " + networds.Cause(err)
	}
	u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
	line := fmt.Sprintf("sign-in: %s %s -> %s (%dms)\n", req.Method, u.String(), result, d.Milliseconds())
	r.trMu.Lock()
	defer r.trMu.Unlock()
	_, _ = io.WriteString(r.trace, line)
}

// nonRetriable marks an error azcore's retry policy must not retry.
type nonRetriable struct{ error }

func (nonRetriable) NonRetriable() {}

func (e nonRetriable) Unwrap() error { return e.error }

// mark returns a position; failureSince reports the last failure after it.
func (r *netRecorder) mark() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

func (r *netRecorder) failureSince(mark int) *netFailure {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && r.last.seq > mark {
		return r.last
	}
	return nil
}

// trustCause returns the certificate verification failure in err: the
// server's certificate is not trusted here (unknown CA — a wrong
// SSL_CERT_FILE, a TLS-inspecting proxy — wrong name, expired).
func trustCause(err error) (string, bool) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ua):
		return ua.Error(), true
	case errors.As(err, &he):
		return he.Error(), true
	case errors.As(err, &ci):
		return ci.Error(), true
	case errors.As(err, &cv):
		return cv.Error(), true
	}
	return "", false
}

// networkHint explains a request that got no response.
func (h hintContext) networkHint(f *netFailure) string {
	if cause, ok := trustCause(f.err); ok {
		msg := fmt.Sprintf("the TLS certificate of %s is not trusted (%s)", f.host, cause)
		var ua x509.UnknownAuthorityError
		if errors.As(f.err, &ua) {
			where := "the system's trusted CA certificates"
			if h.sslCertFile != "" {
				where = "SSL_CERT_FILE (" + h.sslCertFile + ")"
			}
			msg += ": its issuer is not in " + where + "; behind a TLS-inspecting proxy, add the proxy's CA certificate there"
		}
		return msg
	}
	msg := fmt.Sprintf("cannot reach %s: %s", f.host, networds.Cause(f.err))
	var dnsErr *net.DNSError
	if errors.As(f.err, &dnsErr) || errors.Is(f.err, syscall.ECONNREFUSED) {
		msg += "; check the network connection, a proxy in HTTPS_PROXY, and --cloud"
	}
	return msg
}
