package certs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// MaxPasswordBytes bounds what ReadPasswordFile reads.
const MaxPasswordBytes = 1024

// passwordReadTimeout bounds the wait for a pipe's writer.
const passwordReadTimeout = 10 * time.Second

// ReadPasswordFile reads a password from a file: its first line, without
// the line ending. The file may be a regular file or a pipe (such as the
// shell's <(pass show pfx)); anything else is refused, and at most
// MaxPasswordBytes are read, so a wrong path fails fast. Errors never
// contain the file's content.
func ReadPasswordFile(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s does not exist", path)
	case err != nil:
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	case fi.IsDir():
		return "", fmt.Errorf("%s is a directory, not a file holding the password", path)
	case !fi.Mode().IsRegular() && fi.Mode()&fs.ModeNamedPipe == 0:
		return "", fmt.Errorf("%s is not a regular file or a pipe; put the password in a file", path)
	}
	f, err := openPassword(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	// A pipe whose writer never writes must not hang the run.
	_ = f.SetReadDeadline(time.Now().Add(passwordReadTimeout))
	b, err := io.ReadAll(io.LimitReader(f, MaxPasswordBytes+1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "", fmt.Errorf("%s gave no password within %s", path, passwordReadTimeout)
	case err != nil:
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	case len(b) > MaxPasswordBytes:
		return "", fmt.Errorf("%s is longer than %d bytes: is it the file holding the password?", path, MaxPasswordBytes)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("%s is empty; put the password in it", path)
	case bytes.ContainsAny(b, "\r\n"):
		return "", fmt.Errorf("%s holds more than one line; put only the password in it", path)
	}
	return string(b), nil
}
