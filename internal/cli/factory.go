// Package cli holds entra-link's cobra commands: one file per command,
// flags → Options, help text; the work itself is done by internal/setup,
// internal/profile and friends.
package cli

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/entra-link/entra-link/internal/iostreams"
)

// Factory carries the dependencies commands share. Tests replace fields.
type Factory struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Getenv func(string) string
	// HTTPClient returns the client that carries every request of a run:
	// sign-in, Microsoft Graph and the proof of a new secret. --sandbox
	// replaces it with the emulator's own (see connect); tests route it to
	// an in-process sandbox.
	HTTPClient func() (*http.Client, error)
}

// NewFactory returns the dependencies of a real process.
func NewFactory() *Factory {
	return &Factory{
		IO:         iostreams.System(),
		Now:        time.Now,
		Getenv:     os.Getenv,
		HTTPClient: defaultHTTPClient,
	}
}

// defaultHTTPClient is a clone of net/http's default transport: proxies
// from HTTPS_PROXY/NO_PROXY, and the system's CA certificates (which on
// Linux honour SSL_CERT_FILE and SSL_CERT_DIR).
func defaultHTTPClient() (*http.Client, error) {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("net/http's default transport has been replaced; cannot build an HTTP client")
	}
	return &http.Client{Transport: t.Clone()}, nil
}

// httpClient calls f.HTTPClient and never returns a nil client without an
// error.
func (f *Factory) httpClient() (*http.Client, error) {
	if f.HTTPClient == nil {
		return nil, errors.New("internal error: no HTTP client is configured")
	}
	hc, err := f.HTTPClient()
	if err != nil {
		return nil, err
	}
	if hc == nil {
		return nil, errors.New("internal error: the HTTP client factory returned no client")
	}
	return hc, nil
}
