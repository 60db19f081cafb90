package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
)

// RotateCertOptions are the flags of `entra-link rotate-certificate`.
type RotateCertOptions struct {
	f *Factory
	TenantOptions
	App             AppSelector
	CertificateFile string
	CertificateOut  string
	PFXPasswordFile string
	Yes             bool
	DryRun          bool

	ctx         context.Context
	fixArgs     []string
	pfxPassword string
}

// NewCmdRotateCertificate builds `entra-link rotate-certificate`.
func NewCmdRotateCertificate(f *Factory, runF func(*RotateCertOptions) error) *cobra.Command {
	opts := &RotateCertOptions{f: f}
	cmd := &cobra.Command{
		Use:   "rotate-certificate",
		Short: "Add a new certificate to an app (the old ones keep working until retired)",
		Long: `Add a new certificate to an app whose product signs in with one (Hire2Retire): upload a
certificate you have (--certificate-file, e.g. the one the product gave you; public part only),
or generate a new key pair here (--certificate-out DIR). The app's other certificates are kept,
so the product can be switched to the new one without downtime; once it uses it, remove the old
ones with entra-link retire.

A generated key pair is written to DIR before the certificate is uploaded: the private key
(.key.pem, mode 0600), the certificate (.cert.pem), a PFX (.pfx; --pfx-password-file protects
it) and certificate plus key in one PEM (.bundle.pem, what AZURE_CLIENT_CERTIFICATE_PATH takes).
Existing files are not overwritten unless --force.

The tenant's app management policy is applied first where the signed-in identity may read it
(Policy.Read.All): a generated certificate is made no longer than it allows; an uploaded one that
is valid longer is refused before anything changes (exit 2).

The certificate is added by updating the app's certificates (read, merged, written back). When
entra-link is signed in as the app itself (--auth env with its current certificate in
AZURE_CLIENT_CERTIFICATE_PATH), which may not update its own registration, it is added with
addKey, proven by that certificate.

Adding a certificate is additive: no confirmation is asked (--yes is accepted and changes
nothing). Without --app-id or --name, or without --certificate-file or --certificate-out, it asks
on a terminal; with --no-input a missing one is an error.`,
		Example: `  # Generate a new key pair for Hire2Retire; the old certificate keeps working
  entra-link rotate-certificate --name Hire2Retire --certificate-out ./h2r-2027

  # Upload the certificate Hire2Retire gave you, see the plan first
  entra-link rotate-certificate --name Hire2Retire --certificate-file hire2retire.cer --dry-run

  # Once Hire2Retire uses the new certificate, retire the old one
  entra-link retire --name Hire2Retire`,
		Args: noArgs,
		RunE: dayTwoRunE(f, &opts.TenantOptions, &opts.ctx, &opts.fixArgs, func() error {
			if err := opts.App.validate(opts.NoInput); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			return nil
		}, func() error {
			if runF != nil {
				return runF(opts)
			}
			return rotateCertRun(opts)
		}),
	}
	opts.TenantOptions.register(cmd, true)
	opts.App.register(cmd, "add the certificate to")
	fl := cmd.Flags()
	fl.StringVar(&opts.CertificateFile, "certificate-file", "", "upload this certificate (PEM or DER .cer/.crt/.pem; public part only)")
	fl.StringVar(&opts.CertificateOut, "certificate-out", "", "generate a key pair in this directory (key 0600, certificate, PFX, bundle)")
	fl.StringVar(&opts.PFXPasswordFile, "pfx-password-file", "", "file holding the password for the generated PFX (its first line; a file, never a value on the command line)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "accepted for scripts; adding a certificate never asks for confirmation")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan (the new certificate, the old ones kept) and change nothing")
	fl.Lookup("force").Usage = "allow --output-file and the generated key files to overwrite existing files"
	_ = cmd.MarkFlagFilename("certificate-file", "cer", "crt", "pem", "der")
	_ = cmd.MarkFlagDirname("certificate-out")
	_ = cmd.MarkFlagFilename("pfx-password-file")
	return cmd
}

// validate checks the certificate flags, before signing in.
func (o *RotateCertOptions) validate() error {
	switch {
	case o.CertificateFile != "" && o.CertificateOut != "":
		return exit.UsageErrorf("give either --certificate-file (upload a certificate you have) or --certificate-out (generate a key pair here), not both")
	case o.CertificateFile == "" && o.CertificateOut == "" && o.NoInput:
		return exit.UsageError(&profile.MissingError{Missing: []profile.Missing{{Flag: "--certificate-file or --certificate-out",
			Description: "the certificate to upload, or a directory to generate a key pair in"}}})
	case o.DryRun && (o.Output == output.FormatEnv || o.Output == output.FormatHandover):
		return exit.UsageErrorf("--output %s needs the values of a real run; with --dry-run use --output text or json", o.Output)
	}
	if o.PFXPasswordFile != "" {
		if o.CertificateFile != "" {
			return exit.UsageErrorf("%s", pfxWithFile)
		}
		pw, err := readPFXPasswordFile(o.PFXPasswordFile)
		if err != nil {
			return err
		}
		o.pfxPassword = pw
	}
	return nil
}

// certificateUnavailable: rotate-certificate cannot give a certificate to
// an app whose product signs in with a client secret only.
func certificateUnavailable(a setup.AppSummary) string {
	if a.Profile == "" {
		return ""
	}
	p, err := profile.Builtin(a.Profile)
	if err != nil || p.AllowsCredential(profile.CredentialCertificate) {
		return ""
	}
	return p.Product + " authenticates with a client secret, not a certificate"
}

func rotateCertRun(o *RotateCertOptions) error {
	ctx := ctxOr(o.ctx)
	d, err := startDayTwo(ctx, o.f, "rotate-certificate", &o.TenantOptions, o.fixArgs)
	if err != nil {
		return err
	}
	defer d.close()
	sel, err := o.App.selector(ctx, o.f, &o.TenantOptions, d, "give a new certificate", certificateUnavailable)
	if err != nil {
		return err
	}
	if o.CertificateFile == "" && o.CertificateOut == "" {
		// A terminal (validate refused --no-input): ask, as setup's wizard does.
		check := func(path string) (string, error) {
			c, err := certs.Load(path, o.f.Now())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("thumbprint %s, expires %s", c.Thumbprint, c.NotAfter.Format("2006-01-02")), nil
		}
		if err := newWizard(o.f, &o.TenantOptions).AskCertificate(ctx, "the product", "./certificate", &o.CertificateFile, &o.CertificateOut, check); err != nil {
			return wizardError(err)
		}
	}
	req := setup.CertRotateRequest{Selector: sel, CertificateFile: o.CertificateFile, CertificateOut: o.CertificateOut,
		PFXPassword: o.pfxPassword, Force: o.Force, OutputFormat: o.Output, OutputFile: o.OutputFile, Sandbox: d.sandbox()}
	if req.Signer, err = envSigner(o.f, &o.TenantOptions); err != nil {
		return err
	}
	cr, err := setup.PrepareCertificateRotation(ctx, d.env, req)
	if err != nil {
		return d.failed(ctx, err)
	}
	if probs := cr.Problems(); len(probs) > 0 {
		return exit.UsageError(&setup.PreconditionError{Problems: probs})
	}
	if o.DryRun {
		return deliver(o.f, &o.TenantOptions, cr.DryRunResult(o.Cloud))
	}
	// Adding a certificate needs no confirmation: what it does is said, then done.
	wd := width(o.f)
	var lines []string
	for _, w := range cr.Warnings {
		lines = append(lines, layout.Hang("! ", "  ", w, wd)...)
	}
	for _, l := range cr.Summary() {
		lines = append(lines, layout.Wrap(l, wd)...)
	}
	sayLines(o.f.IO.ErrOut, lines...)
	early := newDelivery(ctx, o.f, &o.TenantOptions)
	res, applyErr := early.guard(func() (*output.Result, error) { return cr.Apply(ctx, d.env) })
	if res == nil {
		return applyExit(ctx, applyErr)
	}
	if err := early.final(res); err != nil {
		return errors.Join(err, applyExit(ctx, applyErr))
	}
	err = applyExit(ctx, applyErr)
	var ie *internalError
	switch {
	case err == nil && ctx.Err() != nil:
		return exit.SilentCode(exit.Cancelled) // stopped once everything was done
	case err == nil, errors.As(err, &ie):
		return err
	}
	// The result is delivered and says what happened; repeat it on stderr
	// when it went to a file or as json.
	return exitWith(&o.TenantOptions, exit.Code(err), res.Error)
}

// envSigner is the certificate --auth env signs in with, which proves
// possession to addKey and removeKey when entra-link is signed in as the
// app itself; nil for any other sign-in.
func envSigner(f *Factory, t *TenantOptions) (*certs.Signer, error) {
	if t.Sandbox || t.Auth != auth.MethodEnv {
		return nil, nil
	}
	cert, key, err := auth.EnvCertificate(f.Getenv)
	if err != nil {
		return nil, exit.UsageError(err)
	}
	if cert == nil {
		return nil, nil
	}
	return &certs.Signer{Cert: cert, Key: key}, nil
}
