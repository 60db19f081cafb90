package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/setup"
)

// connection is a signed-in Graph client for one run.
type connection struct {
	Graph   graph.API
	Cloud   cloud.Cloud
	Sandbox *sandbox.Server
	// HTTP carries every request of the run (never nil once connected).
	HTTP *http.Client
	// Journal is this machine's journal of the secrets runs add (nil when
	// no state directory can be found); closed with the connection, which
	// lets go of the records this run holds.
	Journal *journal.Journal
	close   func()
	// Trace gets one line per sign-in and Graph request with --verbose
	// (nil without); the proof of a new secret traces there too.
	Trace io.Writer
	// progress receives "waiting" events when the Graph client retries.
	progress atomic.Pointer[func(setup.Event)]
	// SecretHint is the hint (first three characters) of the client
	// secret the run signed in with, empty for any other sign-in.
	SecretHint string
}

// setProgress routes the Graph client's retries to a progress sink.
func (c *connection) setProgress(p func(setup.Event)) {
	if p != nil {
		c.progress.Store(&p)
	}
}

// retried turns a Graph retry into a progress event in words.
func (c *connection) retried(e graph.RetryEvent) {
	p := c.progress.Load()
	if p == nil {
		return
	}
	var why string
	switch e.Reason {
	case graph.RetryThrottled:
		why = "Microsoft Graph is throttling requests"
	case graph.RetryUnavailable:
		why = "Microsoft Graph is briefly unavailable"
	default:
		why = "waiting for Entra to replicate the objects just created"
	}
	if e.Undone != "" {
		why += "; " + e.Undone
	}
	(*p)(setup.Event{Action: "wait", Target: e.Op, Status: setup.StatusWaiting,
		Detail: fmt.Sprintf("%s; retrying in %s", why, e.Wait.Round(100*time.Millisecond))})
}

func (c *connection) Close() {
	if c.Journal != nil {
		c.Journal.Close()
	}
	if c.close != nil {
		c.close()
	}
}

// openJournal is the journal of the secrets runs on this machine add
// (stateDir/journal); nil without a state directory.
func openJournal(f *Factory) *journal.Journal {
	d, err := stateDir(f)
	if err != nil {
		return nil
	}
	return journal.New(filepath.Join(d, "journal"), f.Now)
}

// sandboxDir is where --sandbox keeps its tenant, so that a setup, a
// verify and a rotate-secret in a row see the same tenant.
func sandboxDir(f *Factory) (string, error) {
	if d := f.Getenv("ENTRA_LINK_SANDBOX_DIR"); d != "" {
		return d, nil
	}
	if d := f.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "entra-link", "sandbox"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a directory for the sandbox tenant (set ENTRA_LINK_SANDBOX_DIR): %w", err)
	}
	return filepath.Join(home, ".local", "state", "entra-link", "sandbox"), nil
}

// stateDir is where entra-link keeps what outlives a command (the
// journal, saved sign-ins): $XDG_STATE_HOME/entra-link, else
// ~/.local/state/entra-link (Windows: %LOCALAPPDATA%\entra-link).
func stateDir(f *Factory) (string, error) {
	if d := f.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "entra-link"), nil
	}
	home := f.Getenv("HOME")
	if home == "" {
		if d := f.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "entra-link"), nil
		}
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find a directory for entra-link's state (set XDG_STATE_HOME): %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "entra-link"), nil
}

// signInStore keeps the sign-ins under the state directory.
func signInStore(state string) *auth.SignInStore {
	return &auth.SignInStore{Dir: filepath.Join(state, "sign-in")}
}

// connect signs in (or starts the in-process sandbox) and returns a Graph
// client. Sign-in, Graph and the proof of a new secret all use conn.HTTP.
func (o *TenantOptions) connect(ctx context.Context, f *Factory) (*connection, error) {
	conn := &connection{Cloud: o.Cloud}
	authOpts := auth.Options{
		Method:        o.Auth,
		Tenant:        o.Tenant,
		Cloud:         o.Cloud,
		LoginClientID: o.LoginClientID,
		Getenv:        f.Getenv,
		DeviceCodePrompt: func(_ context.Context, message string) error {
			say(f.IO.ErrOut, message)
			return nil
		},
	}
	if o.Sandbox {
		dir, err := sandboxDir(f)
		if err != nil {
			return nil, err
		}
		srv, err := sandbox.Start(ctx, sandbox.Options{StateDir: dir})
		if err != nil {
			return nil, fmt.Errorf("starting the sandbox tenant in %s: %w", dir, err)
		}
		conn.Sandbox = srv
		conn.close = func() { _ = srv.Close() }
		ti := srv.Tenant()
		sandboxBanner(f.IO.ErrOut, ti.DisplayName, ti.TenantDomain, dir)
		conn.HTTP = &http.Client{Transport: srv.Transport()}
		env := map[string]string{"AZURE_CLIENT_ID": ti.ClientID, "AZURE_CLIENT_SECRET": ti.ClientSecret, "AZURE_TENANT_ID": ti.TenantID}
		authOpts.Method = auth.MethodEnv
		authOpts.Tenant = ti.TenantID
		authOpts.Getenv = func(k string) string { return env[k] }
	} else {
		hc, err := f.httpClient()
		if err != nil {
			return nil, err
		}
		conn.HTTP = hc
		// Browser and device-code sign-ins are kept for later commands.
		if dir, err := stateDir(f); err == nil {
			authOpts.SignIns = signInStore(dir)
			authOpts.Notify = func(msg string) { say(f.IO.ErrOut, msg) }
		}
	}
	authOpts.HTTPClient = conn.HTTP
	if authOpts.Method == auth.MethodEnv && authOpts.Getenv != nil {
		// --auth env signs in with the secret when one is set.
		s := authOpts.Getenv("AZURE_CLIENT_SECRET")
		conn.SecretHint = s[:min(3, len(s))]
	}
	if o.Verbose {
		conn.Trace = f.IO.ErrOut
		authOpts.Trace = conn.Trace
	}
	cred, err := auth.NewCredential(authOpts)
	if err != nil {
		conn.Close()
		if se := (*auth.SignInError)(nil); errors.As(err, &se) && se.Input {
			return nil, exit.UsageError(err)
		}
		return nil, exit.WithCode(exit.Failed, err)
	}
	gopts := graph.Options{Endpoint: o.Cloud.GraphEndpoint, HTTPClient: conn.HTTP, OnRetry: conn.retried}
	if conn.Trace != nil {
		gopts.Trace = conn.Trace
	}
	client, err := graph.New(cred, gopts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.Graph = client
	conn.Journal = openJournal(f)
	return conn, nil
}
