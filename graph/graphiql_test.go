package graph

import (
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
