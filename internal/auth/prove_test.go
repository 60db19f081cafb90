package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestProveSecret runs the proof against the sandbox's token endpoint
// (MSAL through azidentity, over TLS), with failures injected for the
// app's client id.
func TestProveSecret(t *testing.T) {
	sb := sandboxtest.New(t)
	ti := sb.Tenant()
	tests := []struct {
		name         string
		secret       string // "" = the app's own
		rule         *sandbox.Rule
		timeout      time.Duration
		wantErr      string // substring; "" = proven
		wantCode     string
		wantRetries  int
		wantAttempts int // checked when > 0
	}{
		{name: "works at once"},
		{name: "waits out replication", rule: &sandbox.Rule{Status: http.StatusUnauthorized, Times: 2}, wantRetries: 2},
		{name: "app not replicated yet", rule: &sandbox.Rule{Status: http.StatusBadRequest, Times: 1,
			Body: []byte(`{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory 'Contoso'.","error_codes":[700016]}`)},
			wantRetries: 1},
		{name: "wrong secret until the deadline", secret: "not-the-secret", timeout: 400 * time.Millisecond,
			wantErr: "Entra still rejected the new secret (AADSTS7000215)", wantCode: "AADSTS7000215"},
		{name: "other errors end the proof at once", rule: &sandbox.Rule{Status: http.StatusBadRequest, Times: 5},
			wantErr: "Entra refused a token for the new secret", wantCode: "AADSTS50000", wantAttempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clientID, secret, err := sb.CreatePrincipal(context.Background(), "proof "+tc.name, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != "" {
				secret = tc.secret
			}
			if tc.rule != nil {
				r := *tc.rule
				r.ClientID = clientID
				sb.Inject(r)
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			var mu sync.Mutex
			var retries []string
			err = ProveSecret(context.Background(), ProofOptions{
				Cloud: cloud.Global, TenantID: ti.TenantID, ClientID: clientID, Secret: secret,
				HTTPClient: &http.Client{Transport: sb.Transport()},
				Timeout:    timeout, BaseDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
				OnRetry: func(attempt int, code string, _ time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					retries = append(retries, code)
				},
			})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("not proven: %v", err)
				}
				if len(retries) != tc.wantRetries {
					t.Errorf("retries %v, want %d", retries, tc.wantRetries)
				}
				return
			}
			var pe *ProofError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wantErr) || pe.Code != tc.wantCode {
				t.Fatalf("err = %v (%#v), want %q with code %s", err, pe, tc.wantErr, tc.wantCode)
			}
			if tc.wantAttempts > 0 && pe.Attempts != tc.wantAttempts {
				t.Errorf("attempts %d, want %d", pe.Attempts, tc.wantAttempts)
			}
			if tc.timeout > 0 && (pe.Attempts < 3 || len(retries) != pe.Attempts-1) {
				t.Errorf("a replication error should be retried until the deadline: %d attempts, retries %v", pe.Attempts, retries)
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("the error carries the secret")
			}
		})
	}
}

// TestProveSecretBacksOff: a secret the token service keeps rejecting as
// not yet replicated is retried with doubling waits, then proven.
func TestProveSecretBacksOff(t *testing.T) {
	sb := sandboxtest.New(t)
	clientID, secret, err := sb.CreatePrincipal(context.Background(), "delayed", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb.Inject(sandbox.Rule{ClientID: clientID, Status: http.StatusUnauthorized, Times: 3})
	start := time.Now()
	attempts := 0
	err = ProveSecret(context.Background(), ProofOptions{
		Cloud: cloud.Global, TenantID: sb.Tenant().TenantID, ClientID: clientID, Secret: secret,
		HTTPClient: &http.Client{Transport: sb.Transport()}, BaseDelay: 50 * time.Millisecond,
		OnRetry: func(int, string, time.Duration) { attempts++ },
	})
	if err != nil || attempts != 3 {
		t.Fatalf("err %v after %d retries", err, attempts)
	}
	// Backoff doubles: 50 + 100 + 200 ms.
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("proof took %s; the waits did not back off", d)
	}
}

func TestProveSecretCancelled(t *testing.T) {
	sb := sandboxtest.New(t)
	clientID, secret, err := sb.CreatePrincipal(context.Background(), "cancel", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sb.Inject(sandbox.Rule{ClientID: clientID, Status: http.StatusUnauthorized, Times: 100})
	ctx, cancel := context.WithCancel(context.Background())
	err = ProveSecret(ctx, ProofOptions{
		Cloud: cloud.Global, TenantID: sb.Tenant().TenantID, ClientID: clientID, Secret: secret,
		HTTPClient: &http.Client{Transport: sb.Transport()}, BaseDelay: time.Second,
		OnRetry: func(int, string, time.Duration) { cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
