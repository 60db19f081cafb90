// Package securefile writes files that hold secrets (client secrets,
// private keys, hand-over documents): mode 0600, atomically, and never over
// an existing file unless the caller says so.
//
// Every write goes to a temporary file in the target's directory, is
// fsynced, and is then moved into place, so a reader or a crash sees either
// the old content or the complete new content, never a prefix of it. The
// temporary file is itself 0600 from the moment it exists, so the secret is
// never readable by others, not even briefly.
//
// Symbolic links: the last element of path is never followed. Without
// force, a symlink there (even a dangling one) counts as an existing file
// and is refused. With force, the link itself is replaced by a regular file
// and whatever it pointed to is left untouched; so a secret always lands
// exactly at the path that was named, never where somebody else's link
// points. Symlinks in the directory part of path are followed as usual.
//
// Directories, devices, FIFOs and sockets at path are refused even with
// force: replacing them is never what "write the output there" means.
//
// Errors name the path in words ("cannot write out.json: the directory
// ./results does not exist") and never contain the data or the name of a
// temporary file.
package securefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretPerm is the mode of every file written by WriteFile and Replace.
const SecretPerm fs.FileMode = 0o600

// ErrExists is wrapped by the error returned when the target already exists
// and force was not given.
var ErrExists = errors.New("file already exists")

// WriteFile writes data to path with mode 0600, atomically (temp in same dir,
// fsync, rename), refusing to replace an existing file unless force. If the
// target exists and force is set, the replacement is still 0600 regardless of
// the old mode. See the package documentation for symlinks.
func WriteFile(path string, data []byte, force bool) error {
	return write(path, data, SecretPerm, force)
}

// WriteFileMode is WriteFile for files that are not secret but belong with
// one, such as the public certificate written next to its private key. perm
// is applied exactly (with chmod, so the umask neither widens nor narrows it);
// everything else behaves as in WriteFile.
func WriteFileMode(path string, data []byte, perm fs.FileMode, force bool) error {
	if perm&^fs.ModePerm != 0 {
		return fmt.Errorf("cannot write %s: mode %v has bits beyond the permission bits", path, perm)
	}
	return write(path, data, perm, force)
}

// Replace atomically rewrites a file this process created earlier (no force
// needed). The file must still be a regular file: if it has disappeared or
// has been swapped for a symlink or anything else in the meantime, Replace
// refuses instead of writing the secret to whatever is there now. The
// rewritten file is 0600.
func Replace(path string, data []byte) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return &Error{Path: path, Reason: "it is gone: " + reason(err), Err: err}
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot rewrite %s: it is no longer a regular file (now a %s); not writing to it", path, describe(fi.Mode()))
	}
	return writeAtomic(path, data, SecretPerm, true)
}

func write(path string, data []byte, perm fs.FileMode, force bool) error {
	if path == "" {
		return errors.New("cannot write a file with an empty name")
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if !force {
			return existsError(path)
		}
		m := fi.Mode()
		if !m.IsRegular() && m&fs.ModeSymlink == 0 {
			return fmt.Errorf("cannot write %s: it is a %s, and entra-link does not replace one, even with --force", path, describe(m))
		}
	case errors.Is(err, fs.ErrNotExist):
		// Created below.
	default:
		return &Error{Path: path, Reason: dirReason(filepath.Dir(path), err), Err: err}
	}
	err = writeAtomic(path, data, perm, force)
	if errors.Is(err, ErrExists) {
		return existsError(path)
	}
	return err
}

func existsError(path string) error {
	return fmt.Errorf("refusing to overwrite %s: %w (use --force to replace it)", path, ErrExists)
}

// writeAtomic does the temp-file dance. With replace false it must not
// clobber a file that appeared after the caller's Lstat, so the temp file is
// hard-linked into place (link fails if the name exists) rather than renamed.
func writeAtomic(path string, data []byte, perm fs.FileMode, replace bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp opens with 0600, so the secret is private before the
	// first byte is written, whatever the umask.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return &Error{Path: path, Reason: dirReason(dir, err), Err: err}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	// Chmod by descriptor so the mode is exact (umask only ever narrows the
	// CreateTemp mode, and a public companion file needs it widened).
	fail := func(e error) error { return &Error{Path: path, Reason: reason(e), Err: e} }
	if err = f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err = f.Write(data); err != nil {
		return fail(err)
	}
	if err = f.Sync(); err != nil {
		return fail(err)
	}
	if err = f.Close(); err != nil {
		return fail(err)
	}
	if replace {
		if err = os.Rename(tmp, path); err != nil {
			return fail(err)
		}
	} else if err = linkNoReplace(tmp, path); err != nil {
		if errors.Is(err, ErrExists) {
			return err
		}
		return fail(err)
	}
	syncDir(dir)
	return nil
}

// hardLink is os.Link; tests swap it to exercise the fallback for file
// systems without hard links.
var hardLink = os.Link

// linkNoReplace moves tmp to path unless path exists, without a window in
// which another process could create path and have it overwritten.
func linkNoReplace(tmp, path string) error {
	lerr := hardLink(tmp, path)
	if lerr == nil {
		if err := os.Remove(tmp); err != nil {
			// path is complete and in place; only a second name for the
			// same data is left, which the user must know of to delete it.
			return &Error{Path: path, Reason: fmt.Sprintf("it was written, but its temporary copy %s next to it could not be removed (%s); delete it, it holds the same data", filepath.Base(tmp), reason(err)), Err: err}
		}
		return nil
	}
	if errors.Is(lerr, fs.ErrExist) {
		_ = os.Remove(tmp)
		return ErrExists
	}
	// Some file systems (vfat, several FUSE and network mounts) have no hard
	// links. Fall back to check-then-rename: the race it leaves needs a
	// concurrent writer on the same name, which the Lstat before already
	// made unlikely.
	if _, err := os.Lstat(path); err == nil {
		_ = os.Remove(tmp)
		return ErrExists
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return errors.Join(err, lerr)
	}
	return nil
}

// syncDir makes the new directory entry durable. It is best effort: the file
// is already complete and in place, and some platforms (Windows) and file
// systems cannot fsync a directory; failing the write at this point would
// only make a retry trip over the file we just wrote.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "non-regular file"
	}
}
