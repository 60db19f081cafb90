// Package exit maps errors to entra-link's exit codes (design.md §3).
package exit

import (
	"errors"
	"fmt"
)

// Exit codes, design.md §3.
const (
	OK        = 0   // done
	Failed    = 1   // failed; the message says what was and was not changed
	Usage     = 2   // bad input or usage; nothing in the tenant was changed
	Problems  = 3   // verify found problems
	Pending   = 4   // done, but an admin action is still needed (consent URL given)
	Cancelled = 130 // cancelled by the user
)

// Error carries an exit code. Silent errors have already been reported to
// the user (e.g. by a renderer) and print nothing more.
type Error struct {
	Code   int
	Err    error
	Silent bool
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// UsageErrorf is a bad-input error (exit 2).
func UsageErrorf(format string, a ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, a...)}
}

// UsageError wraps err as a usage error (exit 2).
func UsageError(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: Usage, Err: err}
}

// WithCode wraps err with the given exit code.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// SilentCode is an error that only sets the exit code: the output already
// told the user everything.
func SilentCode(code int) error { return &Error{Code: code, Silent: true} }

// ErrCancelled is returned when the user cancels (Ctrl-C, Esc).
var ErrCancelled = &Error{Code: Cancelled, Err: errors.New("cancelled")}

// Code returns the exit code for err: 0 for nil, the code of a wrapped
// *Error, otherwise 1.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}

// IsSilent reports whether err should be printed.
func IsSilent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Silent
}
