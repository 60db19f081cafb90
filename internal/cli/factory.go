// Package cli holds entra-link's cobra commands: one file per command,
// flags → Options, help text; the work itself is done by internal/setup,
// internal/profile and friends.
package cli

import (
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
	// Transport, when set, carries every HTTP request (sign-in and Graph);
	// tests route it to an in-process sandbox.
	Transport http.RoundTripper
}

// NewFactory returns the dependencies of a real process.
func NewFactory() *Factory {
	return &Factory{
		IO:     iostreams.System(),
		Now:    time.Now,
		Getenv: os.Getenv,
	}
}
