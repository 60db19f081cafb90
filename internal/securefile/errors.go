package securefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Error is a write that failed, in words: "cannot write PATH: REASON". It
// wraps the system's error (errors.Is(err, fs.ErrNotExist) still works)
// but never shows it, since it would name the temporary file.
type Error struct {
	// Op is what could not be done ("create the directory"; "" = write).
	Op     string
	Path   string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	op := e.Op
	if op == "" {
		op = "write"
	}
	return "cannot " + op + " " + e.Path + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// dirReason says why no file could be created in dir.
func dirReason(dir string, err error) string {
	shown := "the directory " + filepath.Clean(dir)
	if dir == "." || dir == "" {
		shown = "the current directory"
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return shown + " does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "you may not create files in " + shown
	case errors.Is(err, syscall.ENOTDIR):
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return filepath.Clean(dir) + " is a file, not a directory"
		}
		return "a part of " + filepath.Clean(dir) + " is a file, not a directory"
	}
	return reason(err) + " (in " + shown + ")"
}

// Reason says in words what a system error means, without the paths it
// carries ("it does not exist", "permission denied").
func Reason(err error) string { return reason(err) }

func reason(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, syscall.ENOSPC):
		return "no space left on the device"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only"
	case errors.Is(err, syscall.EISDIR):
		return "it is a directory"
	case errors.Is(err, syscall.EDQUOT):
		return "the disk quota is exceeded"
	case errors.As(err, &errno):
		return errno.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return reason(pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return reason(le.Err)
	}
	return err.Error()
}
