package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/entra-link/entra-link/internal/certs"
)

// The local preconditions of a run, checked before the first write to the
// tenant: each returns the problem in words, or "".

// CheckOutputFile checks --output-file: its directory exists and is
// writable, the file is not a directory, and it is new — or, with --force, a regular file
// that does not hold the only copy of a secret this run keeps. It returns
// the problem in words, or "". Commands check it before they sign in; the
// plan checks it again knowing whether the run keeps a secret.
func CheckOutputFile(path string, force, keepsSecret bool) string {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Sprintf("--output-file %s cannot be checked: %s", path, pathError(err))
	case fi.IsDir():
		return fmt.Sprintf("--output-file %s is a directory; name a file, e.g. %s", path, filepath.Join(path, "result.json"))
	case !force:
		return fmt.Sprintf("--output-file %s already exists, and entra-link does not overwrite files that may hold secrets: choose another name, or add --force", path)
	case keepsSecret:
		return fmt.Sprintf("--output-file %s exists and may hold the app's client secret from an earlier run — the only copy, since this run keeps that secret and cannot read it back: choose another file, or add --new-credential for a new secret", path)
	case !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0:
		return fmt.Sprintf("--output-file %s is not a regular file; entra-link replaces only regular files, even with --force", path)
	}
	return writableDir("--output-file", filepath.Dir(path), false)
}

// checkCertificateOut: --certificate-out is a directory (or can be made
// one) that can take the key files, none of which exists unless --force.
func checkCertificateOut(dir string, names certs.Written, force bool) string {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writableDir("--certificate-out", dir, true)
	case err != nil:
		return fmt.Sprintf("--certificate-out %s cannot be checked: %s", dir, pathError(err))
	case !fi.IsDir():
		return fmt.Sprintf("--certificate-out %s is a file, not a directory: name a directory for the key pair (it is created if missing)", dir)
	}
	var existing []string
	for _, p := range []string{names.KeyPath, names.CertPath, names.PFXPath, names.BundlePath} {
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if force && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
			return fmt.Sprintf("--certificate-out: %s is not a regular file; entra-link replaces only regular files, even with --force", p)
		}
		existing = append(existing, filepath.Base(p))
	}
	if len(existing) > 0 && !force {
		return fmt.Sprintf("--certificate-out %s already holds %s (a key pair from an earlier run?). To upload that certificate run with --certificate-file %s; to replace the files add --force; or choose another directory",
			dir, strings.Join(existing, ", "), names.CertPath)
	}
	return writableDir("--certificate-out", dir, false)
}

// writableDir checks that files can be created in dir; when create, dir
// may be missing and is then checked at its nearest existing ancestor.
func writableDir(flag, dir string, create bool) string {
	if dir == "" {
		dir = "."
	}
	at := dir
	for {
		fi, err := os.Stat(at)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Sprintf("%s: %s is not a directory", flag, at)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("%s: %s cannot be checked: %s", flag, at, pathError(err))
		}
		if !create {
			return fmt.Sprintf("%s: the directory %s does not exist; create it first or choose another path", flag, dir)
		}
		parent := filepath.Dir(at)
		if parent == at {
			return fmt.Sprintf("%s: no part of %s exists", flag, dir)
		}
		at = parent
	}
	// Creating a file is the only honest test of writability (ACLs,
	// read-only mounts); the probe is removed at once.
	f, err := os.CreateTemp(at, ".entra-link-check-*")
	if err != nil {
		return fmt.Sprintf("%s: cannot create files in %s: %s", flag, at, pathError(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return ""
}

// pathError is an error about a path in words, without Go's operation
// prefix or temporary file names.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "it does not exist"
	}
	return err.Error()
}

// sameFile returns the one of paths that names the same file as path
// ("" when none, or path is ""), compared as absolute, cleaned paths.
func sameFile(path string, paths ...string) string {
	if path == "" {
		return ""
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return filepath.Clean(p)
	}
	want := abs(path)
	for _, p := range paths {
		if abs(p) == want {
			return p
		}
	}
	return ""
}
