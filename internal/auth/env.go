package auth

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/entra-link/entra-link/internal/inputfile"
)

// The variables of azidentity's EnvironmentCredential.
const (
	envTenantID     = "AZURE_TENANT_ID"
	envClientID     = "AZURE_CLIENT_ID"
	envClientSecret = "AZURE_CLIENT_SECRET"
	envCertPath     = "AZURE_CLIENT_CERTIFICATE_PATH"
	envCertPassword = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	envSendChain    = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
)

// maxCertificateFile bounds AZURE_CLIENT_CERTIFICATE_PATH: a PEM or PFX
// with a key and a chain is a few kilobytes.
const maxCertificateFile = 1 << 20

type envCred struct {
	cred               azcore.TokenCredential
	secretVar, certVar string
}

// newEnvCredential is --auth env: the variables, precedence and meaning of
// azidentity.NewEnvironmentCredential (secret before certificate), built
// from the secret/certificate credentials directly because that
// constructor reads os.Getenv itself and so cannot
//   - honour --tenant (it only knows AZURE_TENANT_ID),
//   - name every missing variable at once,
//   - read PKCS#12 files written with modern encryption (AES/PBKDF2, what
//     entra-link and current OpenSSL write): its loader only understands
//     the legacy 3DES/RC2 format, so a second decoder (go-pkcs12) is tried.
func newEnvCredential(getenv func(string) string, tenant string, co azcore.ClientOptions, noDiscovery bool) (envCred, error) {
	if tenant == "" {
		tenant = strings.TrimSpace(getenv(envTenantID))
	}
	clientID := strings.TrimSpace(getenv(envClientID))
	secret := getenv(envClientSecret)
	certPath := strings.TrimSpace(getenv(envCertPath))

	var missing []string
	if tenant == "" {
		missing = append(missing, envTenantID+" (or --tenant)")
	}
	if clientID == "" {
		missing = append(missing, envClientID)
	}
	if secret == "" && certPath == "" {
		missing = append(missing, envClientSecret+" or "+envCertPath)
	}
	if len(missing) > 0 {
		return envCred{}, &SignInError{Method: MethodEnv, Input: true, Hint: "--auth env needs the environment variable" + plural(len(missing)) + " " + strings.Join(missing, ", ") + ": set " + pronoun(len(missing)) + " to the service principal's tenant, client id and secret or certificate"}
	}

	if secret != "" {
		cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: noDiscovery,
		})
		if err != nil {
			return envCred{}, &SignInError{Method: MethodEnv, Err: err, Hint: "the client secret in " + envClientSecret + " cannot be used: " + err.Error()}
		}
		return envCred{cred: cred, secretVar: envClientSecret}, nil
	}

	data, err := inputfile.Read(certPath, maxCertificateFile)
	var ie *inputfile.Error
	switch {
	case errors.As(err, &ie):
		return envCred{}, &SignInError{Method: MethodEnv, Err: err, Input: true, Hint: fmt.Sprintf("the certificate in %s (%s) %v; point it at the PEM or PFX file with the app's certificate and private key", envCertPath, certPath, ie)}
	case err != nil:
		return envCred{}, &SignInError{Method: MethodEnv, Err: err, Input: true, Hint: fmt.Sprintf("cannot read the certificate in %s (%s): %v", envCertPath, certPath, unwrapPathError(err))}
	}
	certs, key, err := parseCertificate(data, getenv(envCertPassword))
	if err != nil {
		return envCred{}, &SignInError{Method: MethodEnv, Err: err, Input: true, Hint: fmt.Sprintf("the certificate in %s (%s) %v", envCertPath, certPath, err)}
	}
	sendChain, _ := strconv.ParseBool(getenv(envSendChain))
	cred, err := azidentity.NewClientCertificateCredential(tenant, clientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: co, DisableInstanceDiscovery: noDiscovery, SendCertificateChain: sendChain,
	})
	if err != nil {
		return envCred{}, &SignInError{Method: MethodEnv, Err: err, Hint: fmt.Sprintf("the certificate in %s (%s) cannot be used: %v", envCertPath, certPath, err)}
	}
	return envCred{cred: cred, certVar: envCertPath}, nil
}

// parseCertificate reads a PEM (certificate + private key) or PKCS#12 file.
// Errors never include the password or key material.
func parseCertificate(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	certs, key, err := azidentity.ParseCertificates(data, []byte(password))
	if err == nil {
		return certs, key, nil
	}
	if isPEM(data) {
		return nil, nil, errors.New("is not a PEM file with both a certificate and its private key")
	}
	k, cert, chain, p12err := pkcs12.DecodeChain(data, password)
	if p12err != nil {
		if errors.Is(p12err, pkcs12.ErrIncorrectPassword) {
			return nil, nil, errors.New("cannot be opened with the password in " + envCertPassword)
		}
		return nil, nil, errors.New("is neither PEM nor a readable PKCS#12 (.pfx) file")
	}
	return append([]*x509.Certificate{cert}, chain...), k, nil
}

func isPEM(data []byte) bool {
	return strings.Contains(string(data), "-----BEGIN ")
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// EnvCertificate is the certificate and private key --auth env signs in
// with (AZURE_CLIENT_CERTIFICATE_PATH, read as the sign-in reads it); nil
// when the variables name a client secret or no certificate. Errors never
// include the password or key material.
func EnvCertificate(getenv func(string) string) (*x509.Certificate, crypto.Signer, error) {
	certPath := strings.TrimSpace(getenv(envCertPath))
	if getenv(envClientSecret) != "" || certPath == "" {
		return nil, nil, nil
	}
	data, err := inputfile.Read(certPath, maxCertificateFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the certificate in %s (%s): %w", envCertPath, certPath, unwrapPathError(err))
	}
	certs, key, err := parseCertificate(data, getenv(envCertPassword))
	if err != nil {
		return nil, nil, fmt.Errorf("the certificate in %s (%s) %w", envCertPath, certPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok || len(certs) == 0 {
		return nil, nil, fmt.Errorf("the certificate in %s (%s) has no usable private key", envCertPath, certPath)
	}
	return certs[0], signer, nil
}
