package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/cloud"
)

// Defaults of ProofOptions.
const (
	DefaultProofTimeout   = 2 * time.Minute
	DefaultProofBaseDelay = time.Second
	DefaultProofMaxDelay  = 10 * time.Second
	// proofAttemptTimeout bounds one token request.
	proofAttemptTimeout = 30 * time.Second
)

// replicationCodes are the Entra errors a secret (or app) that exists but
// has not reached every token service replica yet produces: invalid client
// secret, and application not found in the directory.
var replicationCodes = []string{"AADSTS7000215", "AADSTS700016"}

// ProofOptions says which secret to prove and how long to wait for it.
type ProofOptions struct {
	Cloud    cloud.Cloud
	TenantID string
	ClientID string
	Secret   string
	// HTTPClient carries the token requests: the run's client, so that the
	// proof reaches the tenant the run talks to (nil: azcore's default).
	HTTPClient *http.Client
	// Timeout bounds the whole proof, waits included (default 2 minutes).
	Timeout time.Duration
	// BaseDelay is the first wait after a replication error; waits double
	// up to MaxDelay (defaults 1s and 10s).
	BaseDelay, MaxDelay time.Duration
	// Trace, when set (--verbose), gets one line per token request (never
	// its body, which carries the secret).
	Trace io.Writer
	// OnRetry is told about each replication error before the wait.
	OnRetry func(attempt int, code string, wait time.Duration)
}

// ProofError says why a secret could not be proven. It never carries the
// secret: azidentity reports the token endpoint's answer, not the request.
type ProofError struct {
	// Code is the last Entra error code, e.g. AADSTS7000215 ("" if none).
	Code     string
	Attempts int
	Waited   time.Duration
	Err      error
}

func (e *ProofError) Error() string {
	var b strings.Builder
	switch {
	case e.Code != "" && isReplicationCode(e.Code):
		fmt.Fprintf(&b, "Entra still rejected the new secret (%s) after %d attempt(s) over %s", e.Code, e.Attempts, e.Waited.Round(time.Second))
	case e.Code != "":
		b.WriteString("Entra refused a token for the new secret: ")
		if se := new(SignInError); errors.As(e.Err, &se) && se.Hint != "" {
			b.WriteString(se.Hint)
		} else {
			b.WriteString(firstLine(e.Err.Error()))
		}
		fmt.Fprintf(&b, " (%s)", e.Code)
	default:
		fmt.Fprintf(&b, "no token could be obtained with the new secret: %s", firstLine(e.Err.Error()))
	}
	return b.String()
}

func (e *ProofError) Unwrap() error { return e.Err }

func isReplicationCode(code string) bool {
	for _, c := range replicationCodes {
		if strings.EqualFold(c, code) {
			return true
		}
	}
	return false
}

// ProveSecret obtains an app-only token for the cloud's Microsoft Graph
// (client credentials, <graph>/.default) with the given secret: proof that
// Entra accepts it. A new secret takes a while to reach every replica of
// the token service, so the replication errors are retried with backoff
// until o.Timeout; any other error ends the proof at once.
func ProveSecret(ctx context.Context, o ProofOptions) error {
	c := o.Cloud
	if c.AuthorityHost == "" {
		c = cloud.Global
	}
	timeout, base, maxDelay := o.Timeout, o.BaseDelay, o.MaxDelay
	if timeout <= 0 {
		timeout = DefaultProofTimeout
	}
	if base <= 0 {
		base = DefaultProofBaseDelay
	}
	if maxDelay < base {
		maxDelay = max(DefaultProofMaxDelay, base)
	}
	rec := newNetRecorder(o.HTTPClient, o.Trace)
	cred, err := azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     azcloud.Configuration{ActiveDirectoryAuthorityHost: strings.TrimRight(c.AuthorityHost, "/") + "/", Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{}},
			Transport: rec.transporter(),
		},
		// A custom authority is unknown to Microsoft's instance discovery.
		DisableInstanceDiscovery: c.Custom,
	})
	if err != nil {
		return &ProofError{Err: err}
	}
	hints := hintContext{method: "client secret"}
	start := time.Now()
	deadline := start.Add(timeout)
	wait := base
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, min(proofAttemptTimeout, time.Until(deadline)+time.Second))
		mark := rec.mark()
		_, err := cred.GetToken(actx, policy.TokenRequestOptions{Scopes: []string{c.GraphScope()}})
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		explained := hints.explain(err)
		if f := rec.failureSince(mark); f != nil {
			explained = &SignInError{Method: hints.method, Hint: hints.networkHint(f), Err: errors.Join(f.err, err)}
		}
		code := ""
		var se *SignInError
		if errors.As(explained, &se) {
			code = se.Code
		}
		pe := &ProofError{Code: code, Attempts: attempt, Waited: time.Since(start), Err: explained}
		if !isReplicationCode(code) || time.Now().Add(wait).After(deadline) {
			return pe
		}
		if o.OnRetry != nil {
			o.OnRetry(attempt, code, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxDelay)
	}
}
