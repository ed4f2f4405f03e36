package graph

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func getPlayground(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// The playground used to load GraphiQL and React from a CDN, which left the page blank where
// herald has no internet access: everything the page loads must come from herald itself.
func TestPlayground_pageLoadsOnlyAssetsHeraldServes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewPlayground("/graphql"))
	t.Cleanup(srv.Close)

	res, page := getPlayground(t, srv.URL+"/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200:\n%s", res.StatusCode, page)
	}
	if ct := res.Header.Get("Content-Type"); !strings.EqualFold(ct, "text/html; charset=utf-8") {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	for _, cdn := range []string{"jsdelivr", "unpkg", "cdnjs", "http://", "https://"} {
		if strings.Contains(page, cdn) {
			t.Errorf("page mentions %q:\n%s", cdn, page)
		}
	}
	var refs []string // every script src and stylesheet href
	assetRefs := regexp.MustCompile(`<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]*)"`)
	for _, m := range assetRefs.FindAllStringSubmatch(page, -1) {
		refs = append(refs, m[1])
	}
	if len(refs) != 4 { // react, react-dom, graphiql's script and its stylesheet
		t.Fatalf("page references %d assets, want 4: %q", len(refs), refs)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, GraphiQLStatic) {
			t.Errorf("asset %q is not under %s", ref, GraphiQLStatic)
		}
	}
	for _, ref := range refs {
		t.Run(path.Base(ref), func(t *testing.T) {
			t.Parallel()
			res, body := getPlayground(t, srv.URL+ref, nil)
			if res.StatusCode != http.StatusOK || body == "" {
				t.Fatalf("GET %s = %d with %d bytes, want 200 and the file", ref, res.StatusCode, len(body))
			}
			want := map[string]string{
				".js":  "text/javascript; charset=utf-8",
				".css": "text/css; charset=utf-8",
			}[path.Ext(ref)]
			if ct := res.Header.Get("Content-Type"); ct != want {
				t.Errorf("Content-Type = %q, want %q", ct, want)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("Cache-Control = %q, want a long-lived immutable asset", cc)
			}
			if nosniff := res.Header.Get("X-Content-Type-Options"); nosniff != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", nosniff)
			}
		})
	}
}

// The scripts define the globals the page's own script uses.
func TestPlayground_scriptsDefineTheGlobalsThePageUses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewPlayground("/graphql"))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ asset, defines string }{
		{reactJS, "c.React={}"},
		{reactDOMJS, "Q.ReactDOM={}"},
		{graphiqlJS, ").GraphiQL=t(e.React,e.ReactDOM)"},
		{reactDOMJS, "Q.createRoot="},
		{graphiqlJS, "createFetcher:"},
	} {
		_, body := getPlayground(t, srv.URL+GraphiQLStatic+tc.asset, nil)
		if !strings.Contains(body, tc.defines) {
			t.Errorf("%s does not contain %q", tc.asset, tc.defines)
		}
	}
}

func TestPlayground_pageQueriesTheEndpointAndTellsHowToSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ endpoint, want string }{
		{"/graphql", `new URL("/graphql", location.href)`},
		{"https://herald.example.com/graphql", `new URL("https://herald.example.com/graphql", location.href)`},
		{`/x"</script>`, `new URL("/x\"\u003c/script\u003e", location.href)`}, // stays a string
	} {
		srv := httptest.NewServer(NewPlayground(tc.endpoint))
		_, page := getPlayground(t, srv.URL+"/", nil)
		srv.Close()
		if !strings.Contains(page, tc.want) {
			t.Errorf("page for endpoint %q lacks %s:\n%s", tc.endpoint, tc.want, page)
		}
		for _, want := range []string{"isHeadersEditorEnabled: true", "subscriptionUrl", `Bearer hrld_...`, "Basic ", "herald account token issue"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	}
}

func TestPlayground_unknownAssetIsNotFound(t *testing.T) {
	t.Parallel()
	h := NewPlayground("/graphql")
	for _, p := range []string{
		GraphiQLStatic + "nope.js",
		GraphiQLStatic + "graphiql-0.0.1/graphiql.min.js",
		GraphiQLStatic + "graphiql-4.1.2",
		GraphiQLStatic + "graphiql-4.1.2/",
		GraphiQLStatic,
		GraphiQLStatic + "../page.html",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
		if strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: a 404 is cached for good", p)
		}
	}
}

func TestPlayground_assetRevalidatesWithItsETag(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewPlayground("/graphql"))
	t.Cleanup(srv.Close)
	res, _ := getPlayground(t, srv.URL+GraphiQLStatic+graphiqlJS, nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res, body := getPlayground(t, srv.URL+GraphiQLStatic+graphiqlJS, http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("GET with If-None-Match = %d with %d bytes, want 304 and none", res.StatusCode, len(body))
	}
}

func TestPlayground_refusesMethodsOtherThanGetAndHead(t *testing.T) {
	t.Parallel()
	h := NewPlayground("/graphql")
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodHead, GraphiQLStatic + reactJS, http.StatusOK},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPut, GraphiQLStatic + reactJS, http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

// The page runs only herald's own scripts: its one inline script and style are allowed by
// their hashes, which must be those of the page as served, or GraphiQL stays on "Loading…".
func TestPlayground_pageHasAContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewPlayground("/graphql"))
	t.Cleanup(srv.Close)
	res, page := getPlayground(t, srv.URL+"/", nil)
	for header, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	inline := func(tag string) string {
		m := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(page, -1)
		if len(m) != 1 {
			t.Fatalf("page has %d inline <%s> elements, want 1", len(m), tag)
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	for name, want := range map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self' " + inline("script"),
		"style-src":       "'self' " + inline("style"),
		"img-src":         "'self' data:", // GraphiQL's stylesheet has data: images and fonts
		"font-src":        "'self' data:",
		"connect-src":     "'self' ws://" + res.Request.Host + " wss://" + res.Request.Host, // 'self' covers ws: in CSP 3 only
		"base-uri":        "'none'",
		"form-action":     "'none'",
		"frame-ancestors": "'none'",
	} {
		if got, ok := directives[name]; !ok || got != want {
			t.Errorf("Content-Security-Policy %s = %q, want %q\n%s", name, got, want, csp)
		}
	}
	if len(directives) != 9 {
		t.Errorf("Content-Security-Policy has %d directives, want 9: %s", len(directives), csp)
	}
}

// The page's own websocket origin is named from the request's Host, and only a Host that is
// a host name or address with a port: anything else could add sources or directives.
func TestPlayground_policyNamesThePagesOwnWebsocketOrigin(t *testing.T) {
	t.Parallel()
	for host, connect := range map[string]string{
		"herald.example.com:8228":    "connect-src 'self' ws://herald.example.com:8228 wss://herald.example.com:8228;",
		"[::1]:8228":                 "connect-src 'self' ws://[::1]:8228 wss://[::1]:8228;",
		"evil.example; script-src *": "connect-src 'self';",
		"a.example *":                "connect-src 'self';",
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		NewPlayground("/graphql").ServeHTTP(rec, req)
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, connect) || strings.Count(csp, "script-src") != 1 {
			t.Errorf("Host %q: Content-Security-Policy lacks %q: %s", host, connect, csp)
		}
	}
}

// An absolute endpoint is another origin: the page may query it and open its websocket.
func TestPlayground_policyLetsThePageReachAnAbsoluteEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ endpoint, connect string }{
		{"https://herald.example.com/graphql", "connect-src 'self' https://herald.example.com wss://herald.example.com ws://ui.example wss://ui.example;"},
		{"http://127.0.0.1:8228/graphql", "connect-src 'self' http://127.0.0.1:8228 ws://127.0.0.1:8228 ws://ui.example wss://ui.example;"},
	} {
		rec := httptest.NewRecorder()
		NewPlayground(tc.endpoint).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://ui.example/", nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, tc.connect) {
			t.Errorf("endpoint %s: Content-Security-Policy lacks %q: %s", tc.endpoint, tc.connect, csp)
		}
	}
	for _, endpoint := range []string{"https://a.example;script-src *", "ftp://herald.example.com/graphql"} {
		rec := httptest.NewRecorder()
		NewPlayground(endpoint).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("endpoint %q: GET / = %d, want 500 (no policy could name it)", endpoint, rec.Code)
		}
	}
}

// serveGet serves one request with the handler, as a client sending acceptEncoding (none if "").
func serveGet(h http.Handler, target, acceptEncoding string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPlayground_assetsGoGzippedToClientsThatAcceptIt(t *testing.T) {
	t.Parallel()
	h := NewPlayground("/graphql")
	for _, asset := range []string{graphiqlJS, graphiqlCSS, reactJS, reactDOMJS, "graphiql-4.1.2/LICENSE"} {
		t.Run(path.Base(asset), func(t *testing.T) {
			t.Parallel()
			embedded, err := graphiqlFS.ReadFile(graphiqlStaticDir + "/" + asset)
			if err != nil {
				t.Fatal(err)
			}
			identity := serveGet(h, GraphiQLStatic+asset, "", nil)
			if identity.Code != http.StatusOK || !bytes.Equal(identity.Body.Bytes(), embedded) {
				t.Fatalf("GET without Accept-Encoding = %d with %d bytes, want 200 and the %d bytes of the file", identity.Code, identity.Body.Len(), len(embedded))
			}
			if ce := identity.Header().Get("Content-Encoding"); ce != "" {
				t.Errorf("GET without Accept-Encoding: Content-Encoding = %q, want none", ce)
			}
			gz := serveGet(h, GraphiQLStatic+asset, "gzip, deflate, br", nil)
			if gz.Code != http.StatusOK || gz.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("GET with gzip = %d, Content-Encoding %q; want 200 and gzip", gz.Code, gz.Header().Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(gz.Body)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(decoded, embedded) {
				t.Errorf("gzip variant decodes to %d bytes that differ from the file's %d", len(decoded), len(embedded))
			}
			if gz.Body.Len() >= len(embedded) {
				t.Errorf("gzip variant has %d bytes, the file %d", gz.Body.Len(), len(embedded))
			}
			for _, rec := range []*httptest.ResponseRecorder{identity, gz} {
				if vary := rec.Header().Get("Vary"); vary != "Accept-Encoding" {
					t.Errorf("Vary = %q, want Accept-Encoding", vary)
				}
				if ct := rec.Header().Get("Content-Type"); ct != contentType(asset) {
					t.Errorf("Content-Type = %q, want %q", ct, contentType(asset))
				}
			}
			idTag, gzTag := identity.Header().Get("ETag"), gz.Header().Get("ETag")
			if idTag == "" || gzTag == "" || idTag == gzTag {
				t.Errorf("ETags %q (identity) and %q (gzip), want two different ones", idTag, gzTag)
			}
		})
	}
}

// A cache revalidates each variant with its own ETag; the other variant's ETag does not match.
func TestPlayground_eachVariantRevalidatesWithItsETag(t *testing.T) {
	t.Parallel()
	h := NewPlayground("/graphql")
	asset := GraphiQLStatic + graphiqlJS
	idTag := serveGet(h, asset, "", nil).Header().Get("ETag")
	gzTag := serveGet(h, asset, "gzip", nil).Header().Get("ETag")
	for _, tc := range []struct {
		acceptEncoding, ifNoneMatch string
		want                        int
	}{
		{"", idTag, http.StatusNotModified},
		{"identity", idTag, http.StatusNotModified},
		{"gzip", gzTag, http.StatusNotModified},
		{"gzip", idTag + ", " + gzTag, http.StatusNotModified},
		{"gzip", idTag, http.StatusOK},
		{"", gzTag, http.StatusOK},
	} {
		rec := serveGet(h, asset, tc.acceptEncoding, http.Header{"If-None-Match": {tc.ifNoneMatch}})
		if rec.Code != tc.want {
			t.Errorf("Accept-Encoding %q, If-None-Match %s: %d, want %d", tc.acceptEncoding, tc.ifNoneMatch, rec.Code, tc.want)
		}
		if rec.Code == http.StatusNotModified && (rec.Body.Len() != 0 || rec.Header().Get("Vary") != "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: 304 with %d bytes and Vary %q, want none and Accept-Encoding", tc.acceptEncoding, rec.Body.Len(), rec.Header().Get("Vary"))
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		acceptEncoding string
		want           bool
	}{
		{"gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"GZip", true},
		{"x-gzip", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"deflate, *;q=0.1", true},
		{"", false},
		{"identity", false},
		{"deflate, br", false},
		{"gzip;q=0", false},
		{"gzip;q=0.000", false},
		{"gzip;q=zero", false},
		{"*;q=0", false},
		{"*, gzip;q=0", false},
	} {
		h := http.Header{}
		if tc.acceptEncoding != "" {
			h.Set("Accept-Encoding", tc.acceptEncoding)
		}
		if got := acceptsGzip(h); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.acceptEncoding, got, tc.want)
		}
	}
}
