// Package inputfile reads the files users name (--certificate-file,
// --profile-file, AZURE_CLIENT_CERTIFICATE_PATH) so that no name can make
// entra-link hang or fill its memory: only regular files are opened (a
// FIFO would block the open, a terminal or /dev/zero the read), opened
// without blocking, and read only up to a limit.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Errors wrapped by *Error.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
)

// Error says why a file was refused. Error() is a phrase to follow the
// file's name, e.g. "is a named pipe (FIFO), not a file".
type Error struct {
	Path string
	Err  error // ErrNotRegular or ErrTooLarge
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func (e *Error) Unwrap() error { return e.Err }

// Read returns the contents of the regular file at path (symbolic links
// followed) if it holds at most limit bytes. Other errors are the os
// package's (*fs.PathError: not found, permission denied).
func Read(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, fi, limit); err != nil {
		return nil, err
	}
	// Non-blocking, in case path was swapped for a FIFO since the Stat.
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	ofi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := check(path, ofi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

func check(path string, fi fs.FileInfo, limit int64) error {
	m := fi.Mode()
	if !m.IsRegular() {
		msg := "is not a regular file"
		if k := kind(m); k != "" {
			msg = "is " + k + ", not a file"
		}
		return &Error{Path: path, Err: ErrNotRegular, Msg: msg}
	}
	if fi.Size() > limit {
		return tooLarge(path, limit)
	}
	return nil
}

func tooLarge(path string, limit int64) error {
	return &Error{Path: path, Err: ErrTooLarge, Msg: fmt.Sprintf("is larger than %s", size(limit))}
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return ""
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
