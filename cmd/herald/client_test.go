package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A variable gqlgen refuses is named in the CLI's error (the server names it): "must be
// defined" alone does not say which field is missing.
func TestClient_namesTheVariableTheServerRefused(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	c := newClient(&clientConfig{URL: app.url, User: "admin", Password: testAdminPassword})
	vars := map[string]any{"in": map[string]any{"name": "n", "selectors": []any{map[string]any{"level": "error"}}}}
	err := c.do(context.Background(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`, vars, nil)
	if err == nil || err.Error() != "invalid input: in.selectors[0].type: is required" {
		t.Fatalf("error = %v, want the missing selector type named", err)
	}
}

// TestClient_withoutCredentialsSaysHowToSignIn: a command run without credentials says which
// flags and variables give them, and where a new server's admin password is.
func TestClient_withoutCredentialsSaysHowToSignIn(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	err := newClient(&clientConfig{URL: app.url}).do(context.Background(), `{ events(first: 1) { totalCount } }`, nil, nil)
	if err == nil {
		t.Fatal("an anonymous request listed events")
	}
	for _, want := range []string{"needs credentials", "--user", "--password", "HERALD_USER", "HERALD_PASSWORD", "--token", "HERALD_TOKEN", "<data-dir>/admin-password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestClient_userWithoutPasswordIsRefusedBeforeSending: --user without --password says the
// password is missing and how to give it, instead of the server's "wrong user name or
// password", and sends nothing.
func TestClient_userWithoutPasswordIsRefusedBeforeSending(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { requests.Add(1) }))
	defer srv.Close()
	err := newClient(&clientConfig{URL: srv.URL, User: "admin"}).do(context.Background(), `{ viewer { user } }`, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "--user admin needs a password") ||
		!strings.Contains(err.Error(), "--password or HERALD_PASSWORD") || !strings.Contains(err.Error(), "<data-dir>/admin-password") {
		t.Errorf("error = %v, want the missing password named with how to give it", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests were sent without a password", n)
	}
}
