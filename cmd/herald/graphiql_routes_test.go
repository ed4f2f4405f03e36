package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// httpGet GETs url and returns the response with its body read.
func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
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

// GraphiQL at / loads its scripts and styles from herald itself, without credentials, so
// that it works where herald has no internet access.
func TestGraphiQL_servedWithItsAssetsWithoutCredentials(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	get := func(path string) (*http.Response, string) { t.Helper(); return httpGet(t, app.url+path) }
	res, page := get("/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.StatusCode)
	}
	refs := regexp.MustCompile(`<(?:script[^>]*\ssrc|link[^>]*\shref)="(/[^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 4 {
		t.Fatalf("page references %d local assets, want 4:\n%s", len(refs), page)
	}
	for _, ref := range refs {
		if res, body := get(ref[1]); res.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s = %d with %d bytes, want 200 and the file", ref[1], res.StatusCode, len(body))
		}
	}
}

// The page and its files are counted under their routes, never under a file's path: the
// label's values stay few whatever is asked for under /graphiql/static/.
func TestGraphiQL_requestsCountedUnderTheirRoutes(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	for _, path := range []string{
		"/",
		"/graphiql/static/react-18.3.1/react.production.min.js",
		"/graphiql/static/graphiql-4.1.2/graphiql.min.css",
		"/graphiql/static/no-such-file-" + t.Name() + ".js",
	} {
		res, err := http.Get(app.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	_, metrics := httpGet(t, app.url+"/metrics")
	for _, want := range []string{
		`herald_http_request_seconds_count{code="200",path="/"} 1`,
		`herald_http_request_seconds_count{code="200",path="/graphiql/static/"} 2`,
		`herald_http_request_seconds_count{code="404",path="/graphiql/static/"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "herald_http_request_seconds_count"))
		}
	}
	if strings.Contains(metrics, "react.production") || strings.Contains(metrics, "no-such-file") {
		t.Errorf("/metrics labels a file's path:\n%s", grepLines(metrics, "herald_http_request_seconds_count"))
	}
}

// Through herald's routes, the page comes with its security headers and the files gzipped.
func TestGraphiQL_pageHasItsPolicyAndFilesComeGzipped(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	res, err := http.Get(app.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("GET / Content-Security-Policy = %q", csp)
	}
	req, err := http.NewRequest(http.MethodGet, app.url+"/graphiql/static/graphiql-4.1.2/graphiql.min.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip") // set by hand, so the client does not decode
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("GET graphiql.min.js with gzip = %d, Content-Encoding %q, Vary %q; want 200, gzip, Accept-Encoding",
			res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
}
