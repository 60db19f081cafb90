package cli

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/sandbox"
)

// SandboxOptions are the flags of `entra-link sandbox`.
type SandboxOptions struct {
	f                *Factory
	Listen           string
	StateDir         string
	Latency          time.Duration
	ThrottleEvery    int
	FailEvery        int
	ReplicationDelay time.Duration
	VerifiedDomains  []string
	AddTenants       []string
}

// NewCmdSandbox builds `entra-link sandbox`.
func NewCmdSandbox(f *Factory, runF func(*SandboxOptions) error) *cobra.Command {
	opts := &SandboxOptions{f: f}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local emulated tenant (Entra sign-in + Microsoft Graph) for trying entra-link",
		Long: `Run an emulated Microsoft Entra tenant on this machine: an Entra token endpoint and
Microsoft Graph v1.0 over TLS, behaving as the real services document. Nothing here is a
real tenant.

It writes, in --state-dir:
  ca.pem       the CA that signed the server certificate (trust it with SSL_CERT_FILE,
               NODE_EXTRA_CA_CERTS or REQUESTS_CA_BUNDLE)
  tenant.json  tenantId, tenantDomain, authorityHost, graphEndpoint and a bootstrap admin
               service principal's clientId and clientSecret (Global Administrator);
               with --add-tenant, the further tenants (tenants[].tenantId), where the
               same clientId and clientSecret sign in too

The same state directory keeps the same tenant, credentials and objects across restarts.
The server certificate also covers the Microsoft sign-in and Graph host names of all four
clouds, so unmodified Microsoft clients work against it when those names resolve to it.

Every other command runs the same emulator in-process with --sandbox.`,
		Example: `  entra-link sandbox --listen 127.0.0.1:8443 --state-dir ./sandbox

  # Then, in another shell, point entra-link (or any MSAL client) at it:
  export SSL_CERT_FILE=./sandbox/ca.pem
  export AZURE_TENANT_ID=$(jq -r .tenantId sandbox/tenant.json)
  export AZURE_CLIENT_ID=$(jq -r .clientId sandbox/tenant.json)
  export AZURE_CLIENT_SECRET=$(jq -r .clientSecret sandbox/tenant.json)
  entra-link setup --profile entitle --auth env \
    --authority-host https://127.0.0.1:8443 --graph-endpoint https://127.0.0.1:8443

  # Two more tenants, for setup across several tenants (an MSP's customers): the
  # bootstrap admin is a multi-tenant app with a service principal in each
  entra-link sandbox --state-dir ./sandbox --add-tenant Fabrikam --add-tenant Northwind
  jq -r '.tenants[].tenantId' sandbox/tenant.json > tenants.txt
  entra-link setup --profile entitle --auth env --yes --tenants-file tenants.txt \
    --output-file ./handovers --authority-host https://127.0.0.1:8443 \
    --graph-endpoint https://127.0.0.1:8443

  # Exercise retries: slow, throttled, flaky and eventually consistent
  entra-link sandbox --state-dir ./sandbox --latency 100ms --throttle-every 7 --fail-every 11 --replication-delay 3s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
				return exit.UsageErrorf("invalid value %q for --listen: want HOST:PORT, e.g. 127.0.0.1:8443", opts.Listen)
			}
			if opts.StateDir == "" {
				return exit.UsageErrorf("--state-dir is required: the directory for ca.pem, tenant.json and the tenant's objects")
			}
			if opts.Latency < 0 || opts.ReplicationDelay < 0 || opts.ThrottleEvery < 0 || opts.FailEvery < 0 {
				return exit.UsageErrorf("fault flags must not be negative (--latency, --replication-delay, --throttle-every, --fail-every)")
			}
			if err := checkStateDir(opts.StateDir); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			so := sandbox.Options{
				StateDir: opts.StateDir, Listen: opts.Listen, Latency: opts.Latency, ThrottleEvery: opts.ThrottleEvery,
				FailEvery: opts.FailEvery, ReplicationDelay: opts.ReplicationDelay, VerifiedDomains: opts.VerifiedDomains,
			}
			for _, n := range opts.AddTenants {
				if strings.TrimSpace(n) == "" {
					return exit.UsageErrorf("--add-tenant needs a display name, e.g. --add-tenant Fabrikam")
				}
				so.Tenants = append(so.Tenants, sandbox.TenantSpec{DisplayName: strings.TrimSpace(n)})
			}
			return sandbox.Serve(cmd.Context(), so, f.IO.Out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8443", "address to listen on")
	fl.StringVar(&opts.StateDir, "state-dir", "", "directory for the CA, tenant.json and the tenant's objects (required)")
	fl.DurationVar(&opts.Latency, "latency", 0, "added latency per request, e.g. 100ms")
	fl.IntVar(&opts.ThrottleEvery, "throttle-every", 0, "answer every Nth Graph request with 429 and Retry-After")
	fl.IntVar(&opts.FailEvery, "fail-every", 0, "answer every Nth Graph request with 503")
	fl.DurationVar(&opts.ReplicationDelay, "replication-delay", 0, "how long new objects stay invisible to other collections, e.g. 3s")
	fl.StringArrayVar(&opts.VerifiedDomains, "verified-domain", nil, "extra verified domain of the tenant; repeatable")
	fl.StringArrayVar(&opts.AddTenants, "add-tenant", nil, "a further tenant with this display name (made once, kept in --state-dir); repeatable")
	_ = cmd.MarkFlagDirname("state-dir")
	return cmd
}

// checkStateDir makes sure --state-dir is a directory entra-link can
// keep the sandbox in (creating it when missing): anything else is bad
// input, said in words.
func checkStateDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return exit.UsageErrorf("--state-dir %s is not a directory: give a directory for the sandbox's files (one that does not exist yet is created)", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return exit.UsageErrorf("--state-dir %s cannot be created: %s", dir, pathWords(pe))
		}
		return exit.UsageErrorf("--state-dir %s cannot be created", dir)
	}
	return nil
}
