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
// goes away. The steps under way finish (a secret being created is never
// abandoned), nothing new starts, a created secret is delivered, exit 130.
// Later signals are caught too, so they cannot kill the run midway. While
// an apply is under way, the first one is acknowledged (see newDelivery).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Main runs entra-link with args and returns the process exit code.
func Main(f *Factory, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	return Run(ctx, f, args)
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
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exit.OK
	}
	err = usageWords(root, err)
	code = exit.Code(err)
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
	if !exit.IsSilent(err) {
		printError(f.IO.ErrOut, err)
	}
	return code
}
