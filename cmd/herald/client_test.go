package main

import (
	"context"
	"testing"
)

// A variable gqlgen refuses is named in the CLI's error: "must be defined" alone does not say
// which field is missing.
func TestClient_namesTheVariableTheServerRefused(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	c := newClient(&clientConfig{URL: app.url, User: "admin", Password: testAdminPassword})
	vars := map[string]any{"in": map[string]any{"name": "n", "selectors": []any{map[string]any{"level": "error"}}}}
	err := c.do(context.Background(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`, vars, nil)
	if err == nil || err.Error() != "in.selectors[0].type: must be defined" {
		t.Fatalf("error = %v, want the missing selector type named", err)
	}
}
