package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/cloud"
)

// The production factory builds a real client: a clone of net/http's
// default transport (proxies, SSL_CERT_FILE), never nil, never shared.
func TestNewFactoryHTTPClient(t *testing.T) {
	f := NewFactory()
	a, err := f.httpClient()
	if err != nil || a == nil {
		t.Fatalf("httpClient() = %v, %v", a, err)
	}
	tr, ok := a.Transport.(*http.Transport)
	if !ok || tr == nil || tr == http.DefaultTransport || tr.Proxy == nil {
		t.Fatalf("transport %#v: want a clone of http.DefaultTransport", a.Transport)
	}
	if b, _ := f.httpClient(); b == a || b.Transport == a.Transport {
		t.Error("two calls share one client")
	}
}

// A factory that yields no client is an error, not a nil *http.Client that
// crashes later inside a sign-in or a proof.
func TestConnectWithoutHTTPClient(t *testing.T) {
	for name, fn := range map[string]func() (*http.Client, error){
		"no function": nil,
		"nil client":  func() (*http.Client, error) { return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := testFactory(nil)
			f.HTTPClient = fn
			o := &TenantOptions{Auth: "env", Cloud: cloud.Global}
			conn, err := o.connect(context.Background(), f)
			if err == nil || conn != nil || !strings.Contains(err.Error(), "internal error") {
				t.Fatalf("connect = %v, %v", conn, err)
			}
		})
	}
}
