package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/entra-link/entra-link/internal/exit"
)

// Main runs entra-link with args and returns the process exit code.
func Main(f *Factory, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, f, args)
}

// Run executes the command tree and maps the outcome to an exit code,
// printing errors to stderr.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exit.OK
	}
	err = usageWords(root, err)
	code := exit.Code(err)
	if code == exit.Failed && IsUsageError(err) {
		code = exit.Usage
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		code = exit.Cancelled
	}
	if !exit.IsSilent(err) {
		printError(f.IO.ErrOut, err)
	}
	return code
}
