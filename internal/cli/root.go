package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "entra-link <command>",
		Short: "Set up Microsoft Entra app registrations for SaaS products in one run",
		Long: `entra-link does in one run what a SaaS vendor's setup guide makes a Microsoft Entra
admin click through: it signs you in, creates the app registration and its service
principal, adds a client secret or certificate, assigns the Microsoft Graph (and Exchange
Online) permissions and directory roles, grants admin consent, and hands over the client ID,
tenant ID and secret in the form the product wants.

Built-in product profiles: relution, hire2retire, entitle, unify, roger365
(see: entra-link profiles list). Any other product: --profile-file PATH.`,
		Example: `  # See what would be done, without signing in
  entra-link setup --profile entitle --dry-run

  # Try the whole flow against a local emulated tenant
  entra-link setup --profile entitle --sandbox

  # Set up Relution for real (opens a browser to sign in)
  entra-link setup --profile relution --server-url https://relution.contoso.com

  # Renew a secret that is about to expire, keeping the old one until you switch;
  # once Relution uses the new one, retire the old one
  entra-link rotate-secret --name Relution
  entra-link retire --name Relution`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(flagError)
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return emptyFlagValues(c.Flags()) }
	// Help texts are written for 80 columns or more; they are re-wrapped to
	// the terminal, examples' commands kept whole.
	// Two spaces between a command's name and its summary, always: the
	// summary column is what a wrapped summary continues under. Written in
	// Go, not as a template: any cobra template links text/template, whose
	// reflection keeps every exported method of every type in the binary —
	// all of msgraph-sdk-go's models, 45 MB.
	root.SetUsageFunc(usageFunc)
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		var buf bytes.Buffer
		out := c.OutOrStdout()
		c.SetOut(&buf)
		defaultHelp(c, args)
		c.SetOut(out)
		_, _ = io.WriteString(out, layout.Text(layout.Reflow(buf.String(), layout.Width(out))))
	})
	// cobra's own version line ("entra-link version …"); `entra-link
	// version` prints the same. (A version template would link
	// text/template, see above.)
	root.Version = versionLine()
	root.Flags().Bool("version", false, "print the version, commit and Go version (the same as: entra-link version)")
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(
		NewCmdSetup(f, nil),
		NewCmdRotateSecret(f, nil),
		NewCmdRotateCertificate(f, nil),
		NewCmdRetire(f, nil),
		NewCmdVerify(f, nil),
		NewCmdDelete(f, nil),
		NewCmdApps(f),
		NewCmdAuth(f),
		NewCmdProfiles(f),
		NewCmdSandbox(f, nil),
		NewCmdVersion(f),
	)
	return root
}

// onceFlags makes a single-value flag of c (or inherited by it) given twice
// with different values bad input: pflag keeps the last value silently, so
// `rotate-secret --name A --name B` rotated B.
func onceFlags(c *cobra.Command) {
	wrap := func(f *pflag.Flag) {
		switch f.Value.(type) {
		case *onceValue, pflag.SliceValue:
			return
		}
		// Not durations: wrapped, one would show "(default 0s)" in the help.
		if t := f.Value.Type(); t == "string" || t == "int" {
			f.Value = &onceValue{Value: f.Value}
		}
	}
	for p := c; p != nil; p = p.Parent() {
		p.Flags().VisitAll(wrap)
		p.PersistentFlags().VisitAll(wrap)
	}
}

// onceValue refuses a second, different value of its flag.
type onceValue struct {
	pflag.Value
	set   bool
	first string
}

// errGivenTwice is onceValue's refusal (flagError says it in words).
type errGivenTwice struct{ first string }

func (e *errGivenTwice) Error() string { return "given twice" }

func (v *onceValue) Set(s string) error {
	if v.set && s != v.first {
		return &errGivenTwice{first: v.first}
	}
	v.set, v.first = true, s
	return v.Value.Set(s)
}

// IsUsageError recognises cobra's own usage errors (unknown command,
// unknown flag, wrong argument count), which it returns as plain errors.
func IsUsageError(err error) bool {
	if err == nil {
		return false
	}
	var e *exit.Error
	if errors.As(err, &e) {
		return e.Code == exit.Usage
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most",
		"invalid argument", "flag needs an argument", "required flag", "if any flags in the group", "none of the others can be"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// emptyFlagValues refuses a flag given with an empty value, every flag of
// every command alike: `--output-file "$OUT"` with OUT unset must not mean
// "no --output-file" (the secret on stdout, in the CI log), nor `--tenant ""`
// "the default tenant".
func emptyFlagValues(fs *pflag.FlagSet) error {
	var bad *pflag.Flag
	fs.Visit(func(f *pflag.Flag) {
		if bad != nil {
			return
		}
		var values []string
		switch f.Value.Type() {
		case "string":
			values = []string{f.Value.String()}
		case "stringArray", "stringSlice":
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				values = sv.GetSlice()
			}
			if len(values) == 0 {
				values = []string{""}
			}
		}
		for _, v := range values {
			if strings.TrimSpace(v) == "" {
				bad = f
			}
		}
	})
	if bad == nil {
		return nil
	}
	return exit.UsageErrorf("--%s was given an empty value (an unset variable?); give it a value or leave the flag out (--%s: %s). Nothing was changed.", bad.Name, bad.Name, strings.TrimSuffix(bad.Usage, "."))
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return exit.UsageErrorf("%s takes no arguments, got %q (values are given with flags; see --help)", cmd.CommandPath(), args[0])
	}
	return nil
}
