package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/inputfile"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// maxTenantsFile bounds --tenants-file: a line per tenant, thousands of
// tenants in well under a megabyte.
const maxTenantsFile = 1 << 20

// targets validates --tenant (repeated) and --tenants-file, offline. One
// --tenant and no file is a run in that tenant (Tenant); anything else is
// a run across several tenants (Targets), even when the file holds one
// line, so that a script gets the same output whatever its list's length.
func (o *TenantOptions) targets() error {
	if o.TenantsFile == "" && len(o.Tenants) <= 1 {
		if len(o.Tenants) == 1 {
			o.Tenant = o.Tenants[0]
		}
		return nil
	}
	seen := map[string]string{} // lower-case tenant → where it was given
	add := func(value, where string) error {
		if !profile.IsGUID(value) && !isDomain(value) {
			return exit.UsageErrorf("%s: invalid tenant %q: want a tenant ID (GUID) or a verified domain such as contoso.onmicrosoft.com", where, value)
		}
		k := strings.ToLower(value)
		if first, dup := seen[k]; dup {
			return exit.UsageErrorf("%s: %s is listed twice (first at %s): list each tenant once", where, value, first)
		}
		seen[k] = where
		o.Targets = append(o.Targets, value)
		return nil
	}
	for _, t := range o.Tenants {
		if err := add(strings.TrimSpace(t), "--tenant"); err != nil {
			return err
		}
	}
	if o.TenantsFile != "" {
		data, err := inputfile.Read(o.TenantsFile, maxTenantsFile)
		if err != nil {
			return exit.UsageErrorf("--tenants-file %s", fileProblem(o.TenantsFile, err))
		}
		for i, line := range strings.Split(string(data), "\n") {
			if k := strings.IndexByte(line, '#'); k >= 0 {
				line = line[:k]
			}
			line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
			if line == "" {
				continue
			}
			if err := add(line, fmt.Sprintf("%s:%d", o.TenantsFile, i+1)); err != nil {
				return err
			}
		}
		if len(o.Targets) == 0 {
			return exit.UsageErrorf("--tenants-file %s lists no tenant: write one tenant ID or verified domain per line", o.TenantsFile)
		}
	}
	o.Tenant = ""
	return nil
}

// fileProblem is why a file the user named cannot be read, in words
// that follow its name.
func fileProblem(path string, err error) string {
	var ie *inputfile.Error
	switch {
	case errors.As(err, &ie):
		return path + " " + ie.Msg
	case errors.Is(err, fs.ErrNotExist):
		return path + " does not exist"
	case errors.Is(err, fs.ErrPermission):
		return path + " cannot be read: permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return path + " cannot be read: " + pe.Err.Error()
	}
	return path + " cannot be read: " + err.Error()
}

// checkOutputDir checks --output-file across several tenants: a directory
// that exists, or whose parent does (it is created, 0700, before the
// first file). Each tenant's own file is checked by its plan.
func checkOutputDir(dir string) string {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return ""
	case err == nil:
		return fmt.Sprintf("--output-file %s is a file; across several tenants --output-file names a directory, which gets one file per tenant", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return "--output-file " + fileProblem(dir, err)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if pi, err := os.Stat(parent); err != nil || !pi.IsDir() {
		return fmt.Sprintf("--output-file: the directory %s does not exist, nor does %s to create it in", dir, parent)
	}
	return ""
}

// tenantFile is a tenant's own file in the --output-file directory: the
// tenant as given (a GUID or domain, safe as a file name), lower-case,
// with the extension of the format.
func tenantFile(dir, tenant, format string, p *profile.Profile) string {
	ext := ".txt"
	switch format {
	case output.FormatJSON:
		ext = ".json"
	case output.FormatEnv:
		ext = ".env"
	case output.FormatHandover:
		if p != nil && p.Handover.Format == "json" {
			ext = ".json"
		}
	}
	return filepath.Join(dir, strings.ToLower(tenant)+ext)
}
