// Package e2e runs the real entra-link binary the way a person does: in a
// terminal (tmux), typing answers and reading the screen.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// term is one tmux session on a private server (-L), 80×24.
type term struct {
	t      *testing.T
	socket string
}

func (tm *term) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket, "-u"}, args...)...).CombinedOutput()
	return string(out), err
}

// screen is what the terminal shows now; with history, everything since
// the start (the hand-over screen is taller than 24 lines).
func (tm *term) screen(history bool) string {
	args := []string{"capture-pane", "-p", "-t", "wizard"}
	if history {
		args = append(args, "-S", "-")
	}
	out, err := tm.tmux(args...)
	if err != nil {
		tm.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return out
}

// waitFor polls the screen until it shows every one of want.
func (tm *term) waitFor(timeout time.Duration, want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen(false)
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen did not show %q within %s:\n%s", missing, timeout, tm.screen(true))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	if out, err := tm.tmux(append([]string{"send-keys", "-t", "wizard"}, keys...)...); err != nil {
		tm.t.Fatalf("send-keys %v: %v: %s", keys, err, out)
	}
}

// TestWizardEntitleInTmux types through `entra-link setup --sandbox` for
// Entitle in an 80×24 terminal, then checks the sandbox tenant: the app
// exists with exactly Entitle's permissions, consented, and the Connection
// JSON the hand-over screen showed works.
func TestWizardEntitleInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	start := time.Now()
	tmp := t.TempDir()
	bin, _, _ := binaries(t)

	state := filepath.Join(tmp, "sandbox")
	tm := &term{t: t, socket: fmt.Sprintf("entra-link-e2e-%d", os.Getpid())}
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	script := fmt.Sprintf("ENTRA_LINK_SANDBOX_DIR=%q %q setup --sandbox; echo \"EXIT=$?\"; sleep 120", state, bin)
	if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "wizard", "-x", "80", "-y", "24", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}

	const step = 20 * time.Second
	tm.waitFor(step, "Which product are you setting up?", "> Relution")
	tm.keys("Down", "Down")
	tm.waitFor(step, "> Entitle")
	tm.keys("Enter")
	tm.waitFor(step, "Which cloud is your tenant in?", "> Microsoft Entra ID (global service)")
	tm.keys("Enter")
	tm.waitFor(step, "✓ Signed in as", "Display name of the app registration", "> Entitle")
	tm.keys("Enter")
	tm.waitFor(step, "How long should the client secret be valid?", "> 1 year")
	tm.keys("Enter")
	review := tm.waitFor(step, "Apply these changes to", "Apply", "Cancel")
	for _, w := range []string{"Directory.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "application"} {
		if !strings.Contains(tm.screen(true), w) {
			t.Errorf("the review does not list %q:\n%s", w, review)
		}
	}
	tm.keys("y")
	tm.waitFor(step, "Leave? The client secret will not be shown again.")
	handover := tm.screen(true)
	for _, l := range strings.Split(handover, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than the terminal: %q", l)
		}
	}
	// The transcript stays whole and in order: the review's last line, then
	// every step (a live view that redraws over earlier lines would lose them).
	order := []string{"Review — nothing has been changed yet", "directory roles and memberships.", "Applying",
		`✓ Create app registration "Entitle"`, "Entitle is set up in"}
	last := -1
	for _, o := range order {
		i := strings.Index(handover, o)
		if i <= last {
			t.Errorf("%q is missing or out of order in the transcript:\n%s", o, handover)
			break
		}
		last = i
	}
	for _, step := range []string{"✓ Create enterprise application", "✓ Create client secret", "✓ Create admin consent Microsoft Graph · Directory.ReadWrite.All",
		"✓ Create admin consent Microsoft Graph · RoleManagement.ReadWrite.Directory"} {
		if strings.Count(handover, step) != 1 {
			t.Errorf("step %q shown %d times, want once", step, strings.Count(handover, step))
		}
	}
	conn := map[string]string{}
	for _, k := range []string{"client_id", "secret", "tenant"} {
		m := regexp.MustCompile(`"` + k + `": "([^"]+)"`).FindStringSubmatch(handover)
		if m == nil {
			t.Fatalf("the hand-over screen shows no %s:\n%s", k, handover)
		}
		conn[k] = m[1]
	}
	tm.keys("Enter")
	tm.waitFor(step, "EXIT=0")
	t.Logf("typed through the wizard in %s", time.Since(start).Round(time.Millisecond))

	// The process has exited: the state directory is free to open.
	sb, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if conn["tenant"] != sb.Tenant().TenantID {
		t.Errorf("tenant %s, the sandbox's is %s", conn["tenant"], sb.Tenant().TenantID)
	}
	st := readState(t, sb)
	var app *appState
	for i := range st.Applications {
		if st.Applications[i].AppID == conn["client_id"] {
			app = &st.Applications[i]
		}
	}
	if app == nil {
		t.Fatalf("no app %s in the sandbox", conn["client_id"])
	}
	if app.DisplayName != "Entitle" || !slices.Contains(app.Tags, "entra-link:profile:entitle") {
		t.Errorf("app %q tags %v", app.DisplayName, app.Tags)
	}
	n := 0
	for _, rra := range app.RequiredResourceAccess {
		n += len(rra.ResourceAccess)
	}
	if n != 2 {
		t.Errorf("the app requests %d permissions, Entitle needs exactly 2: %+v", n, app.RequiredResourceAccess)
	}
	var sp string
	for _, s := range st.ServicePrincipals {
		if s.AppID == app.AppID {
			sp = s.ID
		}
	}
	var consented []string
	for _, a := range st.AppRoleAssignments {
		if a.PrincipalID == sp {
			consented = append(consented, a.ResourceDisplayName+"/"+a.AppRole)
		}
	}
	slices.Sort(consented)
	if want := []string{"Microsoft Graph/Directory.ReadWrite.All", "Microsoft Graph/RoleManagement.ReadWrite.Directory"}; !slices.Equal(consented, want) {
		t.Errorf("consented %v, want %v", consented, want)
	}
	// The secret shown once is the app's: it gets a token.
	cred, err := azidentity.NewClientSecretCredential(conn["tenant"], conn["client_id"], conn["secret"], &azidentity.ClientSecretCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: sb.Transport()}, Cloud: cloud.AzurePublic}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}); err != nil {
		t.Errorf("the Connection JSON's secret does not work: %v", err)
	}
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

type appState struct {
	AppID                  string   `json:"appId"`
	DisplayName            string   `json:"displayName"`
	Tags                   []string `json:"tags"`
	Owners                 []string `json:"owners"`
	RequiredResourceAccess []struct {
		ResourceAccess []struct {
			ID string `json:"id"`
		} `json:"resourceAccess"`
	} `json:"requiredResourceAccess"`
}

type sandboxState struct {
	Applications []appState `json:"applications"`
	Users        []struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
	} `json:"users"`
	ServicePrincipals []struct {
		ID    string `json:"id"`
		AppID string `json:"appId"`
	} `json:"servicePrincipals"`
	AppRoleAssignments []struct {
		PrincipalID         string `json:"principalId"`
		ResourceDisplayName string `json:"resourceDisplayName"`
		AppRole             string `json:"appRole"`
	} `json:"appRoleAssignments"`
}

// readState reads /_sandbox/state: the tenant's objects, without secrets.
func readState(t *testing.T, sb *sandbox.Server) sandboxState {
	t.Helper()
	resp, err := (&http.Client{Transport: sb.Transport(), Timeout: 10 * time.Second}).Get(sb.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sandboxState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
