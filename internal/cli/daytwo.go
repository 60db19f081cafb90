package cli

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
)

// What the day-2 commands (apps list, verify, rotate-secret,
// rotate-certificate, retire, delete) share: checking their flags before
// signing in, asking before a change, printing the result, the exit.

// dayTwoRunE is the RunE of a day-2 command: the tenant flags checked,
// then check (the command's own flags, before signing in), then run with
// the context and the tenant flags of the commands it suggests set.
func dayTwoRunE(f *Factory, t *TenantOptions, ctx *context.Context, fixArgs *[]string, check, run func() error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := t.validate(f, cmd.Flags()); err != nil {
			return err
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		*ctx = cmd.Context()
		*fixArgs = tenantFlags(t, cmd.Flags())
		return run()
	}
}

// textOrJSON refuses an --output other than text or json.
func textOrJSON(command, format string) error {
	if format != output.FormatText && format != output.FormatJSON {
		return exit.UsageErrorf("invalid value %q for --output: %s prints text or json", format, command)
	}
	return nil
}

// report renders v as --output says — JSON, or text by text at the width
// of where it goes — and sends it to --output-file or stdout.
func report(f *Factory, t *TenantOptions, v any, text func(w io.Writer, st output.Style, width int)) error {
	var b bytes.Buffer
	if t.Output == output.FormatJSON {
		if err := writeJSON(&b, v); err != nil {
			return err
		}
	} else {
		st := output.Style{Color: t.OutputFile == "" && f.IO.ColorEnabled() && f.IO.IsStdoutTTY()}
		width := layout.DefaultWidth
		if t.OutputFile == "" {
			width = layout.Width(f.IO.Out)
		}
		text(&b, st, width)
	}
	return writeOutput(f, t, b.Bytes())
}

// confirm shows header and body on stderr and asks question, yes and no
// naming the answers; with --yes (assume) it shows them and goes on. Where
// it cannot ask it shows them and refuses with refusal (exit 2). false:
// the answer was no.
func confirm(ctx context.Context, f *Factory, t *TenantOptions, assume bool, header, body []string, question, yes, no, refusal string) (bool, error) {
	switch {
	case assume:
		sayLines(f.IO.ErrOut, append(header, body...)...)
		return true, nil
	case !f.IO.CanPrompt():
		sayLines(f.IO.ErrOut, append(header, body...)...)
		return false, exit.UsageErrorf("%s", refusal)
	}
	return confirmScreen(ctx, f, t, header, body, question, yes, no, false)
}

// outcome is the exit of a change whose result has been delivered: 0, 130
// when a signal stopped it, else 1; msg (the result's error) is said
// unless the text on stdout says it already.
func outcome(ctx context.Context, t *TenantOptions, applyErr error, msg string) error {
	switch {
	case applyErr == nil:
		return nil
	case ctx.Err() != nil && errors.Is(applyErr, ctx.Err()):
		return exitWith(t, exit.Cancelled, msg)
	}
	return exitWith(t, exit.Failed, msg)
}

// stepMark is a carried-out step's status as a mark: ✓ done, ✗ failed,
// ! interrupted, blank for a step that did not run.
func stepMark(st output.Style, status string) string {
	switch status {
	case output.StepDone:
		return st.Green("✓")
	case output.StepFailed:
		return st.Red("✗")
	case output.StepInterrupted:
		return st.Yellow("!")
	}
	return " "
}
