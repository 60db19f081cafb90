// Package cloud holds the Microsoft national clouds entra-link can target:
// their sign-in (authority) hosts, Microsoft Graph endpoints, portals and
// Exchange Online resources, as Microsoft documents them (see
// ../shared/reference/graph/clouds.md in the project's history).
package cloud

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Cloud is one national cloud.
type Cloud struct {
	// Name is the canonical --cloud value.
	Name string
	// Title is the name people know it by.
	Title string
	// Aliases are other accepted --cloud values.
	Aliases []string
	// AuthorityHost is the Entra sign-in host, e.g. https://login.microsoftonline.com.
	AuthorityHost string
	// GraphEndpoint is the Microsoft Graph host, e.g. https://graph.microsoft.com.
	GraphEndpoint string
	// Portal is the Azure portal for the cloud.
	Portal string
	// ExchangeResource is Exchange Online's resource URI: the audience of
	// an app-only token for Exchange.ManageAsApp ({resource}/.default).
	// Sources: see the clouds below.
	ExchangeResource string
	// Custom is true for a cloud made from --authority-host/--graph-endpoint.
	Custom bool
}

// The four national clouds. Where each Exchange Online resource
// (ExchangeResource) comes from (clouds.md note 4, and Microsoft's sources):
//
//   - global https://outlook.office365.com: the Exchange Online app-only
//     authentication doc (MicrosoftDocs/office-docs-powershell,
//     exchange/docs-conceptual/app-only-auth-powershell-v2.md) consents with
//     scope=https://outlook.office365.com/.default.
//   - usgov (GCC High) https://outlook.office365.us: the EXO V3 FAQ
//     (exchange/docs-conceptual/faqs-exo-v3.md) connection URI, and the
//     token endpoint Microsoft's own scripts use (microsoft/CSS-Exchange,
//     Shared/AzureFunctions/Get-CloudServiceEndpoint.ps1 @ f88378b1,
//     USGovernmentL4, whose endpoint + "/.default" is the token scope in
//     Security/src/CVE-2023-23397/CVE-2023-23397.ps1).
//   - usgov-dod https://outlook-dod.office365.us, not webmail.apps.mil:
//     webmail.apps.mil is the DoD PowerShell connection URI in the EXO V3
//     FAQ, which clouds.md took as the audience but marked unverified; the
//     token audience Microsoft's scripts request is outlook-dod.office365.us
//     (CSS-Exchange Get-CloudServiceEndpoint.ps1, USGovernmentL5), as does
//     CISA's ScubaGear (scope https://outlook-dod.office365.us/.default), and
//     Microsoft 365's DoD endpoint list names outlook-dod.office365.us first
//     for Exchange Online (microsoft-365-u-s-government-dod-endpoints).
//   - china https://partner.outlook.cn: the EXO V3 FAQ connection URI for
//     21Vianet, and CSS-Exchange's ChinaCloud endpoint.
var (
	Global = Cloud{
		Name: "global", Title: "Microsoft Entra ID (global service)", Aliases: []string{"public", "azurecloud", "commercial"},
		AuthorityHost: "https://login.microsoftonline.com", GraphEndpoint: "https://graph.microsoft.com",
		Portal: "https://portal.azure.com", ExchangeResource: "https://outlook.office365.com",
	}
	USGov = Cloud{
		Name: "usgov", Title: "US Government L4 (GCC High)", Aliases: []string{"gcc-high", "gcchigh", "usgovernment", "usgovl4"},
		AuthorityHost: "https://login.microsoftonline.us", GraphEndpoint: "https://graph.microsoft.us",
		Portal: "https://portal.azure.us", ExchangeResource: "https://outlook.office365.us",
	}
	USGovDoD = Cloud{
		Name: "usgov-dod", Title: "US Government L5 (DoD)", Aliases: []string{"dod", "usgovdod", "usgovl5"},
		AuthorityHost: "https://login.microsoftonline.us", GraphEndpoint: "https://dod-graph.microsoft.us",
		Portal: "https://portal.azure.us", ExchangeResource: "https://outlook-dod.office365.us",
	}
	China = Cloud{
		Name: "china", Title: "Microsoft Entra China operated by 21Vianet", Aliases: []string{"21vianet", "azurechina", "mooncake"},
		AuthorityHost: "https://login.chinacloudapi.cn", GraphEndpoint: "https://microsoftgraph.chinacloudapi.cn",
		Portal: "https://portal.azure.cn", ExchangeResource: "https://partner.outlook.cn",
	}
)

// ExchangeScope is the .default scope of Exchange Online in the cloud: what
// an app with Exchange.ManageAsApp requests a token for.
func (c Cloud) ExchangeScope() string { return c.ExchangeResource + "/.default" }

// PIMActivationURL links to "My roles" of Privileged Identity Management in
// the cloud's portal, where an eligible role is activated (Entra docs,
// pim-how-to-activate-role: Identity governance > Privileged Identity
// Management > My roles; the blade path is [observed] in public scripts).
func (c Cloud) PIMActivationURL() string {
	return c.Portal + "/#view/Microsoft_Azure_PIMCommon/ActivationMenuBlade/~/aadmigratedroles"
}

// All returns the four national clouds in a stable order.
func All() []Cloud { return []Cloud{Global, USGov, USGovDoD, China} }

// Names returns the canonical cloud names.
func Names() []string {
	out := make([]string, 0, 4)
	for _, c := range All() {
		out = append(out, c.Name)
	}
	return out
}

// Lookup resolves a --cloud value or alias (case-insensitive).
func Lookup(name string) (Cloud, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return Global, nil
	}
	for _, c := range All() {
		if c.Name == n {
			return c, nil
		}
		for _, a := range c.Aliases {
			if a == n {
				return c, nil
			}
		}
	}
	return Cloud{}, fmt.Errorf("invalid value %q for --cloud: valid values are %s (aliases: public, gcc-high, dod, 21vianet)",
		name, strings.Join(Names(), ", "))
}

// Custom builds a cloud from explicit endpoints; both must be https URLs.
func Custom(authorityHost, graphEndpoint string) (Cloud, error) {
	a, err := httpsBase("--authority-host", authorityHost)
	if err != nil {
		return Cloud{}, err
	}
	g, err := httpsBase("--graph-endpoint", graphEndpoint)
	if err != nil {
		return Cloud{}, err
	}
	return Cloud{Name: "custom", Title: "custom endpoints", AuthorityHost: a, GraphEndpoint: g,
		Portal: Global.Portal, ExchangeResource: Global.ExchangeResource, Custom: true}, nil
}

func httpsBase(flag, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("invalid value %q for %s: want an https URL such as https://login.example.com", raw, flag)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("invalid value %q for %s: the URL must use https", raw, flag)
	}
	// https's own port is dropped: Entra's issuer never carries it, and MSAL
	// compares the issuer with the authority as written, so
	// https://login.example.net:443 would fail every sign-in.
	host := u.Host
	if u.Port() == "443" {
		host = u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return "https://" + host + strings.TrimRight(u.Path, "/"), nil
}

// GraphScope is the .default scope for the cloud's Graph endpoint.
func (c Cloud) GraphScope() string { return c.GraphEndpoint + "/.default" }

// GraphBaseURL is the v1.0 base URL.
func (c Cloud) GraphBaseURL() string { return c.GraphEndpoint + "/v1.0" }

// GraphHost is the host[:port] of the Graph endpoint.
func (c Cloud) GraphHost() string { return hostOf(c.GraphEndpoint) }

// AuthorityHostName is the host[:port] of the authority.
func (c Cloud) AuthorityHostName() string { return hostOf(c.AuthorityHost) }

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// AdminConsentURL is the v2 admin-consent URL for appID in tenant, asking
// for the app's configured permissions on this cloud's Graph (scope .default).
func (c Cloud) AdminConsentURL(tenant, appID, redirectURI string) string {
	q := url.Values{}
	q.Set("client_id", appID)
	q.Set("scope", c.GraphScope())
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	return c.AuthorityHost + "/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode()
}

// PortalAppURL links to the app registration's overview in the cloud's portal.
func (c Cloud) PortalAppURL(appID string) string {
	return c.Portal + "/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/" + appID
}

// PortalConsentURL links to the app's API permissions blade, where an admin
// can press "Grant admin consent".
func (c Cloud) PortalConsentURL(appID string) string {
	return c.Portal + "/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/CallAnAPI/appId/" + appID
}

// KnownHosts returns every login, Graph and portal host of the national
// clouds (plus MSAL's China and US Gov aliases), sorted.
func KnownHosts() []string {
	set := map[string]bool{"login.partner.microsoftonline.cn": true, "login.usgovcloudapi.net": true}
	for _, c := range All() {
		set[c.AuthorityHostName()] = true
		set[c.GraphHost()] = true
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}
