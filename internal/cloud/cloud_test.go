package cloud

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := map[string]string{
		"": "global", "global": "global", "Public": "global", "usgov": "usgov", "gcc-high": "usgov",
		"usgov-dod": "usgov-dod", "dod": "usgov-dod", "china": "china", "21vianet": "china",
	}
	for in, want := range tests {
		c, err := Lookup(in)
		if err != nil || c.Name != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", in, c.Name, err, want)
		}
	}
	if _, err := Lookup("mars"); err == nil || !strings.Contains(err.Error(), "global, usgov, usgov-dod, china") {
		t.Errorf("Lookup(mars) error = %v", err)
	}
}

// TestHosts pins the endpoints to clouds.md: US Gov L4 and L5 share the
// login host but not the Graph host.
func TestHosts(t *testing.T) {
	tests := []struct {
		c                    Cloud
		login, graph, portal string
	}{
		{Global, "https://login.microsoftonline.com", "https://graph.microsoft.com", "https://portal.azure.com"},
		{USGov, "https://login.microsoftonline.us", "https://graph.microsoft.us", "https://portal.azure.us"},
		{USGovDoD, "https://login.microsoftonline.us", "https://dod-graph.microsoft.us", "https://portal.azure.us"},
		{China, "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", "https://portal.azure.cn"},
	}
	for _, tt := range tests {
		if tt.c.AuthorityHost != tt.login || tt.c.GraphEndpoint != tt.graph || tt.c.Portal != tt.portal {
			t.Errorf("%s: %+v", tt.c.Name, tt.c)
		}
		if tt.c.GraphScope() != tt.graph+"/.default" || tt.c.GraphBaseURL() != tt.graph+"/v1.0" {
			t.Errorf("%s scope/base: %s %s", tt.c.Name, tt.c.GraphScope(), tt.c.GraphBaseURL())
		}
		if !strings.HasPrefix(tt.c.PortalAppURL("app"), tt.portal+"/") || !strings.HasSuffix(tt.c.PortalConsentURL("app"), "/appId/app") {
			t.Errorf("%s portal links", tt.c.Name)
		}
	}
	hosts := strings.Join(KnownHosts(), " ")
	for _, h := range []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn",
		"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"} {
		if !strings.Contains(hosts, h) {
			t.Errorf("KnownHosts lacks %s", h)
		}
	}
}

func TestAdminConsentURL(t *testing.T) {
	got := USGovDoD.AdminConsentURL("contoso.onmicrosoft.us", "00001111-aaaa-2222-bbbb-3333cccc4444", "https://app.example.com/cb")
	want := "https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0/adminconsent?client_id=00001111-aaaa-2222-bbbb-3333cccc4444&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=https%3A%2F%2Fdod-graph.microsoft.us%2F.default"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// https://host:443 is https://host: MSAL matches the issuer (which has no
// port) against the authority as written.
func TestCustomDropsDefaultPort(t *testing.T) {
	c, err := Custom("https://127.0.0.1:443", "https://127.0.0.1:443/")
	if err != nil || c.AuthorityHost != "https://127.0.0.1" || c.GraphEndpoint != "https://127.0.0.1" {
		t.Errorf("Custom = %+v, %v", c, err)
	}
	c, err = Custom("https://[::1]:443", "https://login.example.net:8443")
	if err != nil || c.AuthorityHost != "https://[::1]" || c.GraphEndpoint != "https://login.example.net:8443" {
		t.Errorf("Custom = %+v, %v", c, err)
	}
}

func TestCustom(t *testing.T) {
	c, err := Custom("https://login.example.net/", "https://graph.example.net")
	if err != nil || !c.Custom || c.AuthorityHost != "https://login.example.net" || c.GraphHost() != "graph.example.net" {
		t.Errorf("Custom = %+v, %v", c, err)
	}
	for _, bad := range [][2]string{{"http://login.example.net", "https://g.example.net"}, {"https://l.example.net", "g.example.net"}, {"", "https://g"}} {
		if _, err := Custom(bad[0], bad[1]); err == nil {
			t.Errorf("Custom(%q, %q) should fail", bad[0], bad[1])
		}
	}
}

// TestExchangeResource pins each cloud's Exchange Online audience to the
// sources named above the clouds in cloud.go: DoD's is
// outlook-dod.office365.us (the token audience), not webmail.apps.mil (a
// PowerShell connection host).
func TestExchangeResource(t *testing.T) {
	want := map[string]string{
		"global":    "https://outlook.office365.com/.default",
		"usgov":     "https://outlook.office365.us/.default",
		"usgov-dod": "https://outlook-dod.office365.us/.default",
		"china":     "https://partner.outlook.cn/.default",
	}
	for _, c := range All() {
		if got := c.ExchangeScope(); got != want[c.Name] {
			t.Errorf("%s: Exchange scope %s, want %s", c.Name, got, want[c.Name])
		}
	}
	if !strings.HasPrefix(USGovDoD.PIMActivationURL(), "https://portal.azure.us/#view/Microsoft_Azure_PIMCommon/") {
		t.Errorf("PIM link %s", USGovDoD.PIMActivationURL())
	}
}
