package auth

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
	"strings"
)

// SignInError is a sign-in failure explained for the admin. Error() is the
// explanation; Err keeps azidentity's full error (token endpoint response,
// troubleshooting link) for --verbose. Neither ever contains a secret:
// azidentity reports the token endpoint's response, not our request.
type SignInError struct {
	// Method is the --auth value.
	Method string
	// Code is the Entra error code, e.g. AADSTS7000215 ("" if none).
	Code string
	// Hint is the sentence an admin can act on.
	Hint string
	// Err is the underlying error.
	Err error
	// Input marks a problem with what the user gave (a missing variable,
	// an unreadable certificate file), found before anything was sent.
	Input bool
}

// Error renders the hint with its code and method.
func (e *SignInError) Error() string {
	var b strings.Builder
	switch {
	case e.Hint != "":
		b.WriteString(e.Hint)
	case e.Err != nil:
		b.WriteString(withoutCredentialType(firstLine(e.Err.Error())))
	default:
		b.WriteString("Entra ID did not sign you in")
	}
	var tags []string
	if e.Code != "" {
		tags = append(tags, e.Code)
	}
	if e.Method != "" {
		tags = append(tags, "--auth "+e.Method)
	}
	if len(tags) > 0 {
		b.WriteString(" (" + strings.Join(tags, ", ") + ")")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *SignInError) Unwrap() error { return e.Err }

// hintContext is what the explanation may refer to.
type hintContext struct {
	method      string
	sslCertFile string // SSL_CERT_FILE, named when a certificate is not trusted
	secretVar   string // env: the variable that held the secret
	certVar     string // env: the variable that named the certificate
}

var aadsts = regexp.MustCompile(`AADSTS(\d+):? ?([^"\r\n\\]*)`)

// explain turns an azidentity/MSAL error into *SignInError.
func (h hintContext) explain(err error) error {
	if err == nil {
		return nil
	}
	var se *SignInError
	if errors.As(err, &se) {
		return err
	}
	out := &SignInError{Method: h.method, Err: err}
	switch {
	case errors.Is(err, context.Canceled):
		out.Hint = "sign-in was cancelled"
		return out
	case errors.Is(err, context.DeadlineExceeded):
		out.Hint = "sign-in did not finish in time"
		return out
	}
	msg := err.Error()
	if m := aadsts.FindStringSubmatch(msg); m != nil {
		out.Code = "AADSTS" + m[1]
		out.Hint = h.hintFor(m[1])
		if out.Hint == "" {
			out.Hint = "Entra ID refused the sign-in: " + strings.TrimSpace(cutTrace(m[2]))
		}
		return out
	}
	lower := strings.ToLower(msg)
	switch {
	case h.method == MethodAzureCLI && (strings.Contains(lower, "not found on path") || strings.Contains(lower, "az login")):
		out.Hint = "the Azure CLI is not installed or not signed in: run `az login` (after `az cloud set` for a national cloud), or pick another --auth method"
	case h.method == MethodManagedIdentity && (strings.Contains(lower, "imds") || strings.Contains(lower, "no managed identity")):
		out.Hint = "no managed identity is available here: --auth managed-identity works only on Azure resources with an identity assigned"
	case strings.Contains(lower, "authorization_declined") || strings.Contains(lower, "access_denied"):
		out.Hint = "the sign-in was declined in the browser or on the device-code page"
	case strings.Contains(lower, "expired_token"):
		out.Hint = "the device code expired before the sign-in was finished: run the command again and complete the sign-in within 15 minutes"
	case h.method == MethodBrowser && (errors.Is(err, exec.ErrNotFound) || strings.Contains(lower, "executable file not found") || strings.Contains(lower, "xdg-open")):
		out.Hint = "no web browser could be opened here (no desktop session, or none of xdg-open, x-www-browser and www-browser is installed): sign in with --auth device-code instead"
	default:
		out.Hint = withoutCredentialType(firstLine(msg))
	}
	return out
}

// hintFor maps the Entra errors admins actually meet to what to do.
// Codes: learn.microsoft.com/entra/identity-platform/reference-error-codes.
func (h hintContext) hintFor(code string) string {
	secret := "the client secret"
	if h.secretVar != "" {
		secret = "the client secret in " + h.secretVar
	}
	switch code {
	case "7000215":
		return secret + " is wrong or expired: create a new secret for the app and set it"
	case "7000222":
		return secret + " has expired: create a new secret for the app and set it"
	case "700027", "700023":
		if h.certVar != "" {
			return "the certificate in " + h.certVar + " is not one of the app's registered certificates (or has expired): upload its public part to the app registration"
		}
		return "the certificate is not one of the app's registered certificates (or has expired)"
	case "700016":
		return "the client id is not an app in this tenant: check AZURE_CLIENT_ID / --login-client-id, --tenant and --cloud"
	case "90002", "90072":
		return "the tenant was not found: check --tenant (or AZURE_TENANT_ID) and --cloud"
	case "50059":
		return "no tenant could be determined: pass --tenant with the tenant id or a verified domain"
	case "65001":
		return "the sign-in needs consent that has not been granted: an admin must consent to entra-link's delegated permissions (" + strings.Join(DelegatedScopes, ", ") + ")"
	case "50076", "50079":
		return "the account must complete multi-factor authentication: use --auth browser or --auth device-code to sign in interactively"
	case "53003":
		return "a Conditional Access policy blocked this sign-in: sign in from a compliant device or location, or ask the tenant's security admin"
	case "50020", "50034":
		return "the account is not a user of this tenant: sign in with an account from the target tenant, or check --tenant"
	case "50126":
		return "the user name or password is wrong"
	case "50105":
		return "the account is not assigned to the sign-in application: ask an admin to assign you, or use another account"
	case "7000218":
		return "the login client does not allow public client flows: use the default --login-client-id or enable 'Allow public client flows' on your own"
	case "500011":
		return "the resource is not known in this tenant: check that --cloud matches the tenant's cloud"
	case "70043", "700082", "700084":
		return "the saved sign-in has expired: sign in again"
	case "70020", "70019":
		return "the device code expired before the sign-in was finished: run the command again and complete the sign-in within 15 minutes"
	case "900144", "900023":
		return "the tenant is not valid: --tenant must be a tenant GUID or a verified domain such as contoso.onmicrosoft.com"
	}
	return ""
}

// withoutCredentialType drops azidentity's "InteractiveBrowserCredential: "
// in front of a message: the name of a Go type, no news to an admin.
func withoutCredentialType(msg string) string {
	if i := strings.Index(msg, "Credential: "); i > 0 && !strings.Contains(msg[:i], " ") {
		return msg[i+len("Credential: "):]
	}
	return msg
}

// cutTrace drops Entra's trailing "Trace ID: … Correlation ID: … Timestamp: …".
func cutTrace(s string) string {
	if i := strings.Index(s, " Trace ID"); i >= 0 {
		s = s[:i]
	}
	return s
}

// firstLine is the first line of a multi-line error, continued while it
// ends in ":" (MSAL puts the cause of "server response error:" on the next
// line).
func firstLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	out := ""
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += l
		if !strings.HasSuffix(out, ":") {
			break
		}
	}
	return out
}
