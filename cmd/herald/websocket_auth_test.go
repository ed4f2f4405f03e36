package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a graphql-transport-ws client for one socket.
type wsClient struct {
	t    testing.TB
	ctx  context.Context
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// dialWS opens a socket to the app's API with the given headers (Origin, Authorization).
func dialWS(t testing.TB, app *testApp, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	conn, resp, err := websocket.Dial(ctx, strings.Replace(app.url, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{t: t, ctx: ctx, conn: conn}, resp, nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message other than keep-alives; an error once the socket is closed.
func (c *wsClient) read() (wsMessage, error) {
	for {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		_ = json.Unmarshal(b, &m)
		if m.Type != "ping" && m.Type != "pong" && m.Type != "ka" {
			return m, nil
		}
	}
}

func (c *wsClient) init(auth string) {
	c.t.Helper()
	payload := map[string]any{}
	if auth != "" {
		payload["Authorization"] = auth
	}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	if m, err := c.read(); err != nil || m.Type != "connection_ack" {
		c.t.Fatalf("connection_init: %+v %v", m, err)
	}
}

// run sends one operation and returns its answer (next or error), once it is complete.
func (c *wsClient) run(id, query string) wsMessage {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
	var answer wsMessage
	for {
		m, err := c.read()
		switch {
		case err != nil:
			c.t.Fatalf("operation %s: %v", id, err)
		case m.ID != id:
		case m.Type == "complete":
			return answer
		case m.Type == "error":
			return m
		case answer.Type == "":
			answer = m
		}
	}
}

// TestWebsocket_credentialsAreCheckedForEveryOperation: a socket opened with a token that is
// then revoked, or by a user whose role then changes, runs nothing more; the same socket
// worked until then.
func TestWebsocket_credentialsAreCheckedForEveryOperation(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app)
	res := app.mustGQL(ts.admin, `mutation { issueApiToken(account: "bob", user: "bob-rw", description: "to revoke") { id token } }`, nil)
	issued := res["issueApiToken"].(map[string]any)

	byToken, _, err := dialWS(t, app, nil)
	if err != nil {
		t.Fatal(err)
	}
	byToken.init(bearer(issued["token"].(string)))
	if m := byToken.run("1", `{ viewer { user } }`); m.Type != "next" || !strings.Contains(string(m.Payload), "bob-rw") {
		t.Fatalf("before the revocation: %s %s", m.Type, m.Payload)
	}
	app.mustGQL(ts.admin, `mutation($id: ID!) { revokeApiToken(account: "bob", user: "bob-rw", id: $id) }`, map[string]any{"id": issued["id"]})
	m := byToken.run("2", `mutation { deleteEvents(filter: {}) { count } }`)
	if m.Type == "next" && strings.Contains(string(m.Payload), "count") && !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Fatalf("a revoked token deleted events over its open socket: %s", m.Payload)
	}
	if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") || !strings.Contains(string(m.Payload), "revoked API token") {
		t.Errorf("after the revocation the socket answered %s %s, want UNAUTHENTICATED naming the revocation", m.Type, m.Payload)
	}
	if n := totalCount(t, app, ts.bobRW, nil); n != len(ts.bobEvents) {
		t.Errorf("bob has %d events, want %d: the refused operation ran", n, len(ts.bobEvents))
	}

	// a role changed while the socket is open
	byHeader, _, err := dialWS(t, app, http.Header{"Authorization": {ts.aliceRW}})
	if err != nil {
		t.Fatal(err)
	}
	byHeader.init("")
	app.mustGQL(ts.admin, `mutation { grantRole(account: "alice", user: "alice-rw", role: READ_ONLY) { name } }`, nil)
	if m := byHeader.run("1", `{ viewer { user } }`); !strings.Contains(string(m.Payload), "role of user alice-rw changed") {
		t.Errorf("after a role change the socket answered %s %s", m.Type, m.Payload)
	}
}

// TestWebsocket_ackCarriesNoCredentials: the connection_ack does not echo the
// connection_init payload, which holds the client's credentials (a page's scripts or a proxy
// logging frames would read them back).
func TestWebsocket_ackCarriesNoCredentials(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	admin := basicAuth("admin", testAdminPassword)
	token := bearer(issueToken(t, app, admin, "admin", "admin"))
	for name, c := range map[string]struct {
		header  http.Header
		payload string
	}{
		"token in the payload":      {payload: token},
		"password in the payload":   {payload: admin},
		"password in the header":    {header: http.Header{"Authorization": {admin}}, payload: admin},
		"credentials that fail":     {payload: bearer("hrld_not-a-token")},
		"credentials of no account": {payload: basicAuth("nobody", "secret")},
	} {
		t.Run(name, func(t *testing.T) {
			ws, _, err := dialWS(t, app, c.header)
			if err != nil {
				t.Fatal(err)
			}
			ws.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": c.payload}})
			m, err := ws.read()
			if err != nil {
				return // refused and closed: nothing was sent back
			}
			secret := strings.Fields(c.payload)[1]
			if strings.Contains(string(m.Payload), secret) || strings.Contains(string(m.Payload), "Authorization") {
				t.Errorf("%s carries the client's credentials: %s", m.Type, m.Payload)
			}
		})
	}
}

// TestWebsocket_onlyAllowedOriginsOpenSockets: a page of another site cannot open a socket
// (its browser would send the credentials it holds for herald, and with require_auth off it
// would act as the admin); herald's own pages, allowed sites and clients that are no browser
// (no Origin) can.
func TestWebsocket_onlyAllowedOriginsOpenSockets(t *testing.T) {
	cfg := testServeConfig(t.TempDir(), testSecretKey)
	cfg.Auth.RequireAuth = false
	cfg.Auth.AllowedOrigins = []string{"*.dashboards.example"}
	app := startTestAppConfig(t, cfg)
	host := strings.TrimPrefix(app.url, "http://")
	for origin, allowed := range map[string]bool{
		"":                                   true,
		"http://" + host:                     true,
		"https://grafana.dashboards.example": true,
		"https://evil.example":               false,
		"https://dashboards.example.evil":    false,
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := dialWS(t, app, h)
		switch {
		case allowed && err != nil:
			t.Errorf("origin %q: refused: %v", origin, err)
		case !allowed && err == nil:
			c.init("")
			m := c.run("1", `mutation { createAccount(name: "evilcorp") { name } }`)
			t.Errorf("origin %q: socket opened; a mutation answered %s %s", origin, m.Type, m.Payload)
		case !allowed && (resp == nil || resp.StatusCode != http.StatusForbidden):
			t.Errorf("origin %q: refused with %v, want 403", origin, err)
		}
	}
}
