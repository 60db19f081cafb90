package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/entra-link/entra-link/internal/exit"
)

// stopSignals all stop a run the same way (design.md §3): Ctrl-C, a
// service manager's SIGTERM, and SIGHUP when the SSH session or terminal
// goes away. The steps under way finish (a secret being created is not
// abandoned), nothing new starts, a created secret is delivered, exit 130.
// Later signals are caught too, so they cannot kill the run midway; a
// second one stops the wait for a secret being added (its journal record
// stays open, so the next run removes it if Entra made it). While an apply
// is under way, the signals are acknowledged (see newDelivery).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Main runs entra-link with args and returns the process exit code. The
// first stop signal cancels the run's context; a second one, for the
// admin who will not wait, ends the wait for a secret being added too
// (see insisted).
func Main(f *Factory, args []string) int {
	// A closed standard output (`… -o json | head -0`, a reader that
	// died) must not end the run by SIGPIPE after a secret was created:
	// the write fails instead, and that is a delivery failure (final).
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	insist, stopWaiting := context.WithCancelCause(context.Background())
	defer stopWaiting(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for n := 0; ; n++ {
			select {
			case sig := <-sigs:
				cause := signalStop(sig.String() + " signal received")
				if n == 0 {
					stop(cause)
				} else {
					stopWaiting(cause)
				}
			case <-done:
				return
			}
		}
	}()
	return Run(withInsisted(ctx, insist), f, args)
}

// signalStop is a stop signal as the run's cause, worded as os/signal's
// NotifyContext words it; like that one, it is a cancellation.
type signalStop string

func (s signalStop) Error() string { return string(s) }

func (s signalStop) Is(target error) bool { return target == context.Canceled }

type insistKey struct{}

// withInsisted makes insist the context that ends when the user insists on
// stopping (a second signal).
func withInsisted(ctx context.Context, insist context.Context) context.Context {
	return context.WithValue(ctx, insistKey{}, insist)
}

// insisted is done when the user has insisted on stopping the run (a
// second Ctrl-C, SIGTERM or SIGHUP); nil when nobody can.
func insisted(ctx context.Context) context.Context {
	c, _ := ctx.Value(insistKey{}).(context.Context)
	return c
}

// Run executes the command tree and maps the outcome to an exit code,
// printing errors to stderr. A panic ends it as an internal error (exit 1)
// after any secret the run created has been delivered.
func Run(ctx context.Context, f *Factory, args []string) (code int) {
	k := &keeper{}
	ctx = context.WithValue(ctx, keeperKey{}, k)
	defer func() {
		if v := recover(); v != nil {
			code = k.recovered(f, v)
		}
	}()
	root := NewRootCmd(f)
	root.SetArgs(args)
	if c, _, err := root.Find(args); err == nil {
		onceFlags(c)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exit.OK
	}
	err = usageWords(root, err)
	code = exitCode(ctx, err)
	if !exit.IsSilent(err) {
		printError(f.IO.ErrOut, err)
	}
	return code
}

// exitCode is the exit status for err (design.md §3); ctx is the run's.
func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exit.OK
	}
	code := exit.Code(err)
	if code == exit.Failed && IsUsageError(err) {
		code = exit.Usage
	}
	// Stopped by a signal (or the caller): whatever failed after it failed
	// because of it.
	if ctx.Err() != nil && (code == exit.Failed || errors.Is(err, context.Canceled)) {
		var ie *internalError
		if !errors.As(err, &ie) {
			code = exit.Cancelled
		}
	}
	return code
}
